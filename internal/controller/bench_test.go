package controller_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/egress"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/index"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/flinkharness"
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
		if err := index.Add(ctx, mgr.GetFieldIndexer()); err != nil {
			return err
		}
		return controller.Setup(mgr, controller.Options{SkipNameValidation: true, Endpoints: egress.LocalOnly(), AllowRestURLAnnotation: true})
	})
	ns := "bench"
	require.NoError(b, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	orders := &cmfv1.FlinkApplication{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orders", Annotations: map[string]string{cmfv1.RestURLAnnotation: proxy.URL}},
		Spec:       cmfv1.FlinkApplicationSpec{Job: &cmfv1.JobSpec{JarURI: "local:///job.jar"}},
	}
	require.NoError(b, env.Client.Create(ctx, orders))
	env.RecordJob(b, orders, cluster.JobID) // as the operator's mirror would
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

// BenchmarkSessionRedeploy measures, on a real Flink session cluster, how
// long after a spec change the application's new job is RUNNING as the API
// server shows it: a new savepointRedeployNonce (cancel, deploy from a
// savepoint) against a suspend and resume (stop with a savepoint, adopt it,
// deploy from it). Compare the two within one run.
func BenchmarkSessionRedeploy(b *testing.B) {
	ctx := context.Background()
	env := controlplane.Start(b, controlplane.Options{})
	cluster := flinkharness.Start(ctx, b, flinkharness.Options{SavepointDir: b.TempDir()})
	opts := controller.Options{SkipNameValidation: true, SessionPollInterval: time.Second, Endpoints: egress.LocalOnly(), JarDir: filepath.Dir(cluster.JarPath)}
	_ = startControllers(b, env, opts)
	ns := "bench-session"
	require.NoError(b, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	require.NoError(b, env.Client.Create(ctx, &cmfv1.ComputePool{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pool"}, Spec: cmfv1.ComputePoolSpec{RestURL: cluster.RESTURL},
	}))
	app := &cmfv1.FlinkApplication{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orders"},
		Spec: cmfv1.FlinkApplicationSpec{ComputePoolName: "pool", Job: &cmfv1.JobSpec{
			JarURI: "file://" + cluster.JarPath, EntryClass: flinkharness.StatefulJobEntryClass,
			Args: []string{"--job-name", "orders"}, UpgradeMode: cmfv1.UpgradeSavepoint,
		}},
	}
	require.NoError(b, env.Client.Create(ctx, app))
	job := waitRunningJob(b, env.Client, app, "")
	sp := &cmfv1.Savepoint{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "base"}, Spec: cmfv1.SavepointSpec{Application: "orders"}}
	require.NoError(b, env.Client.Create(ctx, sp))
	require.Eventually(b, func() bool {
		require.NoError(b, env.Client.Get(ctx, client.ObjectKeyFromObject(sp), sp))
		return sp.Status.State == cmfv1.StateCompleted
	}, time.Minute, 10*time.Millisecond)

	patch := func(p string) {
		require.NoError(b, env.Client.Patch(ctx, app.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(p))))
	}
	var nonce, resume []time.Duration
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		patch(fmt.Sprintf(`{"spec":{"job":{"startFromSavepoint":{"savepointName":"base"},"savepointRedeployNonce":%d}}}`, i+1))
		job = waitRunningJob(b, env.Client, app, job)
		nonce = append(nonce, time.Since(start))

		patch(`{"spec":{"job":{"state":"suspended"}}}`)
		start = time.Now()
		require.Eventually(b, func() bool {
			require.NoError(b, env.Client.Get(ctx, client.ObjectKeyFromObject(app), app))
			return app.Status.LifecycleState == "SUSPENDED"
		}, time.Minute, 5*time.Millisecond)
		patch(`{"spec":{"job":{"state":"running"}}}`)
		job = waitRunningJob(b, env.Client, app, job)
		resume = append(resume, time.Since(start))
	}
	slices.Sort(nonce)
	slices.Sort(resume)
	b.ReportMetric(float64(nonce[len(nonce)/2].Milliseconds()), "ms-nonce-to-running-p50")
	b.ReportMetric(float64(resume[len(resume)/2].Milliseconds()), "ms-suspend-resume-p50")
}

// waitRunningJob waits until the application runs a job other than old.
func waitRunningJob(b *testing.B, c client.Client, app *cmfv1.FlinkApplication, old string) string {
	b.Helper()
	got := &cmfv1.FlinkApplication{}
	require.Eventually(b, func() bool {
		require.NoError(b, c.Get(context.Background(), client.ObjectKeyFromObject(app), got))
		return got.Status.LifecycleState == "RUNNING" && got.Status.JobStatus.State == "RUNNING" && got.Status.JobStatus.JobID != old
	}, 2*time.Minute, 5*time.Millisecond, "application %s: %q %+v %q", app.Name, got.Status.LifecycleState, got.Status.JobStatus, got.Status.Error)
	return got.Status.JobStatus.JobID
}
