package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/schedule"
)

// policyValidator enforces the rules of a SavepointPolicy: its schedule,
// time zones, windows and selector can be read, and its author may do
// what the manager will do for them. A policy that schedules (or is run)
// makes savepoints of its parents, which needs update on each; one with
// retention deletes them, which needs delete; a selector or a namespace
// default covers every parent of the namespace, so it needs the right on
// all of them.
type policyValidator struct {
	decoder     admission.Decoder
	access      *access
	managerUser string
}

func (v *policyValidator) Handle(ctx context.Context, req admission.Request) admission.Response {
	var p cmfv1.SavepointPolicy
	if err := v.decoder.DecodeRaw(req.Object, &p); err != nil {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("decode SavepointPolicy: %w", err))
	}
	if _, err := schedule.Parse(&p.Spec); err != nil && !errors.Is(err, schedule.ErrNoSchedule) {
		return admission.Denied(fmt.Sprintf("SavepointPolicy %s: %v", p.Name, err))
	}
	if p.Spec.Parents != nil && p.Spec.Parents.Selector != nil {
		if _, err := metav1.LabelSelectorAsSelector(p.Spec.Parents.Selector); err != nil {
			return admission.Denied(fmt.Sprintf("SavepointPolicy %s: spec.parents.selector: %v: write matchLabels or matchExpressions as for a Deployment", p.Name, err))
		}
	}
	if req.UserInfo.Username == v.managerUser && v.managerUser != "" {
		return admission.Allowed("")
	}
	var old *cmfv1.SavepointPolicy
	if req.Operation == admissionv1.Update {
		old = &cmfv1.SavepointPolicy{}
		if err := v.decoder.DecodeRaw(req.OldObject, old); err != nil {
			return admission.Errored(http.StatusBadRequest, fmt.Errorf("decode old SavepointPolicy: %w", err))
		}
	}
	for _, need := range policyNeeds(&p, old) {
		for _, target := range policyTargets(&p) {
			ok, err := v.access.allowed(ctx, req.UserInfo, need.verb, target.kind, req.Namespace, target.name)
			if err != nil {
				return admission.Errored(http.StatusInternalServerError, err)
			}
			if !ok {
				what := fmt.Sprintf("%s %s", target.kind, target.name)
				if target.name == "" {
					what = "every " + string(target.kind) + " of the namespace (it has a selector or covers the namespace)"
				}
				return admission.Denied(fmt.Sprintf("SavepointPolicy %s: %s, which needs %s on %s: user %q may not; ask for %s on %s in namespace %s, or name only parents you may %s in spec.parents",
					p.Name, need.why, need.verb, what, req.UserInfo.Username, need.verb, target.kind.Resource(), req.Namespace, need.verb))
			}
		}
	}
	return admission.Allowed("")
}

type policyNeed struct{ verb, why string }

// policyNeeds are the rights a create or change of p needs: only for what
// it newly asks the manager to do, so that editing a description of an
// existing policy needs no more than before.
func policyNeeds(p, old *cmfv1.SavepointPolicy) []policyNeed {
	var needs []policyNeed
	changedTargets := old == nil || !equalTargets(p, old)
	runs := p.Spec.Schedule != "" && (changedTargets || old.Spec.Schedule == "" || !equality.Semantic.DeepEqual(p.Spec.Template, old.Spec.Template))
	request := p.Annotations[cmfv1.RunRequestAnnotation]
	if request != "" && (old == nil || old.Annotations[cmfv1.RunRequestAnnotation] != request) {
		runs = true
	}
	if runs {
		needs = append(needs, policyNeed{"update", "it makes savepoints of its parents (spec.schedule or a run request)"})
	}
	if p.Spec.Retention != nil && (changedTargets || old.Spec.Retention == nil || !equality.Semantic.DeepEqual(p.Spec.Retention, old.Spec.Retention)) {
		needs = append(needs, policyNeed{"delete", "its spec.retention deletes savepoints of its parents"})
	}
	return needs
}

type policyTarget struct {
	kind cmfv1.ParentKind
	name string // "" for every one of the namespace
}

// policyTargets are the parents p may cover: by name, or all of a kind.
func policyTargets(p *cmfv1.SavepointPolicy) []policyTarget {
	if p.NamespaceDefault() || p.Spec.Parents.Selector != nil {
		return []policyTarget{{cmfv1.ParentApplication, ""}, {cmfv1.ParentStatement, ""}}
	}
	var out []policyTarget
	for _, n := range p.Spec.Parents.Applications {
		out = append(out, policyTarget{cmfv1.ParentApplication, n})
	}
	for _, n := range p.Spec.Parents.Statements {
		out = append(out, policyTarget{cmfv1.ParentStatement, n})
	}
	return out
}

func equalTargets(a, b *cmfv1.SavepointPolicy) bool {
	ta, tb := policyTargets(a), policyTargets(b)
	return slices.EqualFunc(ta, tb, func(x, y policyTarget) bool { return x == y }) &&
		selectorString(a) == selectorString(b)
}

func selectorString(p *cmfv1.SavepointPolicy) string {
	if p.Spec.Parents == nil || p.Spec.Parents.Selector == nil {
		return ""
	}
	return p.Spec.Parents.Selector.String()
}

// namespaceDefault is the namespace's default SavepointPolicy (no parents;
// the oldest of several), or nil.
func namespaceDefault(ctx context.Context, reader client.Reader, namespace string) (*cmfv1.SavepointPolicy, error) {
	var list cmfv1.SavepointPolicyList
	if err := reader.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("list SavepointPolicies of %s: %w", namespace, err)
	}
	var best *cmfv1.SavepointPolicy
	for i := range list.Items {
		p := &list.Items[i]
		if !p.NamespaceDefault() || !p.DeletionTimestamp.IsZero() {
			continue
		}
		if best == nil || p.CreationTimestamp.Before(&best.CreationTimestamp) ||
			(p.CreationTimestamp.Equal(&best.CreationTimestamp) && strings.Compare(p.Name, best.Name) < 0) {
			best = p
		}
	}
	return best, nil
}
