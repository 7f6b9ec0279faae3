package create

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdtesting"
)

const ns = "team-a"

// TestCompleteValidate: bad input is refused in one line naming the flag
// and the way out, and nothing is sent.
func TestCompleteValidate(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "no parent", args: []string{}, wantErr: "name the parent with --application NAME or --statement NAME"},
		{name: "two parents", args: []string{"-a", "orders", "-s", "clicks"}, wantErr: "--application and --statement name two parents: give one"},
		{name: "a format Flink does not write", args: []string{"-a", "orders", "--format", "aligned"}, wantErr: `--format "ALIGNED": use CANONICAL or NATIVE`},
		{name: "a backoff limit below -1", args: []string{"-a", "orders", "--backoff-limit", "-2"}, wantErr: "--backoff-limit -2: use -1 (retry until it succeeds), 0 (no retry) or more"},
		{name: "a dry run kubectl does not know", args: []string{"-a", "orders", "--dry-run=maybe"}, wantErr: `--dry-run="maybe": use "client", "server" or "none"`},
		{name: "an output kubectl does not know", args: []string{"-a", "orders", "-o", "toml"}, wantErr: `unable to match a printer suitable for the output format "toml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := cmdtesting.NewFactory(ns)
			streams, _, out, _ := genericiooptions.NewTestIOStreams()
			err := cmdtesting.Execute(NewCmd(f, streams), streams, tt.args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.NotContains(t, err.Error(), "\n")
			assert.Empty(t, out.String())
			var list cmfv1.SavepointList
			require.NoError(t, f.Fake.List(context.Background(), &list))
			assert.Empty(t, list.Items, "nothing created")
		})
	}
}

func TestComplete(t *testing.T) {
	streams, _, _, _ := genericiooptions.NewTestIOStreams()
	o := NewOptions(streams)
	o.Format = "native"
	require.NoError(t, o.Complete(cmdtesting.NewFactory(ns), nil, []string{"nightly"}))
	assert.Equal(t, "nightly", o.Name)
	assert.Equal(t, "NATIVE", o.Format, "--format in any case")
	assert.Equal(t, ns, o.namespace)
	assert.NotNil(t, o.client)

	o = NewOptions(streams)
	o.DryRun = "client"
	require.NoError(t, o.Complete(cmdtesting.NewFactory(ns), nil, nil))
	assert.Nil(t, o.client, "a client dry run reaches no cluster")
}

// named names a savepoint created without a name, as the webhook does.
var named = interceptor.Funcs{Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
	if obj.GetName() == "" {
		obj.SetName("orders-20261125t101500-3f9a")
	}
	return c.Create(ctx, obj, opts...)
}}

// completes is the manager taking the savepoint: in progress, then
// COMPLETED or FAILED.
func completes(name string, end cmfv1.SavepointStatus) []cmdtesting.Change {
	key := client.ObjectKey{Namespace: ns, Name: name}
	return []cmdtesting.Change{
		cmdtesting.SavepointBecomes(key, cmfv1.SavepointStatus{State: cmfv1.StateInProgress}),
		cmdtesting.SavepointBecomes(key, end),
	}
}

func TestRun(t *testing.T) {
	completed := cmfv1.SavepointStatus{State: cmfv1.StateCompleted, Path: "s3://flink/savepoints/savepoint-1"}
	tests := []struct {
		name    string
		args    []string
		changes []cmdtesting.Change

		wantOut      string
		wantOutParts []string // instead of wantOut, for a manifest
		wantErrOut   []string // progress lines, without the elapsed time
		wantErr      string
		wantSpec     *cmfv1.SavepointSpec // of the savepoint created; nil: none
	}{{
		name:     "of an application, with the defaults",
		args:     []string{"nightly", "-a", "orders"},
		wantOut:  "savepoint/nightly created\n",
		wantSpec: &cmfv1.SavepointSpec{Application: "orders", FormatType: cmfv1.FormatCanonical, BackoffLimit: ptr.To[int32](-1)},
	}, {
		name:     "of a statement, with every flag",
		args:     []string{"nightly", "-s", "clicks", "--format", "native", "--backoff-limit", "0", "--path", "s3://bucket/savepoints"},
		wantOut:  "savepoint/nightly created\n",
		wantSpec: &cmfv1.SavepointSpec{Statement: "clicks", Path: "s3://bucket/savepoints", FormatType: cmfv1.FormatNative, BackoffLimit: ptr.To[int32](0)},
	}, {
		name:     "without a name: the one the webhook gives",
		args:     []string{"-a", "orders"},
		wantOut:  "savepoint/orders-20261125t101500-3f9a created\n",
		wantSpec: &cmfv1.SavepointSpec{Application: "orders", FormatType: cmfv1.FormatCanonical, BackoffLimit: ptr.To[int32](-1)},
	}, {
		name:         "a client dry run prints the manifest and sends nothing",
		args:         []string{"-a", "orders", "--dry-run=client", "-o", "yaml"},
		wantOutParts: []string{"kind: Savepoint\n", "application: orders\n", "formatType: CANONICAL\n"},
	}, {
		name:    "a client dry run without a name or -o",
		args:    []string{"-a", "orders", "--dry-run"},
		wantOut: "savepoint/<generated> created (dry run)\n",
	}, {
		name:    "a server dry run keeps nothing",
		args:    []string{"nightly", "-a", "orders", "--dry-run=server"},
		wantOut: "savepoint/nightly created (server dry run)\n",
	}, {
		name:         "-o prints the savepoint created",
		args:         []string{"nightly", "-a", "orders", "-o", "name"},
		wantOutParts: []string{"savepoint.cmf.confluent.io/nightly\n"},
		wantSpec:     &cmfv1.SavepointSpec{Application: "orders", FormatType: cmfv1.FormatCanonical, BackoffLimit: ptr.To[int32](-1)},
	}, {
		name:       "--wait shows each state until COMPLETED",
		args:       []string{"nightly", "-a", "orders", "--wait"},
		changes:    completes("nightly", completed),
		wantOut:    "savepoint/nightly created\n",
		wantErrOut: []string{"TRIGGER_PENDING", "IN_PROGRESS", "COMPLETED  s3://flink/savepoints/savepoint-1"},
		wantSpec:   &cmfv1.SavepointSpec{Application: "orders", FormatType: cmfv1.FormatCanonical, BackoffLimit: ptr.To[int32](-1)},
	}, {
		name:       "--wait: a FAILED savepoint is an error with its cause in one line",
		args:       []string{"nightly", "-a", "orders", "--wait", "--backoff-limit", "0"},
		changes:    completes("nightly", cmfv1.SavepointStatus{State: cmfv1.StateFailed, Failures: 1, Error: "java.io.IOException: disk full\n\tat x"}),
		wantOut:    "savepoint/nightly created\n",
		wantErrOut: []string{"TRIGGER_PENDING", "IN_PROGRESS", "FAILED  (failures: 1) java.io.IOException: disk full"},
		wantErr:    "savepoint nightly is FAILED: java.io.IOException: disk full",
		wantSpec:   &cmfv1.SavepointSpec{Application: "orders", FormatType: cmfv1.FormatCanonical, BackoffLimit: ptr.To[int32](0)},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := cmdtesting.NewFactory(ns)
			f.Intercept = named
			f.Later(t, tt.changes...)
			streams, _, out, errOut := genericiooptions.NewTestIOStreams()
			err := cmdtesting.Execute(NewCmd(f, streams), streams, tt.args...)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			if tt.wantOutParts == nil {
				assert.Equal(t, tt.wantOut, out.String())
			}
			for _, part := range tt.wantOutParts {
				assert.Contains(t, out.String(), part)
			}
			assert.Equal(t, tt.wantErrOut, cmdtesting.Lines(errOut.String()))

			var list cmfv1.SavepointList
			require.NoError(t, f.Fake.List(context.Background(), &list))
			if tt.wantSpec == nil {
				assert.Empty(t, list.Items, "nothing created")
				return
			}
			require.Len(t, list.Items, 1)
			assert.Equal(t, *tt.wantSpec, list.Items[0].Spec)
		})
	}
}

// TestRunDenied: the webhook's denial is the error, in its own words.
func TestRunDenied(t *testing.T) {
	f := cmdtesting.NewFactory(ns)
	f.Intercept = interceptor.Funcs{Create: func(context.Context, client.WithWatch, client.Object, ...client.CreateOption) error {
		return cmdtesting.Denied(`spec.application "ghost" does not exist in namespace team-a: create the FlinkApplication first, or name an existing one`)
	}}
	streams, _, out, _ := genericiooptions.NewTestIOStreams()
	err := cmdtesting.Execute(NewCmd(f, streams), streams, "-a", "ghost")
	require.EqualError(t, err, `spec.application "ghost" does not exist in namespace team-a: create the FlinkApplication first, or name an existing one`)
	assert.Empty(t, out.String())
}

// TestBlackoutWarning: inside a blackout window of the parent's policy (the
// most specific one) create warns on stderr in one line and still creates
// the savepoint; outside one, or under another policy's window, it says
// nothing.
func TestBlackoutWarning(t *testing.T) {
	// Wednesday 25 November 2026, 10:00 in Berlin.
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	policy := func(name string, parents *cmfv1.PolicyParents, window string, created int) *cmfv1.SavepointPolicy {
		p := &cmfv1.SavepointPolicy{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: metav1.NewTime(now.Add(-time.Duration(100-created) * time.Hour))},
			Spec:       cmfv1.SavepointPolicySpec{Parents: parents, Schedule: "0 2 * * *", TimeZone: "Europe/Berlin"},
		}
		if window != "" {
			p.Spec.BlackoutWindows = []cmfv1.BlackoutWindow{{Schedule: window, Duration: metav1.Duration{Duration: 8 * time.Hour}}}
		}
		return p
	}
	orders := &cmfv1.FlinkApplication{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orders", Labels: map[string]string{"env": "prod"}}}
	clicks := &cmfv1.Statement{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "clicks"}}
	const office = "0 9 * * 1-5" // 09:00-17:00 Berlin on weekdays: open now
	const night = "0 22 * * *"   // 22:00-06:00: closed now
	warning := "Warning: savepointpolicy/%s holds back scheduled savepoints of %s in a blackout window until 2026-11-25T17:00:00+01:00; this manual savepoint is taken now\n"
	tests := []struct {
		name     string
		policies []client.Object
		args     []string
		want     string // stderr
	}{
		{name: "no policy", args: []string{"-a", "orders"}},
		{
			name:     "the namespace default's window is open",
			policies: []client.Object{policy("default", nil, office, 0)},
			args:     []string{"-s", "clicks"},
			want:     fmt.Sprintf(warning, "default", "statement clicks"),
		},
		{
			name:     "the namespace default's window is closed",
			policies: []client.Object{policy("default", nil, night, 0)},
			args:     []string{"-a", "orders"},
		},
		{
			name:     "a policy naming the parent wins over the default's open window",
			policies: []client.Object{policy("default", nil, office, 0), policy("orders", &cmfv1.PolicyParents{Applications: []string{"orders"}}, night, 1)},
			args:     []string{"-a", "orders"},
		},
		{
			name:     "a selector matching the parent's labels, with an open window",
			policies: []client.Object{policy("default", nil, night, 0), policy("prod", &cmfv1.PolicyParents{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}}, office, 1)},
			args:     []string{"-a", "orders"},
			want:     fmt.Sprintf(warning, "prod", "application orders"),
		},
		{
			name:     "a tie: the older policy's window counts",
			policies: []client.Object{policy("newer", nil, night, 2), policy("older", nil, office, 1)},
			args:     []string{"-a", "orders"},
			want:     fmt.Sprintf(warning, "older", "application orders"),
		},
		{
			name:     "a server dry run warns too",
			policies: []client.Object{policy("default", nil, office, 0)},
			args:     []string{"-a", "orders", "--dry-run=server"},
			want:     fmt.Sprintf(warning, "default", "application orders"),
		},
		{
			name:     "a client dry run reads nothing, so it cannot tell",
			policies: []client.Object{policy("default", nil, office, 0)},
			args:     []string{"-a", "orders", "--dry-run=client"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := cmdtesting.NewFactory(ns, append([]client.Object{orders, clicks}, tt.policies...)...)
			f.Intercept = named
			streams, _, out, errOut := genericiooptions.NewTestIOStreams()
			o := NewOptions(streams)
			o.now = func() time.Time { return now }
			require.NoError(t, cmdtesting.Execute(newCmd(f, o), streams, tt.args...))
			assert.Equal(t, tt.want, errOut.String())
			assert.Contains(t, out.String(), "created", "the savepoint is taken all the same")
		})
	}
}
