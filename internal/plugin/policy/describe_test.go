package policy

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdtesting"
)

var update = flag.Bool("update", false, "rewrite testdata/golden")

// now is Wednesday 25 November 2026, 10:00 UTC (11:00 in Berlin).
var now = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func before(d time.Duration) *metav1.Time { t := metav1.NewTime(now.Add(-d)); return &t }

// nightly applies to an application and a statement: 02:00 Berlin time
// within 10 minutes of jitter, no run during Saturday's maintenance (01:00
// for 3 hours: past the 1h deadline) nor Sunday's (01:30 for an hour: held).
func nightly() *cmfv1.SavepointPolicy {
	return &cmfv1.SavepointPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "nightly", UID: "5e1f", CreationTimestamp: metav1.NewTime(now.Add(-30 * 24 * time.Hour))},
		Spec: cmfv1.SavepointPolicySpec{
			Parents:  &cmfv1.PolicyParents{Applications: []string{"orders"}, Statements: []string{"clicks"}},
			Schedule: "0 2 * * *", TimeZone: "Europe/Berlin", Jitter: dur(10 * time.Minute), StartingDeadline: dur(time.Hour),
			BlackoutWindows: []cmfv1.BlackoutWindow{
				{Schedule: "0 1 * * 6", Duration: metav1.Duration{Duration: 3 * time.Hour}},
				{Schedule: "30 1 * * 0", Duration: metav1.Duration{Duration: time.Hour}},
			},
			Template:  &cmfv1.SavepointTemplate{FormatType: cmfv1.FormatNative, Path: "s3://bucket/nightly", BackoffLimit: ptr.To[int32](3)},
			Retention: &cmfv1.Retention{KeepLast: ptr.To[int32](7), MaxAge: dur(14 * 24 * time.Hour), Origins: []cmfv1.RetentionOrigin{"PERIODIC", "UPGRADE"}},
		},
		Status: cmfv1.SavepointPolicyStatus{
			ParentCount: 2, LastSuccessTime: before(32 * time.Hour), NextScheduleTime: &metav1.Time{Time: time.Date(2026, 11, 26, 1, 3, 0, 0, time.UTC)},
			LastRunRequest: "2026-11-20T08:00:00.000000001Z",
			Parents: []cmfv1.PolicyParentStatus{{
				Kind: cmfv1.ParentApplication, Name: "orders",
				LastScheduleTime:        before(9 * time.Hour),
				LastSavepoint:           "nightly-orders-20261125t010000",
				LastSuccessfulSavepoint: "nightly-orders-20261125t010000", LastSuccessTime: before(8*time.Hour + 55*time.Minute),
				Runs: 28, Skipped: cmfv1.SkipCounts{Blackout: 1, InFlight: 2}, RetentionDeletions: 21,
			}, {
				Kind: cmfv1.ParentStatement, Name: "clicks",
				LastScheduleTime:        before(9 * time.Hour),
				Waiting:                 "NotRunning",
				LastSavepoint:           "nightly-clicks-20261124t010000",
				LastSuccessfulSavepoint: "clicks-manual", LastSuccessTime: before(32 * time.Hour),
				Runs: 27, Skipped: cmfv1.SkipCounts{NotRunning: 1},
			}},
			Conditions: []metav1.Condition{
				{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Scheduled", Message: "2 parents on schedule"},
				{Type: "Conflict", Status: metav1.ConditionTrue, Reason: "EquallySpecific", Message: "savepointpolicy/orders-only also names application orders; this one, older, applies"},
			},
		},
	}
}

func TestDescribeGolden(t *testing.T) {
	suspended := nightly()
	suspended.Spec.Suspend = true
	fresh := &cmfv1.SavepointPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default", CreationTimestamp: metav1.NewTime(now.Add(-time.Minute))},
		Spec:       cmfv1.SavepointPolicySpec{Schedule: "@every 6h", Template: &cmfv1.SavepointTemplate{FormatType: cmfv1.FormatNative}},
	}
	templateOnly := &cmfv1.SavepointPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "defaults", CreationTimestamp: metav1.NewTime(now.Add(-time.Hour))},
		Spec: cmfv1.SavepointPolicySpec{
			Parents:  &cmfv1.PolicyParents{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "critical"}}},
			Template: &cmfv1.SavepointTemplate{Path: "s3://bucket/critical"},
		},
	}
	event := &eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "e1", CreationTimestamp: *before(9 * time.Hour)},
		EventTime:  metav1.NewMicroTime(now.Add(-9 * time.Hour)),
		Regarding:  corev1.ObjectReference{Kind: "SavepointPolicy", Namespace: ns, Name: "nightly", UID: "5e1f"},
		Type:       corev1.EventTypeNormal, Reason: "Scheduled", Note: "savepoint nightly-orders-20261125t010000 of application orders",
	}
	tests := []struct {
		golden string
		policy *cmfv1.SavepointPolicy
		events []eventsv1.Event
	}{
		{golden: "nightly", policy: nightly(), events: []eventsv1.Event{*event}},
		{golden: "suspended", policy: suspended},
		{golden: "fresh-namespace-default", policy: fresh},
		{golden: "template-only", policy: templateOnly},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			var out bytes.Buffer
			require.NoError(t, Describe(&out, tt.policy, tt.events, now))
			golden(t, tt.golden, out.String())
		})
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".txt")
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./internal/plugin/policy -update to write the golden file")
	assert.Equal(t, string(want), got)
}

func TestDescribeRun(t *testing.T) {
	p := nightly()
	mine := &eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "mine"}, EventTime: metav1.NewMicroTime(now.Add(-time.Minute)),
		Regarding: corev1.ObjectReference{Kind: "SavepointPolicy", Namespace: ns, Name: "nightly", UID: p.UID},
		Type:      corev1.EventTypeNormal, Reason: "Scheduled", Note: "the policy's own event",
	}
	earlier := mine.DeepCopy()
	earlier.Name, earlier.Regarding.UID, earlier.Note = "earlier", types.UID("0ld"), "of an earlier policy of the same name"
	tests := []struct {
		name      string
		args      []string
		wantOut   []string
		wantNotIn []string
		wantErr   string
	}{{
		name:      "a policy, with its events and no one else's",
		args:      []string{"nightly"},
		wantOut:   []string{"Name:               nightly\n", "  FlinkApplication orders:\n", "the policy's own event", "Conflict=True"},
		wantNotIn: []string{"of an earlier policy"},
	}, {
		name:    "no such policy",
		args:    []string{"ghost"},
		wantErr: "savepointpolicy ghost not found in namespace team-a: list them with kubectl savepoint policy list",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := cmdtesting.NewFactory(ns, []client.Object{p, mine, earlier}...)
			streams, _, out, _ := genericiooptions.NewTestIOStreams()
			o := NewDescribeOptions(streams)
			o.now = func() time.Time { return now }
			err := cmdtesting.Execute(newDescribeCmd(f, o), streams, tt.args...)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				assert.Empty(t, out.String())
				return
			}
			require.NoError(t, err)
			for _, want := range tt.wantOut {
				assert.Contains(t, out.String(), want)
			}
			for _, notWant := range tt.wantNotIn {
				assert.NotContains(t, out.String(), notWant)
			}
		})
	}
}
