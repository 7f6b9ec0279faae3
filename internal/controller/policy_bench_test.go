package controller_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/schedule"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/flinkharness"
)

// BenchmarkPolicyJitter: 20 statements of one namespace on one schedule
// with a 20s jitter, on a real Flink. It reports how the real trigger times
// (status.triggerTimestamp, when the savepoint request reached Flink) spread
// after each scheduled time, and how far each lies from the parent's
// computed offset. One iteration is one scheduled run of all 20.
func BenchmarkPolicyJitter(b *testing.B) {
	const parents, jitter, every = 20, 20 * time.Second, 30 * time.Second
	env := startWebhookPlane(b, controlplane.Options{Webhooks: true})
	ctx := context.Background()
	cluster := flinkharness.Start(ctx, b, flinkharness.Options{SQLGateway: true, SavepointDir: b.TempDir(), Slots: parents})
	opts := sessionOptions
	opts.JarDir = filepath.Dir(cluster.JarPath)
	startControllers(b, env, opts)

	ns := env.Namespace(b)
	require.NoError(b, env.Client.Create(ctx, &cmfv1.ComputePool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pool"},
		Spec: cmfv1.ComputePoolSpec{RestURL: cluster.RESTURL, SQLGatewayURL: cluster.SQLGatewayURL}}))
	for i := range parents {
		require.NoError(b, env.Client.Create(ctx, &cmfv1.Statement{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("s%02d", i)},
			Spec: cmfv1.StatementSpec{ComputePoolName: "pool", Statement: `
				CREATE TEMPORARY TABLE src (n BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '1');
				CREATE TEMPORARY TABLE sink (n BIGINT) WITH ('connector' = 'blackhole');
				INSERT INTO sink SELECT n FROM src;`},
		}))
	}
	require.Eventually(b, func() bool {
		var list cmfv1.StatementList
		require.NoError(b, env.Client.List(ctx, &list, client.InNamespace(ns)))
		return !slices.ContainsFunc(list.Items, func(s cmfv1.Statement) bool { return !stmtRunning(&s) })
	}, 5*time.Minute, 200*time.Millisecond, "20 statements RUNNING")

	policy := &cmfv1.SavepointPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "spread"},
		Spec: cmfv1.SavepointPolicySpec{Schedule: "@every 30s", Jitter: &metav1.Duration{Duration: jitter}}}
	require.NoError(b, env.Client.Create(ctx, policy))
	plan, err := schedule.Parse(&policy.Spec)
	require.NoError(b, err)

	var spreads, drifts []time.Duration
	for run := 1; b.Loop(); run++ {
		var mine []cmfv1.Savepoint
		require.Eventually(b, func() bool {
			var list cmfv1.SavepointList
			require.NoError(b, env.Client.List(ctx, &list, client.InNamespace(ns)))
			bySlot := map[string][]cmfv1.Savepoint{}
			for _, sp := range list.Items {
				if sp.Status.TriggerTimestamp != nil {
					slot := sp.Annotations[cmfv1.ScheduledTimeAnnotation]
					bySlot[slot] = append(bySlot[slot], sp)
				}
			}
			slots := make([]string, 0, len(bySlot))
			for slot := range bySlot {
				slots = append(slots, slot)
			}
			slices.Sort(slots)
			if len(slots) < run || len(bySlot[slots[run-1]]) < parents {
				return false
			}
			mine = bySlot[slots[run-1]]
			return true
		}, 3*every, 200*time.Millisecond, "run %d: a savepoint of each of the 20 statements", run)
		slot, err := time.Parse(time.RFC3339, mine[0].Annotations[cmfv1.ScheduledTimeAnnotation])
		require.NoError(b, err)
		// made: the Savepoint created (the policy's decision, whole
		// seconds); triggered: recorded by the savepoint controller just
		// before it sent the trigger to Flink.
		var made, triggered []time.Duration
		var worst time.Duration
		for _, sp := range mine {
			want := plan.Offset(ns, policy.Name, cmfv1.ParentStatement, sp.Spec.Statement)
			got := sp.Status.TriggerTimestamp.Sub(slot)
			triggered = append(triggered, got)
			made = append(made, sp.CreationTimestamp.Sub(slot))
			worst = max(worst, got-want)
		}
		slices.Sort(made)
		slices.Sort(triggered)
		spreads = append(spreads, triggered[len(triggered)-1]-triggered[0])
		drifts = append(drifts, worst)
		b.Logf("run %d (slot %s): created at %v after the slot; triggered at %v", run, slot.Format(time.RFC3339), made, triggered)
	}
	b.ReportMetric(seconds(slices.Min(spreads)), "min-spread-s")
	b.ReportMetric(seconds(slices.Max(drifts)), "max-trigger-after-offset-s")
}

func seconds(d time.Duration) float64 { return d.Seconds() }
