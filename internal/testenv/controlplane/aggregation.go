package controlplane

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Aggregated returns nil when every ClusterRole with an aggregationRule
// (view, edit, admin, and any installed later) holds exactly the rules of the
// ClusterRoles it selects, as kube-controller-manager's
// clusterrole-aggregation-controller writes them; otherwise an error naming
// the first role that does not yet.
func Aggregated(ctx context.Context, c client.Client) error {
	var roles rbacv1.ClusterRoleList
	if err := c.List(ctx, &roles); err != nil {
		return fmt.Errorf("list cluster roles: %w", err)
	}
	for _, aggregate := range roles.Items {
		if aggregate.AggregationRule == nil {
			continue
		}
		var want []rbacv1.PolicyRule
		for _, s := range aggregate.AggregationRule.ClusterRoleSelectors {
			selector, err := metav1.LabelSelectorAsSelector(&s)
			if err != nil {
				return fmt.Errorf("cluster role %s: %w", aggregate.Name, err)
			}
			for _, selected := range roles.Items {
				if selected.Name == aggregate.Name || !selector.Matches(labels.Set(selected.Labels)) {
					continue
				}
				for _, rule := range selected.Rules {
					if !containsRule(want, rule) {
						want = append(want, rule)
					}
				}
			}
		}
		for _, rule := range want {
			if !containsRule(aggregate.Rules, rule) {
				return fmt.Errorf("cluster role %s lacks the aggregated rule %s", aggregate.Name, rule.String())
			}
		}
		for _, rule := range aggregate.Rules {
			if !containsRule(want, rule) {
				return fmt.Errorf("cluster role %s still holds %s, which no selected role has", aggregate.Name, rule.String())
			}
		}
	}
	return nil
}

// WaitForAggregation waits until the aggregated ClusterRoles hold the rules
// of the roles they select (Aggregated), e.g. after a test installs roles
// labelled to aggregate into view, edit or admin.
func (e *Env) WaitForAggregation(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var last error
	err := wait.PollUntilContextCancel(ctx, 20*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		last = Aggregated(ctx, e.Client)
		return last == nil, nil
	})
	require.NoError(t, err, "ClusterRole aggregation: %v", last)
}

func containsRule(rules []rbacv1.PolicyRule, rule rbacv1.PolicyRule) bool {
	for _, r := range rules {
		if equality.Semantic.DeepEqual(r, rule) {
			return true
		}
	}
	return false
}
