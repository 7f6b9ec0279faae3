package plugin_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

// testPolicy runs `kubectl savepoint policy` against the real API server:
// the policies are created as the CRD admits them, changed by merge
// patches, and read back as the commands print them. What the policy
// controller does on a schedule is the controller's tests' business; a run
// request is carried out by the manager this suite runs.
func (s *system) testPolicy(t *testing.T) {
	ctx := context.Background()
	get := func(name string) *cmfv1.SavepointPolicy {
		p := &cmfv1.SavepointPolicy{}
		require.NoError(t, s.env.Client.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: name}, p))
		return p
	}

	out, errOut, err := s.run("", "policy", "create", "nightly", "-a", "orders", "-s", "clicks", "--schedule", "0 2 * * *",
		"--time-zone", "Europe/Berlin", "--jitter", "10m", "--starting-deadline", "1h", "--blackout", "0 1 * * 6/3h",
		"--keep-last", "3", "--retain-origin", "PERIODIC,UPGRADE", "--format", "NATIVE")
	require.NoError(t, err, errOut)
	assert.Equal(t, "savepointpolicy/nightly created\n", out)
	assert.Empty(t, errOut)
	nightly := get("nightly")
	assert.Equal(t, []string{"orders"}, nightly.Spec.Parents.Applications)
	assert.Equal(t, "0 1 * * 6", nightly.Spec.BlackoutWindows[0].Schedule)
	assert.Equal(t, []cmfv1.RetentionOrigin{"PERIODIC", "UPGRADE"}, nightly.Spec.Retention.Origins)

	out, errOut, err = s.run("", "policy", "create", "default", "--schedule", "@every 6h")
	require.NoError(t, err, errOut)
	assert.Equal(t, "savepointpolicy/default created: the namespace default of "+s.ns+", covering every application and statement no other policy names or selects\n", out)

	t.Run("create: errors are one line naming the flag", func(t *testing.T) {
		for _, tt := range []struct {
			args []string
			want string
		}{
			{[]string{"bad", "--schedule", "0 25 * * *"}, `--schedule "0 25 * * *": `},
			{[]string{"bad", "--schedule", "@daily", "--time-zone", "Berlin"}, `--time-zone "Berlin" is no IANA time zone`},
			{[]string{"bad", "--schedule", "@every 1h", "--jitter", "2h"}, "--jitter 2h0m0s is not shorter than the schedule's interval 1h0m0s"},
			{[]string{"bad", "--schedule", "@daily", "--blackout", "0 9 * * 1-5"}, `--blackout "0 9 * * 1-5": write CRON/DURATION`},
			{[]string{"nightly", "--schedule", "@daily", "-a", "orders"}, `savepointpolicies.cmf.confluent.io "nightly" already exists`},
		} {
			_, _, err := s.run("", append([]string{"policy", "create"}, tt.args...)...)
			require.Error(t, err, tt.args)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "\n")
		}
		_, _, err := s.run("", "policy", "create", "dry", "--schedule", "@daily", "--dry-run=server")
		require.NoError(t, err)
		assert.Error(t, s.env.Client.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: "dry"}, &cmfv1.SavepointPolicy{}), "a server dry run keeps nothing")
	})

	t.Run("create: a second namespace default is warned about", func(t *testing.T) {
		out, errOut, err := s.run("", "policy", "create", "other-default", "--keep-last", "5")
		require.NoError(t, err, errOut)
		assert.Contains(t, out, "savepointpolicy/other-default created: the namespace default")
		assert.Equal(t, "Warning: savepointpolicy/default is a namespace default too: savepointpolicy/default applies (the older), and both will report a Conflict; give one --application, --statement or --selector, or delete one\n", errOut)
		require.NoError(t, s.env.Client.Delete(ctx, get("other-default")))
	})

	t.Run("list", func(t *testing.T) {
		out, _, err := s.run("", "policy", "list")
		require.NoError(t, err)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		require.Len(t, lines, 3, out)
		assert.Equal(t, []string{"NAME", "SCHEDULE", "SUSPENDED", "PARENTS", "LAST", "SUCCESS", "NEXT", "AGE"}, strings.Fields(lines[0]))
		assert.Equal(t, []string{"default", "@every", "6h", "false"}, strings.Fields(lines[1])[:4])
		assert.Equal(t, []string{"nightly", "0", "2", "*", "*", "*", "false"}, strings.Fields(lines[2])[:7])

		out, _, err = s.run("", "policy", "list", "-o", "wide")
		require.NoError(t, err)
		assert.Contains(t, out, "Europe/Berlin")
		assert.Contains(t, out, "applications orders; statements clicks")
		assert.Contains(t, out, "namespace default")

		out, _, err = s.run("", "policy", "list", "nightly", "-o", "jsonpath={.spec.jitter}")
		require.NoError(t, err)
		assert.Equal(t, "10m0s", out)
	})

	t.Run("describe", func(t *testing.T) {
		out, _, err := s.run("", "policy", "describe", "nightly")
		require.NoError(t, err)
		for _, want := range []string{
			"Covers:             applications orders; statements clicks\n",
			"Schedule:           0 2 * * * in Europe/Berlin\n",
			"Blackout windows:   0 1 * * 6 for 3h (Europe/Berlin)\n",
			"keeps the newest 3 of each parent's COMPLETED PERIODIC and UPGRADE savepoints",
			"Template:           NATIVE, into the cluster's savepoint directory, retried until it succeeds\n",
		} {
			assert.Contains(t, out, want)
		}
		_, _, err = s.run("", "policy", "describe", "ghost")
		require.Error(t, err)
		assert.Equal(t, "savepointpolicy ghost not found in namespace "+s.ns+": list them with kubectl savepoint policy list", err.Error())
	})

	t.Run("suspend and resume patch spec.suspend", func(t *testing.T) {
		out, _, err := s.run("", "policy", "suspend", "nightly")
		require.NoError(t, err)
		assert.Equal(t, "savepointpolicy/nightly suspended\n", out)
		assert.True(t, get("nightly").Spec.Suspend)
		out, _, err = s.run("", "policy", "list", "nightly", "--no-headers")
		require.NoError(t, err)
		assert.Contains(t, out, "<suspended>")
		out, _, err = s.run("", "policy", "suspend", "nightly")
		require.NoError(t, err)
		assert.Equal(t, "savepointpolicy/nightly already suspended\n", out)

		out, _, err = s.run("", "policy", "resume", "nightly", "--dry-run=server")
		require.NoError(t, err)
		assert.Equal(t, "savepointpolicy/nightly resumed (server dry run)\n", out)
		assert.True(t, get("nightly").Spec.Suspend)
		out, _, err = s.run("", "policy", "resume", "nightly")
		require.NoError(t, err)
		assert.Equal(t, "savepointpolicy/nightly resumed\n", out)
		assert.False(t, get("nightly").Spec.Suspend)
	})

	t.Run("run sets a new run request each time", func(t *testing.T) {
		out, _, err := s.run("", "policy", "run", "nightly")
		require.NoError(t, err)
		first := get("nightly").Annotations[cmfv1.RunRequestAnnotation]
		require.NotEmpty(t, first)
		assert.Equal(t, "savepointpolicy/nightly run requested ("+cmfv1.RunRequestAnnotation+"="+first+")\n", out)
		_, _, err = s.run("", "policy", "run", "nightly")
		require.NoError(t, err)
		assert.NotEqual(t, first, get("nightly").Annotations[cmfv1.RunRequestAnnotation])
	})

	t.Run("run --wait: the manager takes a savepoint of each covered parent, then it is listed", func(t *testing.T) {
		out, errOut, err := s.run("", "policy", "run", "nightly", "--wait", "--timeout", "60s")
		require.NoError(t, err, errOut)
		token := get("nightly").Status.LastRunRequest
		require.NotEmpty(t, token)
		var list cmfv1.SavepointList
		require.NoError(t, s.env.Client.List(ctx, &list, client.InNamespace(s.ns), client.MatchingLabels{cmfv1.PolicyLabel: "nightly"}))
		var took []string
		for _, sp := range list.Items {
			if sp.Annotations[cmfv1.RunRequestAnnotation] == token {
				took = append(took, sp.Name)
				assert.Contains(t, out, sp.Name, "the savepoints it took are listed")
				assert.Equal(t, cmfv1.FormatNative, sp.Spec.FormatType, "the policy's template")
			}
		}
		assert.Len(t, took, 2, "one of orders, one of clicks: %s", out)
	})

	t.Run("create warns inside a blackout window of the parent's policy", func(t *testing.T) {
		// A window that opens every minute for an hour is always open.
		_, errOut, err := s.run("", "policy", "create", "held", "-a", "payments", "--schedule", "@every 1h", "--blackout", "* * * * */1h")
		require.NoError(t, err, errOut)
		out, errOut, err := s.run("", "create", "-a", "payments", "--dry-run=server")
		require.NoError(t, err, errOut)
		assert.Contains(t, out, "created (server dry run)")
		assert.Contains(t, errOut, "Warning: savepointpolicy/held holds back scheduled savepoints of application payments in a blackout window until ")
		assert.Equal(t, 1, strings.Count(errOut, "\n"), errOut)

		// Without it, payments is the namespace default's, which has no windows.
		require.NoError(t, s.env.Client.Delete(ctx, get("held")))
		_, errOut, err = s.run("", "create", "-a", "payments", "--dry-run=server")
		require.NoError(t, err)
		assert.Empty(t, errOut)
	})

	t.Run("completion names policies", func(t *testing.T) {
		out, _, err := s.run("", "__complete", "policy", "describe", "nig")
		require.NoError(t, err)
		assert.Contains(t, out, "nightly\n")
	})
}
