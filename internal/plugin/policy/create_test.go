package policy

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdtesting"
)

const ns = "team-a"

func dur(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

// TestCreateValidate: bad input is refused in one line naming the flag and
// the way out, and nothing is created.
func TestCreateValidate(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "no name", args: []string{"--schedule", "@daily"}, wantErr: "accepts 1 arg(s), received 0"},
		{name: "nothing to do", args: []string{"idle"}, wantErr: "the policy would do nothing: give --schedule, a retention (--keep-last, --max-age) or a template (--format, --path, --backoff-limit)"},
		{name: "a schedule of 6 fields", args: []string{"p", "--schedule", "0 0 2 * * *"}, wantErr: `--schedule "0 0 2 * * *": expected exactly 5 fields, found 6: [0 0 2 * * *]: use 5 fields (minute hour day-of-month month day-of-week, e.g. "0 2 * * *") or @every <duration> (e.g. "@every 6h")`},
		{name: "an hour that is none", args: []string{"p", "--schedule", "0 25 * * *"}, wantErr: `--schedule "0 25 * * *": `},
		{name: "@every below a second", args: []string{"p", "--schedule", "@every 10ms"}, wantErr: `--schedule "@every 10ms": @every needs at least 1s`},
		{name: "a time zone in the expression", args: []string{"p", "--schedule", "TZ=Europe/Berlin 0 2 * * *"}, wantErr: `--schedule "TZ=Europe/Berlin 0 2 * * *": write the time zone in timeZone, not in the expression`},
		{name: "a time zone that is none", args: []string{"p", "--schedule", "@daily", "--time-zone", "Mars/Olympus"}, wantErr: `--time-zone "Mars/Olympus" is no IANA time zone: write one such as "Europe/Berlin" or "UTC"`},
		{name: "a negative jitter", args: []string{"p", "--schedule", "@daily", "--jitter", "-1m"}, wantErr: "--jitter -1m0s is negative: write a duration such as 10m"},
		{name: "jitter as long as the interval", args: []string{"p", "--schedule", "@every 1h", "--jitter", "1h"}, wantErr: "--jitter 1h0m0s is not shorter than the schedule's interval 1h0m0s: make it shorter, e.g. half the interval"},
		{name: "a zero starting deadline", args: []string{"p", "--schedule", "@daily", "--starting-deadline", "0s"}, wantErr: "--starting-deadline 0s must be positive"},
		{name: "jitter without a schedule", args: []string{"p", "--keep-last", "3", "--jitter", "5m"}, wantErr: "--jitter needs --schedule: it only shapes scheduled savepoints"},
		{name: "a window without a schedule", args: []string{"p", "--keep-last", "3", "--blackout", "0 9 * * 1-5/8h"}, wantErr: "--blackout needs --schedule"},
		{name: "a window without a length", args: []string{"p", "--schedule", "@daily", "--blackout", "0 9 * * 1-5"}, wantErr: `--blackout "0 9 * * 1-5": write CRON/DURATION, when each window starts and how long it lasts, e.g. '0 9 * * 1-5/8h'`},
		{name: "a window whose step looks like a length", args: []string{"p", "--schedule", "@daily", "--blackout", "0 9 * * 1-5/2"}, wantErr: `--blackout "0 9 * * 1-5/2": write CRON/DURATION`},
		{name: "a window of no length", args: []string{"p", "--schedule", "@daily", "--blackout", "0 9 * * *-/0s"}, wantErr: `--blackout "0 9 * * *-/0s": the window's length 0s must be positive, e.g. 8h`},
		{name: "a window whose cron is bad", args: []string{"p", "--schedule", "@daily", "--blackout", "0 9 * */8h"}, wantErr: `--blackout "0 9 * *": expected exactly 5 fields`},
		{name: "a selector that does not parse", args: []string{"p", "--schedule", "@daily", "--selector", "env in prod"}, wantErr: `--selector "env in prod": `},
		{name: "keep-last 0", args: []string{"p", "--keep-last", "0"}, wantErr: "--keep-last 0: keep at least 1 (a parent's newest COMPLETED savepoint is never deleted anyway)"},
		{name: "a negative max age", args: []string{"p", "--max-age", "-1h"}, wantErr: "--max-age -1h0m0s must be positive, e.g. 168h"},
		{name: "origins without a retention", args: []string{"p", "--schedule", "@daily", "--retain-origin", "UPGRADE"}, wantErr: "--retain-origin needs --keep-last or --max-age: it says which savepoints they delete"},
		{name: "retaining MANUAL savepoints", args: []string{"p", "--keep-last", "3", "--retain-origin", "periodic,manual"}, wantErr: "--retain-origin MANUAL: a policy never deletes MANUAL or IMPORTED savepoints; use PERIODIC, UPGRADE, SUSPEND"},
		{name: "an origin there is not", args: []string{"p", "--keep-last", "3", "--retain-origin", "nightly"}, wantErr: `--retain-origin "NIGHTLY": use PERIODIC, UPGRADE, SUSPEND`},
		{name: "a format Flink does not write", args: []string{"p", "--format", "aligned"}, wantErr: `--format "ALIGNED": use CANONICAL or NATIVE`},
		{name: "a backoff limit below -1", args: []string{"p", "--backoff-limit", "-2"}, wantErr: "--backoff-limit -2: use -1 (retry until it succeeds), 0 (no retry) or more"},
		{name: "an empty application", args: []string{"p", "--schedule", "@daily", "-a", "orders,"}, wantErr: "--application and --statement take a name each: drop the empty one"},
		{name: "a dry run kubectl does not know", args: []string{"p", "--schedule", "@daily", "--dry-run=maybe"}, wantErr: `--dry-run="maybe": use "client", "server" or "none"`},
		{name: "an output kubectl does not know", args: []string{"p", "--schedule", "@daily", "-o", "toml"}, wantErr: `unable to match a printer suitable for the output format "toml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := cmdtesting.NewFactory(ns)
			streams, _, out, _ := genericiooptions.NewTestIOStreams()
			err := cmdtesting.Execute(NewCmd(f, streams), streams, append([]string{"create"}, tt.args...)...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.NotContains(t, err.Error(), "\n", "one line")
			assert.Empty(t, out.String())
			var list cmfv1.SavepointPolicyList
			require.NoError(t, f.Fake.List(context.Background(), &list))
			assert.Empty(t, list.Items, "nothing created")
		})
	}
}

func TestCreate(t *testing.T) {
	older := &cmfv1.SavepointPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "older", CreationTimestamp: metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))},
		Spec:       cmfv1.SavepointPolicySpec{Schedule: "@daily", Parents: &cmfv1.PolicyParents{Applications: []string{"orders", "billing"}, Statements: []string{"clicks"}}},
	}
	oldDefault := &cmfv1.SavepointPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "old-default"},
		Spec:       cmfv1.SavepointPolicySpec{Schedule: "@daily"},
	}
	tests := []struct {
		name     string
		existing []client.Object
		args     []string

		wantOut      string
		wantOutParts []string // instead of wantOut, for a manifest
		wantErrOut   string
		wantSpec     *cmfv1.SavepointPolicySpec // of the policy created; nil: none
	}{{
		name:    "named parents, every schedule flag",
		args:    []string{"nightly", "-a", "orders", "--application", "payments", "-s", "clicks", "--schedule", "0 2 * * *", "--time-zone", "Europe/Berlin", "--jitter", "10m", "--starting-deadline", "1h", "--blackout", "0 9 * * 1-5/8h", "--blackout", "*/30 * * * 6/5m"},
		wantOut: "savepointpolicy/nightly created\n",
		wantSpec: &cmfv1.SavepointPolicySpec{
			Parents:  &cmfv1.PolicyParents{Applications: []string{"orders", "payments"}, Statements: []string{"clicks"}},
			Schedule: "0 2 * * *", TimeZone: "Europe/Berlin", Jitter: dur(10 * time.Minute), StartingDeadline: dur(time.Hour),
			BlackoutWindows: []cmfv1.BlackoutWindow{
				{Schedule: "0 9 * * 1-5", Duration: metav1.Duration{Duration: 8 * time.Hour}},
				{Schedule: "*/30 * * * 6", Duration: metav1.Duration{Duration: 5 * time.Minute}},
			},
		},
	}, {
		name:    "a selector, a retention and a template; suspended",
		args:    []string{"critical", "-l", "tier=critical,env in (prod,staging)", "--schedule", "@hourly", "--keep-last", "5", "--max-age", "168h", "--retain-origin", "periodic,UPGRADE", "--retain-origin", "PERIODIC", "--format", "native", "--path", "s3://bucket/sp", "--backoff-limit", "0", "--suspend"},
		wantOut: "savepointpolicy/critical created\n",
		wantSpec: &cmfv1.SavepointPolicySpec{
			Parents: &cmfv1.PolicyParents{Selector: &metav1.LabelSelector{
				MatchLabels:      map[string]string{"tier": "critical"},
				MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "env", Operator: metav1.LabelSelectorOpIn, Values: []string{"prod", "staging"}}},
			}},
			Schedule: "@hourly", Suspend: true,
			Retention: &cmfv1.Retention{KeepLast: ptr.To[int32](5), MaxAge: dur(168 * time.Hour), Origins: []cmfv1.RetentionOrigin{"PERIODIC", "UPGRADE"}},
			Template:  &cmfv1.SavepointTemplate{FormatType: cmfv1.FormatNative, Path: "s3://bucket/sp", BackoffLimit: ptr.To[int32](0)},
		},
	}, {
		name:     "no parents: the namespace default, and the output says so",
		args:     []string{"default", "--schedule", "@every 6h"},
		wantOut:  "savepointpolicy/default created: the namespace default of team-a, covering every application and statement no other policy names or selects\n",
		wantSpec: &cmfv1.SavepointPolicySpec{Schedule: "@every 6h"},
	}, {
		name:     "a namespace default with only a template: the defaults of the namespace's savepoints",
		args:     []string{"defaults", "--format", "NATIVE", "--path", "s3://bucket/team-a"},
		wantOut:  "savepointpolicy/defaults created: the namespace default of team-a, covering every application and statement no other policy names or selects, and the default of its savepoints' formatType and path\n",
		wantSpec: &cmfv1.SavepointPolicySpec{Template: &cmfv1.SavepointTemplate{FormatType: cmfv1.FormatNative, Path: "s3://bucket/team-a"}},
	}, {
		name:       "a second namespace default is warned about: the older one applies",
		existing:   []client.Object{older, oldDefault},
		args:       []string{"default", "--schedule", "@daily"},
		wantOut:    "savepointpolicy/default created: the namespace default of team-a, covering every application and statement no other policy names or selects\n",
		wantErrOut: "Warning: savepointpolicy/old-default is a namespace default too: savepointpolicy/old-default applies (the older), and both will report a Conflict; give one --application, --statement or --selector, or delete one\n",
		wantSpec:   &cmfv1.SavepointPolicySpec{Schedule: "@daily"},
	}, {
		name:       "parents another policy names already are warned about",
		existing:   []client.Object{older, oldDefault},
		args:       []string{"mine", "-a", "orders,payments", "-s", "clicks", "--schedule", "@daily"},
		wantOut:    "savepointpolicy/mine created\n",
		wantErrOut: "Warning: savepointpolicy/older also names application orders, statement clicks: savepointpolicy/older applies to them (the older), and both will report a Conflict\n",
		wantSpec:   &cmfv1.SavepointPolicySpec{Schedule: "@daily", Parents: &cmfv1.PolicyParents{Applications: []string{"orders", "payments"}, Statements: []string{"clicks"}}},
	}, {
		name:         "a client dry run prints the manifest and sends nothing",
		args:         []string{"nightly", "-a", "orders", "--schedule", "0 2 * * *", "--keep-last", "3", "--dry-run=client", "-o", "yaml"},
		wantOutParts: []string{"kind: SavepointPolicy\n", "apiVersion: cmf.confluent.io/v1\n", "schedule: 0 2 * * *\n", "keepLast: 3\n", "  - orders\n"},
	}, {
		name:    "a client dry run without -o",
		args:    []string{"nightly", "--schedule", "@daily", "--dry-run"},
		wantOut: "savepointpolicy/nightly created (dry run): the namespace default of team-a, covering every application and statement no other policy names or selects\n",
	}, {
		name:    "a server dry run keeps nothing",
		args:    []string{"nightly", "-a", "orders", "--schedule", "@daily", "--dry-run=server"},
		wantOut: "savepointpolicy/nightly created (server dry run)\n",
	}, {
		name:         "-o name prints the policy created",
		args:         []string{"nightly", "-a", "orders", "--schedule", "@daily", "-o", "name"},
		wantOutParts: []string{"savepointpolicy.cmf.confluent.io/nightly\n"},
		wantSpec:     &cmfv1.SavepointPolicySpec{Schedule: "@daily", Parents: &cmfv1.PolicyParents{Applications: []string{"orders"}}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := cmdtesting.NewFactory(ns, tt.existing...)
			streams, _, out, errOut := genericiooptions.NewTestIOStreams()
			require.NoError(t, cmdtesting.Execute(NewCmd(f, streams), streams, append([]string{"create"}, tt.args...)...))
			if tt.wantOutParts == nil {
				assert.Equal(t, tt.wantOut, out.String())
			}
			for _, part := range tt.wantOutParts {
				assert.Contains(t, out.String(), part)
			}
			assert.Equal(t, tt.wantErrOut, errOut.String())

			p := &cmfv1.SavepointPolicy{}
			err := f.Fake.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: tt.args[0]}, p)
			if tt.wantSpec == nil {
				assert.Error(t, err, "nothing created")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, *tt.wantSpec, p.Spec)
		})
	}
}

// TestCreateDenied: the webhook's denial is the error, in its own words.
func TestCreateDenied(t *testing.T) {
	f := cmdtesting.NewFactory(ns)
	f.Intercept.Create = func(context.Context, client.WithWatch, client.Object, ...client.CreateOption) error {
		return cmdtesting.Denied(`spec.template.path "ftp://x": use a path the cluster can write, e.g. s3://bucket/savepoints`)
	}
	streams, _, out, _ := genericiooptions.NewTestIOStreams()
	err := cmdtesting.Execute(NewCmd(f, streams), streams, "create", "p", "--path", "ftp://x")
	require.EqualError(t, err, `spec.template.path "ftp://x": use a path the cluster can write, e.g. s3://bucket/savepoints`)
	assert.Empty(t, out.String())
}
