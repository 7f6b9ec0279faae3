package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/rules"
)

// detachedValidator enforces the rules of a DetachedSavepoint: its name is
// unique across namespaces; a detach (spec.source) names, with its uid, a
// COMPLETED savepoint of an application at the same path, which the user
// may update and read; and spec.source is fixed at creation.
type detachedValidator struct {
	decoder admission.Decoder
	lookups *lookups
	access  *access
	claims  *claims
}

func (v *detachedValidator) Handle(ctx context.Context, req admission.Request) admission.Response {
	switch req.Operation {
	case admissionv1.Delete:
		var dsp cmfv1.DetachedSavepoint
		if err := v.decoder.DecodeRaw(req.OldObject, &dsp); err != nil {
			return admission.Errored(http.StatusBadRequest, fmt.Errorf("decode DetachedSavepoint: %w", err))
		}
		// CMF (Confluent Manager for Apache Flink) only advises here: say so, do not deny.
		return admission.Allowed("").WithWarnings(fmt.Sprintf(
			"DetachedSavepoint %s: deleting it keeps the savepoint data at %s; delete the data yourself if no job needs it", dsp.Name, dsp.Spec.Path))
	case admissionv1.Update:
		return v.validateUpdate(req)
	case admissionv1.Create:
	default:
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
			return v.denyClaim(ctx, req, denial)
		}
		return admission.Errored(http.StatusInternalServerError, err)
	}
	return admission.Allowed("")
}

// denyClaim words a taken name's denial: the namespace that holds it only
// for a requester who may read that DetachedSavepoint there.
func (v *detachedValidator) denyClaim(ctx context.Context, req admission.Request, denial *claimDenied) admission.Response {
	ok, err := v.access.may(ctx, req.UserInfo, "get", "detachedsavepoints", denial.namespace, denial.name)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, errors.New("the name is taken; whether the requester may read where could not be checked: retry"))
	}
	if !ok {
		return admission.Denied(denial.message("another namespace"))
	}
	return admission.Denied(denial.Error())
}

// validateUpdate refuses adding, removing or changing spec.source: a
// source added later would make the manager remove the named Savepoint as
// if detached, without any of a detach's checks. The CRD refuses it too;
// this holds where a CRD's transition rules do not run.
func (v *detachedValidator) validateUpdate(req admission.Request) admission.Response {
	var dsp, old cmfv1.DetachedSavepoint
	if err := v.decoder.DecodeRaw(req.Object, &dsp); err != nil {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("decode DetachedSavepoint: %w", err))
	}
	if err := v.decoder.DecodeRaw(req.OldObject, &old); err != nil {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("decode old DetachedSavepoint: %w", err))
	}
	if !equality.Semantic.DeepEqual(dsp.Spec.Source, old.Spec.Source) {
		return admission.Denied(fmt.Sprintf("DetachedSavepoint %s: spec.source cannot be added, removed or changed after creation: to detach a savepoint, create a new DetachedSavepoint with its source (kubectl savepoint detach)", dsp.Name))
	}
	return admission.Allowed("")
}

// validateDetach checks a DetachedSavepoint with a source: a detach, allowed
// only for a COMPLETED savepoint of a FlinkApplication, named with its uid
// and path, by a user who may update that application and read the
// savepoint. The user's rights are checked before the savepoint is read:
// until then a denial names only what the request itself wrote, so neither
// an answer nor a dry run tells another namespace's savepoint path, uid,
// state or parent to someone who may not read them.
func (v *detachedValidator) validateDetach(ctx context.Context, req admission.Request, dsp *cmfv1.DetachedSavepoint) admission.Response {
	src := dsp.Spec.Source
	prefix := fmt.Sprintf("DetachedSavepoint %s: spec.source", dsp.Name)
	if src.UID == "" {
		return admission.Denied(fmt.Sprintf("%s.uid is required: set it to the metadata.uid of Savepoint %s (kubectl savepoint detach %s -n %s sets it)", prefix, src.SavepointName, src.SavepointName, src.Namespace))
	}
	ok, err := v.access.allowed(ctx, req.UserInfo, "update", cmfv1.ParentApplication, src.Namespace, src.Application)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	if !ok {
		return admission.Denied(fmt.Sprintf("%s: user %q may not update FlinkApplication %s in namespace %s, which detaching its savepoints needs: ask for update on flinkapplications there",
			prefix, req.UserInfo.Username, src.Application, src.Namespace))
	}
	if ok, err = v.access.may(ctx, req.UserInfo, "get", "savepoints", src.Namespace, src.SavepointName); err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	if !ok {
		return admission.Denied(fmt.Sprintf("%s: user %q may not get Savepoint %s in namespace %s, which detaching it needs: ask for get on savepoints there",
			prefix, req.UserInfo.Username, src.SavepointName, src.Namespace))
	}

	// From here on the user may read what the denials say.
	sp, err := v.lookups.Savepoint(ctx, src.Namespace, src.SavepointName)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	if sp == nil {
		return admission.Denied(fmt.Sprintf("%s names Savepoint %s in namespace %s, which does not exist: list the application's savepoints with kubectl savepoint list -n %s -a %s",
			prefix, src.SavepointName, src.Namespace, src.Namespace, src.Application))
	}
	if src.UID != string(sp.UID) {
		return admission.Denied(fmt.Sprintf("%s.uid %s is not the uid of Savepoint %s (%s): the savepoint was replaced; detach the current one", prefix, src.UID, sp.Name, sp.UID))
	}
	if err := rules.CanDetach(sp); err != nil {
		return admission.Denied(prefix + ": " + err.Error())
	}
	if kind, parent := sp.Parent(); kind != cmfv1.ParentApplication || parent != src.Application {
		return admission.Denied(fmt.Sprintf("%s.application is %q but Savepoint %s belongs to %s %s: set spec.source.application: %s",
			prefix, src.Application, sp.Name, kind, parent, parent))
	}
	if dsp.Spec.Path != sp.Status.Path {
		return admission.Denied(fmt.Sprintf("DetachedSavepoint %s: spec.path %q is not the path of Savepoint %s: set spec.path: %q",
			dsp.Name, dsp.Spec.Path, sp.Name, sp.Status.Path))
	}
	return admission.Allowed("")
}
