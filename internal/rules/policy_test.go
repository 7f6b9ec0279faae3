package rules

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

// policy is a SavepointPolicy created minute minutes after a fixed instant.
func policy(name string, minute int, parents *cmfv1.PolicyParents) cmfv1.SavepointPolicy {
	created := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC).Add(time.Duration(minute) * time.Minute)
	return cmfv1.SavepointPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: name, CreationTimestamp: metav1.NewTime(created)},
		Spec:       cmfv1.SavepointPolicySpec{Schedule: "0 2 * * *", Parents: parents},
	}
}

func apps(names ...string) *cmfv1.PolicyParents { return &cmfv1.PolicyParents{Applications: names} }

func stmts(names ...string) *cmfv1.PolicyParents { return &cmfv1.PolicyParents{Statements: names} }

func selector(match map[string]string, exprs ...metav1.LabelSelectorRequirement) *cmfv1.PolicyParents {
	return &cmfv1.PolicyParents{Selector: &metav1.LabelSelector{MatchLabels: match, MatchExpressions: exprs}}
}

// TestPolicyFor: names beat a selector, a selector beats the namespace
// default; among equals the oldest wins and the others are named as tied.
func TestPolicyFor(t *testing.T) {
	prod := map[string]string{"env": "prod", "team": "a"}
	for _, tc := range []struct {
		name     string
		policies []cmfv1.SavepointPolicy
		kind     cmfv1.ParentKind
		parent   string
		labels   map[string]string
		winner   string // "" for none
		tied     []string
	}{
		{name: "no policies", kind: cmfv1.ParentApplication, parent: "orders"},
		{
			name:     "a policy naming another parent covers nothing",
			policies: []cmfv1.SavepointPolicy{policy("payments", 0, apps("payments"))},
			kind:     cmfv1.ParentApplication, parent: "orders",
		},
		{
			name:     "the namespace default (parents left out) covers every parent",
			policies: []cmfv1.SavepointPolicy{policy("default", 0, nil)},
			kind:     cmfv1.ParentStatement, parent: "enrich", winner: "default",
		},
		{
			name:     "empty parents are the namespace default too",
			policies: []cmfv1.SavepointPolicy{policy("default", 0, &cmfv1.PolicyParents{})},
			kind:     cmfv1.ParentApplication, parent: "orders", winner: "default",
		},
		{
			name:     "names are per kind: an application named orders is not the statement orders",
			policies: []cmfv1.SavepointPolicy{policy("by-app", 0, apps("orders"))},
			kind:     cmfv1.ParentStatement, parent: "orders",
		},
		{
			name:     "a statement named in statements",
			policies: []cmfv1.SavepointPolicy{policy("by-stmt", 0, stmts("enrich", "orders"))},
			kind:     cmfv1.ParentStatement, parent: "orders", winner: "by-stmt",
		},
		{
			name: "names beat a selector and the default, whatever their age",
			policies: []cmfv1.SavepointPolicy{
				policy("default", 0, nil),
				policy("prod", 1, selector(map[string]string{"env": "prod"})),
				policy("orders", 2, apps("orders")),
			},
			kind: cmfv1.ParentApplication, parent: "orders", labels: prod, winner: "orders",
		},
		{
			name: "a selector beats the default",
			policies: []cmfv1.SavepointPolicy{
				policy("default", 0, nil),
				policy("prod", 1, selector(map[string]string{"env": "prod"})),
			},
			kind: cmfv1.ParentApplication, parent: "orders", labels: prod, winner: "prod",
		},
		{
			name: "a selector that does not match leaves the parent to the default",
			policies: []cmfv1.SavepointPolicy{
				policy("default", 0, nil),
				policy("dev", 1, selector(map[string]string{"env": "dev"})),
			},
			kind: cmfv1.ParentApplication, parent: "orders", labels: prod, winner: "default",
		},
		{
			name: "match expressions",
			policies: []cmfv1.SavepointPolicy{policy("not-dev", 0, selector(nil,
				metav1.LabelSelectorRequirement{Key: "env", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"dev"}}))},
			kind: cmfv1.ParentStatement, parent: "enrich", labels: prod, winner: "not-dev",
		},
		{
			name:     "an empty selector matches every parent, at selector level",
			policies: []cmfv1.SavepointPolicy{policy("default", 0, nil), policy("all", 1, selector(nil))},
			kind:     cmfv1.ParentApplication, parent: "orders", winner: "all",
		},
		{
			name: "a selector that does not parse covers nothing",
			policies: []cmfv1.SavepointPolicy{policy("broken", 0, selector(nil,
				metav1.LabelSelectorRequirement{Key: "env", Operator: "Sometimes"}))},
			kind: cmfv1.ParentApplication, parent: "orders", labels: prod,
		},
		{
			name: "a policy with names and a selector covers by name when named",
			policies: []cmfv1.SavepointPolicy{
				policy("prod", 0, selector(map[string]string{"env": "prod"})),
				policy("both", 1, &cmfv1.PolicyParents{Applications: []string{"orders"}, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"env": "dev"}}}),
			},
			kind: cmfv1.ParentApplication, parent: "orders", labels: prod, winner: "both",
		},
		{
			name: "a policy with names and a selector covers by selector when not named",
			policies: []cmfv1.SavepointPolicy{
				policy("prod", 0, selector(map[string]string{"env": "prod"})),
				policy("both", 1, &cmfv1.PolicyParents{Applications: []string{"payments"}, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}}),
			},
			kind: cmfv1.ParentApplication, parent: "orders", labels: prod, winner: "prod", tied: []string{"both"},
		},
		{
			name: "two naming the parent: the oldest wins, the other is tied",
			policies: []cmfv1.SavepointPolicy{
				policy("newer", 5, apps("orders")),
				policy("older", 1, apps("orders", "payments")),
			},
			kind: cmfv1.ParentApplication, parent: "orders", winner: "older", tied: []string{"newer"},
		},
		{
			name: "three defaults: the oldest wins, the others oldest first",
			policies: []cmfv1.SavepointPolicy{
				policy("c", 3, nil),
				policy("a", 2, nil),
				policy("b", 1, nil),
			},
			kind: cmfv1.ParentStatement, parent: "enrich", winner: "b", tied: []string{"a", "c"},
		},
		{
			name: "same creation second: the name decides",
			policies: []cmfv1.SavepointPolicy{
				policy("zeta", 0, nil),
				policy("alpha", 0, nil),
			},
			kind: cmfv1.ParentApplication, parent: "orders", winner: "alpha", tied: []string{"zeta"},
		},
		{
			name: "a tie below the winner is no tie",
			policies: []cmfv1.SavepointPolicy{
				policy("default-1", 0, nil),
				policy("default-2", 1, nil),
				policy("orders", 2, apps("orders")),
			},
			kind: cmfv1.ParentApplication, parent: "orders", winner: "orders",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			winner, tied := PolicyFor(tc.policies, tc.kind, tc.parent, tc.labels)
			if tc.winner == "" {
				assert.Nil(t, winner)
			} else if assert.NotNil(t, winner) {
				assert.Equal(t, tc.winner, winner.Name)
				assert.Same(t, &tc.policies[indexOf(tc.policies, tc.winner)], winner, "the winner points into the slice passed")
			}
			assert.Equal(t, tc.tied, tied)
		})
	}
}

func indexOf(policies []cmfv1.SavepointPolicy, name string) int {
	for i := range policies {
		if policies[i].Name == name {
			return i
		}
	}
	return -1
}
