package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/rules"
)

// startFromPinner pins a FlinkApplication's startFromSavepoint that names a
// DetachedSavepoint by name to that DetachedSavepoint's uid, as the
// requesting user reads it: a DetachedSavepoint's name is global, and one
// deleted (its name released) can be imported again by anyone with another
// path. The controllers then start only from the object admission resolved
// (rules.ResolveStartFromSavepoint), never from another of its name. Only
// spec.job.startFromSavepoint.uid is written, on the raw object, so that no
// field our types do not know is lost; the validating webhook judges the
// reference after this one.
type startFromPinner struct {
	decoder admission.Decoder
	lookups *lookups
	access  *access
}

func (p *startFromPinner) Handle(ctx context.Context, req admission.Request) admission.Response {
	if cmfv1.ParentKind(req.Kind.Kind) != cmfv1.ParentApplication || (req.Operation != admissionv1.Create && req.Operation != admissionv1.Update) {
		return admission.Allowed("")
	}
	app, old := &cmfv1.FlinkApplication{}, &cmfv1.FlinkApplication{}
	if err := p.decoder.DecodeRaw(req.Object, app); err != nil {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("decode FlinkApplication: %w", err))
	}
	if len(req.OldObject.Raw) > 0 {
		if err := p.decoder.DecodeRaw(req.OldObject, old); err != nil {
			return admission.Errored(http.StatusBadRequest, fmt.Errorf("decode old FlinkApplication: %w", err))
		}
	}
	ref, was := app.StartFrom(), old.StartFrom()
	if ref == nil || ref.UID == "" && ref.SavepointName == "" {
		return admission.Allowed("")
	}
	// The pin of the name the reference had, left behind by a merge patch
	// or kubectl apply that changed only the name or the path.
	stale := was != nil && was.SavepointName != "" && was.UID == ref.UID && was.SavepointName != ref.SavepointName
	var uid string
	switch {
	case ref.InitialSavepointPath != "" && stale:
		// A path now: the pin goes (uid and initialSavepointPath exclude
		// each other).
	case ref.InitialSavepointPath != "" || ref.SavepointName == "":
		return admission.Allowed("")
	case ref.UID != "" && !stale:
		// Pinned already, or written with the name by the user: the
		// validation checks that they agree.
		return admission.Allowed("")
	default:
		// No uid, or the name changed: resolve the name.
		var err error
		if uid, err = rules.PinnedUID(ctx, readableAs(p.lookups, p.access, req), cmfv1.ParentApplication, req.Namespace, ref); err != nil {
			return admission.Errored(http.StatusInternalServerError, err)
		}
	}
	if uid == ref.UID {
		return admission.Allowed("")
	}
	raw := map[string]any{}
	if err := json.Unmarshal(req.Object.Raw, &raw); err != nil {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("decode FlinkApplication: %w", err))
	}
	path := []string{"spec", "job", "startFromSavepoint", "uid"}
	if uid == "" {
		unstructured.RemoveNestedField(raw, path...)
	} else if err := unstructured.SetNestedField(raw, uid, path...); err != nil {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("spec.job.startFromSavepoint: %w", err))
	}
	pinned, err := json.Marshal(raw)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	return admission.PatchResponseFromRaw(req.Object.Raw, pinned)
}

// readableAs is lookups as the requesting user sees DetachedSavepoints: one
// of another namespace only if the user may get it there, so that neither a
// denial, a dry run nor a pinned uid reveals one they may not read.
func readableAs(l *lookups, a *access, req admission.Request) rules.Lookup {
	return rules.Readable{Lookup: l, Namespace: req.Namespace, MayRead: func(ctx context.Context, dsp *cmfv1.DetachedSavepoint) (bool, error) {
		ok, err := a.may(ctx, req.UserInfo, "get", "detachedsavepoints", dsp.Namespace, dsp.Name)
		if err != nil {
			// The error names the DetachedSavepoint: log it, answer without it.
			logf.FromContext(ctx).Error(err, "check access to a DetachedSavepoint", "user", req.UserInfo.Username)
			return false, errors.New("the requester's access to a DetachedSavepoint could not be checked; retry")
		}
		return ok, nil
	}}
}
