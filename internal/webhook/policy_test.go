package webhook_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

// testPolicies: a SavepointPolicy makes the manager create and delete
// savepoints, so its author must hold those rights on what it covers; and
// what cannot be read is refused in one line.
func (s *tenants) testPolicies(t *testing.T) {
	ctx := context.Background()
	// policy-writer may write policies in team-b, and read its parents,
	// but not update or delete them.
	require.NoError(t, s.admin.Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: teamB, Name: "policy-writer"},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{cmfv1.GroupVersion.Group}, Resources: []string{"savepointpolicies"}, Verbs: []string{"get", "list", "create", "update", "patch"}},
			{APIGroups: []string{cmfv1.GroupVersion.Group}, Resources: []string{"flinkapplications", "statements"}, Verbs: []string{"get", "list"}},
		},
	}))
	require.NoError(t, s.admin.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: teamB, Name: "policy-writer"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "policy-writer"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "policy-writer"}},
	}))
	s.waitAllowed(t, "policy-writer", "create", "savepointpolicies", teamB, "")
	writer, err := client.New(s.env.ActingAs("policy-writer"), client.Options{Scheme: s.env.Scheme})
	require.NoError(t, err)

	policy := func(name string, edit func(*cmfv1.SavepointPolicySpec)) *cmfv1.SavepointPolicy {
		p := &cmfv1.SavepointPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: teamB, Name: name},
			Spec: cmfv1.SavepointPolicySpec{Schedule: "0 2 * * *", Parents: &cmfv1.PolicyParents{Applications: []string{"orders"}}}}
		if edit != nil {
			edit(&p.Spec)
		}
		return p
	}
	for _, tc := range []struct {
		name string
		as   client.Client
		obj  *cmfv1.SavepointPolicy
		want string // "" allowed
	}{
		{"a schedule for a parent the author may not update", writer, policy("sched", nil),
			`SavepointPolicy sched: it makes savepoints of its parents (spec.schedule or a run request), which needs update on FlinkApplication orders: user "policy-writer" may not`},
		{"a namespace default: every parent of the namespace", writer, policy("default", func(p *cmfv1.SavepointPolicySpec) { p.Parents = nil }),
			"needs update on every FlinkApplication of the namespace"},
		{"a selector: every parent of the namespace", writer, policy("selected", func(p *cmfv1.SavepointPolicySpec) {
			p.Parents = &cmfv1.PolicyParents{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "gold"}}}
		}), "needs update on every FlinkApplication of the namespace"},
		{"retention alone needs delete", writer, policy("retain", func(p *cmfv1.SavepointPolicySpec) {
			p.Schedule, p.Retention = "", &cmfv1.Retention{KeepLast: ptr.To[int32](3)}
		}), "its spec.retention deletes savepoints of its parents, which needs delete on FlinkApplication orders"},
		{"only defaults: nothing the manager does for the author", writer, policy("template-only", func(p *cmfv1.SavepointPolicySpec) {
			p.Schedule, p.Template = "", &cmfv1.SavepointTemplate{FormatType: cmfv1.FormatNative}
		}), ""},
		{"the namespace admin may", s.teamB, policy("nightly", func(p *cmfv1.SavepointPolicySpec) {
			p.Parents, p.Retention = nil, &cmfv1.Retention{KeepLast: ptr.To[int32](3)}
		}), ""},
		{"a schedule that cannot be read", s.teamB, policy("typo", func(p *cmfv1.SavepointPolicySpec) { p.Schedule = "0 2 * *" }),
			`SavepointPolicy typo: spec.schedule "0 2 * *": `},
		{"a time zone that does not exist", s.teamB, policy("zone", func(p *cmfv1.SavepointPolicySpec) { p.TimeZone = "Europe/Atlantis" }),
			`spec.timeZone "Europe/Atlantis" is no IANA time zone`},
		{"a blackout window without a schedule (the CRD)", s.teamB, policy("window", func(p *cmfv1.SavepointPolicySpec) {
			p.Schedule, p.BlackoutWindows = "", []cmfv1.BlackoutWindow{{Schedule: "0 9 * * *", Duration: metav1.Duration{Duration: 3600e9}}}
		}), "spec.blackoutWindows needs spec.schedule"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.as.Create(ctx, tc.obj)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			requireDenied(t, err, tc.want)
			require.NotContains(t, strings.TrimSpace(err.Error()), "\n", "one line")
		})
	}

	// A run request is a schedule's right too.
	own := policy("own", func(p *cmfv1.SavepointPolicySpec) { p.Schedule = "" })
	require.NoError(t, writer.Create(ctx, own))
	own.Annotations = map[string]string{cmfv1.RunRequestAnnotation: "now"}
	requireDenied(t, writer.Update(ctx, own), "which needs update on FlinkApplication orders")
}
