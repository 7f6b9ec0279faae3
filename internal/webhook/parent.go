package webhook

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/rules"
)

// parentValidator enforces the rules of FlinkApplications and Statements: no
// deletion while savepoints are attached, and a startFromSavepoint that names
// a savepoint the parent may start from.
type parentValidator struct {
	decoder admission.Decoder
	lookups *lookups
}

func (v *parentValidator) Handle(ctx context.Context, req admission.Request) admission.Response {
	kind := cmfv1.ParentKind(req.Kind.Kind)
	if kind != cmfv1.ParentApplication && kind != cmfv1.ParentStatement {
		return admission.Allowed("")
	}
	switch req.Operation {
	case admissionv1.Delete:
		return v.validateDelete(ctx, kind, req.Namespace, req.Name)
	case admissionv1.Create, admissionv1.Update:
		ref, oldRef, err := v.startFromSavepoint(req, kind)
		if err != nil {
			return admission.Errored(http.StatusBadRequest, err)
		}
		if ref == nil || (req.Operation == admissionv1.Update && equality.Semantic.DeepEqual(ref, oldRef)) {
			// Unchanged references are not judged again: the savepoint may
			// have been deleted since, and that must not block other edits.
			return admission.Allowed("")
		}
		if _, err := rules.ResolveStartFromSavepoint(ctx, v.lookups, kind, req.Namespace, req.Name, ref); err != nil {
			return admission.Denied(fmt.Sprintf("%s %s: %v", kind, req.Name, err))
		}
	}
	return admission.Allowed("")
}

// startFromSavepoint decodes the new and the old reference of the request.
func (v *parentValidator) startFromSavepoint(req admission.Request, kind cmfv1.ParentKind) (ref, old *cmfv1.StartFromSavepoint, err error) {
	decode := func(raw []byte) (*cmfv1.StartFromSavepoint, error) {
		if len(raw) == 0 {
			return nil, nil
		}
		if kind == cmfv1.ParentStatement {
			var stmt cmfv1.Statement
			if err := v.decoder.DecodeRaw(rawExtension(raw), &stmt); err != nil {
				return nil, fmt.Errorf("decode Statement: %w", err)
			}
			return stmt.Spec.StartFromSavepoint, nil
		}
		var app cmfv1.FlinkApplication
		if err := v.decoder.DecodeRaw(rawExtension(raw), &app); err != nil {
			return nil, fmt.Errorf("decode FlinkApplication: %w", err)
		}
		if app.Spec.Job == nil {
			return nil, nil
		}
		return app.Spec.Job.StartFromSavepoint, nil
	}
	if ref, err = decode(req.Object.Raw); err != nil {
		return nil, nil, err
	}
	if old, err = decode(req.OldObject.Raw); err != nil {
		return nil, nil, err
	}
	return ref, old, nil
}

// validateDelete denies deleting a parent while savepoints are attached.
func (v *parentValidator) validateDelete(ctx context.Context, kind cmfv1.ParentKind, namespace, name string) admission.Response {
	attached, err := v.lookups.attachedLive(ctx, kind, namespace, name)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	if len(attached) == 0 {
		return admission.Allowed("")
	}
	names := make([]string, 0, maxSavepointsListedInDenial)
	for i, sp := range attached {
		if i == maxSavepointsListedInDenial {
			names = append(names, fmt.Sprintf("and %d more", len(attached)-i))
			break
		}
		names = append(names, sp.Name)
	}
	return admission.Denied(fmt.Sprintf("%s %s cannot be deleted while %d savepoint(s) are attached (%s): delete them, or detach them (applications only)",
		kind, name, len(attached), strings.Join(names, ", ")))
}
