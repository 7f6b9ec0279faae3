package rules

import (
	"cmp"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

// How specifically a SavepointPolicy covers a parent; more is more specific.
const (
	notCovered = iota
	byNamespace
	bySelector
	byName
)

// PolicyFor returns the SavepointPolicy that applies to the parent of that
// kind, name and labels among policies (the policies of the parent's
// namespace), or nil when none covers it. The most specific policy wins: one
// that names the parent in spec.parents, then one whose selector matches its
// labels, then a namespace default (no parents). Among equally specific ones
// the oldest (creationTimestamp, then name) wins, and tied names the others,
// oldest first, so that each can say so in a Conflict condition; tied is nil
// when there is no tie.
//
// The caller passes the policies it wants considered (e.g. leaves out one
// being deleted). A selector that does not parse covers nothing: admission
// refuses one.
func PolicyFor(policies []cmfv1.SavepointPolicy, kind cmfv1.ParentKind, name string, parentLabels map[string]string) (winner *cmfv1.SavepointPolicy, tied []string) {
	best := notCovered
	var level []*cmfv1.SavepointPolicy
	for i := range policies {
		p := &policies[i]
		s := coverage(p, kind, name, parentLabels)
		switch {
		case s == notCovered || s < best:
			continue
		case s > best:
			best, level = s, level[:0]
		}
		level = append(level, p)
	}
	if len(level) == 0 {
		return nil, nil
	}
	slices.SortFunc(level, func(a, b *cmfv1.SavepointPolicy) int {
		if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	for _, p := range level[1:] {
		tied = append(tied, p.Name)
	}
	return level[0], tied
}

// coverage says how specifically p covers the parent.
func coverage(p *cmfv1.SavepointPolicy, kind cmfv1.ParentKind, name string, parentLabels map[string]string) int {
	if p.NamespaceDefault() {
		return byNamespace
	}
	names := p.Spec.Parents.Applications
	if kind == cmfv1.ParentStatement {
		names = p.Spec.Parents.Statements
	}
	if slices.Contains(names, name) {
		return byName
	}
	if p.Spec.Parents.Selector != nil {
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.Parents.Selector)
		if err == nil && sel.Matches(labels.Set(parentLabels)) {
			return bySelector
		}
	}
	return notCovered
}
