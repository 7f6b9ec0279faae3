package webhook

import (
	"context"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/rules"
)

// detachedValidator enforces the rules of a DetachedSavepoint: its name is
// unique across namespaces, and a detach (spec.source) names a COMPLETED
// savepoint of an application at the same path, which the user may update.
type detachedValidator struct {
	decoder admission.Decoder
	lookups *lookups
	access  *access
	claims  *claims
}

func (v *detachedValidator) Handle(ctx context.Context, req admission.Request) admission.Response {
	if req.Operation == admissionv1.Delete {
		var dsp cmfv1.DetachedSavepoint
		if err := v.decoder.DecodeRaw(req.OldObject, &dsp); err != nil {
			return admission.Errored(http.StatusBadRequest, fmt.Errorf("decode DetachedSavepoint: %w", err))
		}
		// CMF (Confluent Manager for Apache Flink) only advises here: say so, do not deny.
		return admission.Allowed("").WithWarnings(fmt.Sprintf(
			"DetachedSavepoint %s: deleting it keeps the savepoint data at %s; delete the data yourself if no job needs it", dsp.Name, dsp.Spec.Path))
	}
	if req.Operation != admissionv1.Create {
		return admission.Allowed("")
	}
	var dsp cmfv1.DetachedSavepoint
	if err := v.decoder.DecodeRaw(req.Object, &dsp); err != nil {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("decode DetachedSavepoint: %w", err))
	}
	if dsp.Name == "" {
		// generateName: the API server names it after admission, so the name
		// cannot be claimed here.
		return admission.Denied("DetachedSavepoint: metadata.generateName is not supported: names are unique across namespaces, so give metadata.name")
	}
	if dsp.Spec.Source != nil {
		if resp := v.validateDetach(ctx, req, &dsp); !resp.Allowed {
			return resp
		}
	}
	dryRun := req.DryRun != nil && *req.DryRun
	if err := v.claims.claim(ctx, req.Namespace, dsp.Name, dryRun); err != nil {
		if denial, ok := err.(*claimDenied); ok {
			return admission.Denied(denial.Error())
		}
		return admission.Errored(http.StatusInternalServerError, err)
	}
	return admission.Allowed("")
}

// validateDetach checks a DetachedSavepoint with a source: a detach, allowed
// only for a COMPLETED savepoint of a FlinkApplication, by a user who may
// update that application.
func (v *detachedValidator) validateDetach(ctx context.Context, req admission.Request, dsp *cmfv1.DetachedSavepoint) admission.Response {
	src := dsp.Spec.Source
	prefix := fmt.Sprintf("DetachedSavepoint %s: spec.source", dsp.Name)
	sp, err := v.lookups.Savepoint(ctx, src.Namespace, src.SavepointName)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	if sp == nil {
		return admission.Denied(fmt.Sprintf("%s names Savepoint %s in namespace %s, which does not exist: list the application's savepoints with kubectl savepoint list -n %s -a %s",
			prefix, src.SavepointName, src.Namespace, src.Namespace, src.Application))
	}
	if err := rules.CanDetach(sp); err != nil {
		return admission.Denied(prefix + ": " + err.Error())
	}
	if kind, parent := sp.Parent(); kind != cmfv1.ParentApplication || parent != src.Application {
		return admission.Denied(fmt.Sprintf("%s.application is %q but Savepoint %s belongs to %s %s: set spec.source.application: %s",
			prefix, src.Application, sp.Name, kind, parent, parent))
	}
	if src.UID != "" && src.UID != string(sp.UID) {
		return admission.Denied(fmt.Sprintf("%s.uid %s is not the uid of Savepoint %s (%s): the savepoint was replaced; detach the current one", prefix, src.UID, sp.Name, sp.UID))
	}
	if dsp.Spec.Path != sp.Status.Path {
		return admission.Denied(fmt.Sprintf("DetachedSavepoint %s: spec.path %q is not the path of Savepoint %s: set spec.path: %q",
			dsp.Name, dsp.Spec.Path, sp.Name, sp.Status.Path))
	}
	ok, err := v.access.allowed(ctx, req.UserInfo, "update", cmfv1.ParentApplication, src.Namespace, src.Application)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	if !ok {
		return admission.Denied(fmt.Sprintf("DetachedSavepoint %s: user %q may not update FlinkApplication %s in namespace %s, which detaching its Savepoint %s needs: ask for update on flinkapplications there",
			dsp.Name, req.UserInfo.Username, src.Application, src.Namespace, sp.Name))
	}
	return admission.Allowed("")
}
