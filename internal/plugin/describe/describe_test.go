package describe

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

const ns = "team-a"

var now = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func ago(d time.Duration) metav1.Time { return metav1.NewTime(now.Add(-d)) }

func completedOfOrders() *cmfv1.Savepoint {
	triggered, finished := metav1.NewMicroTime(now.Add(-90*time.Minute)), ago(89*time.Minute)
	return &cmfv1.Savepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orders-20261125t083000-3f9a", UID: "0d3c52a8", CreationTimestamp: ago(91 * time.Minute)},
		Spec:       cmfv1.SavepointSpec{Application: "orders", FormatType: cmfv1.FormatCanonical, BackoffLimit: ptr.To[int32](-1)},
		Status: cmfv1.SavepointStatus{
			State: cmfv1.StateCompleted, Path: "s3://flink/savepoints/savepoint-1a2b3c", Origin: cmfv1.OriginManual,
			JobID: "a1b2c3", TriggerID: "t-1", TriggerTimestamp: &triggered, ResultTimestamp: &finished,
			Conditions: []metav1.Condition{{Type: cmfv1.ConditionReady, Status: metav1.ConditionTrue, Reason: cmfv1.ReasonCompleted, Message: "savepoint at s3://flink/savepoints/savepoint-1a2b3c"}},
		},
	}
}

func event(regarding client.Object, uid types.UID, reason, note string, at time.Duration) *eventsv1.Event {
	return &eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: reason + "-" + string(uid), CreationTimestamp: ago(at)},
		EventTime:  metav1.NewMicroTime(now.Add(-at)),
		Regarding:  corev1.ObjectReference{Kind: "Savepoint", Namespace: ns, Name: regarding.GetName(), UID: uid},
		Type:       corev1.EventTypeNormal, Reason: reason, Note: note,
		ReportingController: "savepoint-manager", ReportingInstance: "savepoint-manager", Action: reason,
	}
}

func TestSavepointGolden(t *testing.T) {
	sp := completedOfOrders()
	failing := &cmfv1.Savepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "clicks-nightly", UID: "7f1e", CreationTimestamp: ago(3 * time.Minute)},
		Spec:       cmfv1.SavepointSpec{Statement: "clicks", Path: "s3://bucket/clicks", FormatType: cmfv1.FormatNative, BackoffLimit: ptr.To[int32](2)},
		Status: cmfv1.SavepointStatus{
			State: cmfv1.StateTriggerPending, Failures: 2, Origin: cmfv1.OriginManual, Error: "java.io.IOException: disk full", PendingDeletion: true,
			Conditions: []metav1.Condition{{Type: cmfv1.ConditionReady, Status: metav1.ConditionFalse, Reason: cmfv1.ReasonRetrying, Message: "attempt 3 after 40s"}},
		},
	}
	tests := []struct {
		golden string
		sp     *cmfv1.Savepoint
		events []eventsv1.Event
	}{
		{golden: "completed-application", sp: sp, events: []eventsv1.Event{
			*event(sp, sp.UID, "Completed", "savepoint at s3://flink/savepoints/savepoint-1a2b3c", 89*time.Minute),
			*event(sp, sp.UID, "Triggered", "trigger t-1 of job a1b2c3", 90*time.Minute),
		}},
		{golden: "failing-statement", sp: failing},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			var out bytes.Buffer
			require.NoError(t, Savepoint(&out, tt.sp, tt.events, now))
			golden(t, tt.golden, out.String())
		})
	}
}

func TestDetachedGolden(t *testing.T) {
	tests := []struct {
		golden string
		source *cmfv1.DetachedSavepointSource
	}{
		{golden: "detached", source: &cmfv1.DetachedSavepointSource{Namespace: ns, Application: "orders", SavepointName: "orders-20261125t083000-3f9a", UID: "0d3c52a8"}},
		{golden: "imported"},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			dsp := &cmfv1.DetachedSavepoint{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orders-before-migration", UID: "9e8d", CreationTimestamp: ago(49 * time.Hour)},
				Spec:       cmfv1.DetachedSavepointSpec{Path: "s3://flink/savepoints/savepoint-1a2b3c", Source: tt.source},
			}
			var out bytes.Buffer
			require.NoError(t, describeDetached(&out, dsp, now))
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
	require.NoError(t, err, "run go test ./internal/plugin/describe -update to write the golden file")
	assert.Equal(t, string(want), got)
}

func TestRun(t *testing.T) {
	sp := completedOfOrders()
	other := &cmfv1.Savepoint{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orders-2", UID: "11aa"}, Spec: cmfv1.SavepointSpec{Application: "orders"}}
	dsp := &cmfv1.DetachedSavepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "kept"},
		Spec:       cmfv1.DetachedSavepointSpec{Path: "s3://flink/savepoints/savepoint-0"},
	}
	objs := []client.Object{
		sp, other, dsp,
		event(sp, sp.UID, "Completed", "the savepoint's own event", time.Minute),
		event(sp, "5c5c", "Failed", "of an earlier savepoint of the same name", 2*time.Hour),
		event(other, other.UID, "Triggered", "of another savepoint", time.Minute),
	}
	tests := []struct {
		name string
		args []string

		wantOut   []string
		wantNotIn []string
		wantErr   string
	}{{
		name:      "a savepoint, with its events and no one else's",
		args:      []string{sp.Name},
		wantOut:   []string{"Name:              orders-20261125t083000-3f9a\n", "Ready=True  Completed", "the savepoint's own event", "kubectl savepoint start --application orders --savepoint " + sp.Name},
		wantNotIn: []string{"of an earlier savepoint", "of another savepoint"},
	}, {
		name:    "a detached savepoint",
		args:    []string{"kept", "--detached"},
		wantOut: []string{"Detached from:  <imported>\n", "Deleting it keeps the data at s3://flink/savepoints/savepoint-0.\n"},
	}, {
		name:    "no such savepoint",
		args:    []string{"ghost"},
		wantErr: "ghost not found in namespace team-a: list them with kubectl savepoint list",
	}, {
		name:    "no such detached savepoint",
		args:    []string{"ghost", "--detached"},
		wantErr: "ghost not found in namespace team-a: list them with kubectl savepoint list --detached",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := cmdtesting.NewFactory(ns, objs...)
			streams, _, out, _ := genericiooptions.NewTestIOStreams()
			err := cmdtesting.Execute(NewCmd(f, streams), streams, tt.args...)
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
