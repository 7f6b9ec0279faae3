package controller_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/controller"
	"github.com/kubectl-savepoint/kubectl-savepoint/e2e/controlplane"
	"github.com/kubectl-savepoint/kubectl-savepoint/e2e/flinkharness"
	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
	"github.com/kubectl-savepoint/kubectl-savepoint/rules"
)

// BenchmarkSavepointLifecycle takes savepoints one after another through the
// whole system (API server, controller, real Flink) and reports how long
// after Flink acknowledged the savepoint (its checkpoint history's
// latest_ack_timestamp) the Savepoint was seen COMPLETED, p50 and p99, and
// the JobManager REST calls made per savepoint (counted by a proxy).
func BenchmarkSavepointLifecycle(b *testing.B) {
	ctx := context.Background()
	env := controlplane.Start(b, controlplane.Options{})
	cluster := flinkharness.Start(ctx, b, flinkharness.Options{JobName: "orders"})
	proxy := flinkharness.NewFaultProxy(b, cluster.RESTURL)
	_, _ = env.StartManager(b, func(ctx context.Context, mgr ctrl.Manager) error {
		if err := rules.AddIndexes(ctx, mgr.GetFieldIndexer()); err != nil {
			return err
		}
		return controller.Setup(mgr, controller.Options{SkipNameValidation: true})
	})
	ns := "bench"
	require.NoError(b, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	require.NoError(b, env.Client.Create(ctx, &cmfv1.FlinkApplication{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orders", Annotations: map[string]string{cmfv1.RestURLAnnotation: proxy.URL}},
		Spec:       cmfv1.FlinkApplicationSpec{Job: &cmfv1.JobSpec{JarURI: "local:///job.jar"}},
	}))
	fc, err := flink.New(cluster.RESTURL, flink.Options{})
	require.NoError(b, err)
	dir := b.TempDir()

	var delays []time.Duration
	calls := 0
	for b.Loop() {
		before := total(proxy.Counts())
		sp := &cmfv1.Savepoint{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "orders-"},
			Spec:       cmfv1.SavepointSpec{Application: "orders", Path: dir},
		}
		require.NoError(b, env.Client.Create(ctx, sp))
		var seen time.Time
		for {
			require.NoError(b, env.Client.Get(ctx, client.ObjectKeyFromObject(sp), sp))
			if sp.Status.State == cmfv1.StateCompleted {
				seen = time.Now()
				break
			}
			require.NotEqual(b, cmfv1.StateFailed, sp.Status.State, sp.Status.Error)
			time.Sleep(time.Millisecond)
		}
		calls += total(proxy.Counts()) - before

		b.StopTimer()
		var acked int64
		require.Eventually(b, func() bool { // the history is cached for web.refresh-interval
			stats, err := fc.Checkpoints(ctx, cluster.JobID)
			require.NoError(b, err)
			for _, cp := range stats.History {
				if strings.TrimSuffix(cp.ExternalPath, "/") == strings.TrimSuffix(sp.Status.Path, "/") {
					acked = cp.LatestAck
					return true
				}
			}
			return false
		}, 10*time.Second, 100*time.Millisecond)
		delays = append(delays, seen.Sub(time.UnixMilli(acked)))
		b.StartTimer()
	}
	slices.Sort(delays)
	b.ReportMetric(float64(delays[len(delays)/2].Milliseconds()), "ms-delay-p50")
	b.ReportMetric(float64(delays[(len(delays)*99)/100].Milliseconds()), "ms-delay-p99")
	b.ReportMetric(float64(calls)/float64(len(delays)), "rest-calls/savepoint")
}

func total(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}
