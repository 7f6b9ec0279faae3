package controller_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/flinkharness"
)

// TestStarvation: thousands of savepoints whose JobManager does not answer
// (a closed port, and a listener that takes connections and never answers)
// do not keep another namespace's savepoint of a healthy job from
// completing; each of them ends as its backoffLimit says: 0 FAILED with the
// cause once its one attempt is spent, -1 waiting for the cluster (the
// condition ClusterReachable says why). A property, not a timing: the only
// bound is the test's deadline.
func TestStarvation(t *testing.T) {
	ctx := context.Background()
	env := controlplane.Start(t, controlplane.Options{})
	cluster := flinkharness.Start(ctx, t, flinkharness.Options{JobName: "orders"})
	refused, silent := closedPort(t), blackHole(t)

	opts := testOptions
	// Backoff as in production, shorter: the -1 savepoints try again
	// every few seconds, not every 400ms.
	opts.BackoffBase, opts.BackoffCap = time.Second, time.Minute
	opts.MaxConcurrentReconciles = 4
	startControllers(t, env, opts)

	const dead = 2000
	deadNS := env.Namespace(t)
	for name, url := range map[string]string{"refused": refused, "silent": silent} {
		app := &cmfv1.FlinkApplication{
			ObjectMeta: metav1.ObjectMeta{Namespace: deadNS, Name: name, Annotations: map[string]string{cmfv1.RestURLAnnotation: url}},
			Spec:       cmfv1.FlinkApplicationSpec{Job: &cmfv1.JobSpec{JarURI: "local:///opt/flink/job.jar"}},
		}
		require.NoError(t, env.Client.Create(ctx, app))
		// As the operator would record the job it runs there.
		env.RecordJob(t, app, strings.Repeat("d", 32))
	}
	// Half refused with backoffLimit 0, a quarter refused with -1, a
	// quarter silent with 0.
	kind := func(i int) (app string, limit int32) {
		switch i % 4 {
		case 0, 1:
			return "refused", 0
		case 2:
			return "refused", -1
		}
		return "silent", 0
	}
	errs := make(chan error, dead)
	var wg sync.WaitGroup
	slots := make(chan struct{}, 8)
	for i := range dead {
		app, limit := kind(i)
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			errs <- env.Client.Create(ctx, &cmfv1.Savepoint{
				ObjectMeta: metav1.ObjectMeta{Namespace: deadNS, Name: fmt.Sprintf("%s-%d", app, i)},
				Spec:       cmfv1.SavepointSpec{Application: app, BackoffLimit: ptr.To(limit)},
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	// Created behind all of them, in another namespace.
	healthyNS := env.Namespace(t)
	orders := &cmfv1.FlinkApplication{
		ObjectMeta: metav1.ObjectMeta{Namespace: healthyNS, Name: "orders", Annotations: map[string]string{cmfv1.RestURLAnnotation: cluster.RESTURL}},
		Spec:       cmfv1.FlinkApplicationSpec{Job: &cmfv1.JobSpec{JarURI: "local:///opt/flink/job.jar"}},
	}
	require.NoError(t, env.Client.Create(ctx, orders))
	env.RecordJob(t, orders, cluster.JobID)
	healthy := &cmfv1.Savepoint{ObjectMeta: metav1.ObjectMeta{Namespace: healthyNS, Name: "healthy"},
		Spec: cmfv1.SavepointSpec{Application: "orders", Path: t.TempDir()}}
	require.NoError(t, env.Client.Create(ctx, healthy))
	waitSavepoint(t, env.Client, healthy, 5*time.Minute, func(sp *cmfv1.Savepoint) bool { return sp.Status.State == cmfv1.StateCompleted })

	// Every dead one with backoffLimit 0 ends FAILED, saying why; the -1
	// ones keep waiting, counting their attempts.
	var list cmfv1.SavepointList
	deadline := time.Now().Add(5 * time.Minute)
	for {
		require.NoError(t, env.Client.List(ctx, &list, client.InNamespace(deadNS)))
		require.Len(t, list.Items, dead)
		settled := 0
		for _, sp := range list.Items {
			if settledDead(&sp) {
				settled++
			}
		}
		if settled == dead {
			break
		}
		if !time.Now().Before(deadline) {
			for _, sp := range list.Items {
				if !settledDead(&sp) {
					t.Logf("unsettled %s: state %q failures %d conditions %+v", sp.Name, sp.Status.State, sp.Status.Failures, sp.Status.Conditions)
				}
			}
		}
		require.True(t, time.Now().Before(deadline), "%d of %d dead savepoints settled", settled, dead)
		time.Sleep(time.Second)
	}
	states := map[string]int{}
	for _, sp := range list.Items {
		app, limit := sp.Spec.Application, *sp.Spec.BackoffLimit
		url := map[string]string{"refused": refused, "silent": silent}[app]
		states[fmt.Sprintf("%s/%d/%s", app, limit, sp.Status.State)]++
		assert.Empty(t, sp.Status.Path, sp.Name)
		assert.True(t, unreachable(&sp), "%s: %+v", sp.Name, sp.Status.Conditions)
		if app == "silent" && sp.Status.State == cmfv1.StateInProgress {
			// Its trigger was sent and never answered: it may have reached
			// Flink, so it is never ended FAILED without asking Flink about
			// its trigger ID; it waits for the cluster, counting nothing.
			assert.NotEmpty(t, sp.Status.TriggerID, sp.Name)
			assert.Zero(t, sp.Status.Failures, sp.Name)
			states[fmt.Sprintf("%s/%d/%s", app, limit, sp.Status.State)]--
			states["silent/0/FAILED"]++ // counted with the FAILED ones below
			continue
		}
		if limit == 0 {
			assert.Equal(t, cmfv1.StateFailed, sp.Status.State, sp.Name)
			assert.True(t, strings.HasPrefix(sp.Status.Error, "cluster not reachable at "+url), "%s: %q", sp.Name, sp.Status.Error)
			assert.Equal(t, int32(1), sp.Status.Failures, "%s: its one attempt, counted", sp.Name)
		} else {
			// Attempts are counted until the circuit opens; then it waits
			// for the cluster, spending none.
			assert.Equal(t, cmfv1.StateTriggerPending, sp.Status.State, sp.Name)
			assert.Contains(t, meta.FindStatusCondition(sp.Status.Conditions, cmfv1.ConditionClusterReachable).Message, url, sp.Name)
		}
	}
	delete(states, "silent/0/IN_PROGRESS")
	assert.Equal(t, map[string]int{"refused/0/FAILED": dead / 2, "refused/-1/TRIGGER_PENDING": dead / 4, "silent/0/FAILED": dead / 4}, states,
		"silent/0 counts the FAILED ones and those waiting IN_PROGRESS on a trigger that may have arrived")
}

// settledDead: a dead cluster's savepoint has come to rest: FAILED (its
// attempts spent, nothing sent), waiting TRIGGER_PENDING for the cluster,
// or waiting IN_PROGRESS on a trigger that was sent and never answered
// (it may have reached Flink: only Flink can say, once it answers).
func settledDead(sp *cmfv1.Savepoint) bool {
	switch sp.Status.State {
	case cmfv1.StateFailed:
		return true
	case cmfv1.StateTriggerPending:
		return unreachable(sp)
	case cmfv1.StateInProgress:
		return unreachable(sp) && sp.Status.TriggerID != ""
	}
	return false
}

// unreachable: the savepoint's ClusterReachable condition says the cluster
// did not answer.
func unreachable(sp *cmfv1.Savepoint) bool {
	c := meta.FindStatusCondition(sp.Status.Conditions, cmfv1.ConditionClusterReachable)
	return c != nil && c.Status == metav1.ConditionFalse && c.Reason == cmfv1.ReasonUnreachable
}

// waitSavepoint waits until cond holds for sp, or fails after timeout.
func waitSavepoint(t *testing.T, c client.Client, sp *cmfv1.Savepoint, timeout time.Duration, cond func(*cmfv1.Savepoint) bool) *cmfv1.Savepoint {
	t.Helper()
	got := &cmfv1.Savepoint{}
	deadline := time.Now().Add(timeout)
	for {
		require.NoError(t, c.Get(context.Background(), client.ObjectKeyFromObject(sp), got))
		if cond(got) {
			return got
		}
		require.True(t, time.Now().Before(deadline), "savepoint %s still %q (error %q, failures %d)", sp.Name, got.Status.State, got.Status.Error, got.Status.Failures)
		time.Sleep(20 * time.Millisecond)
	}
}

// closedPort is the URL of a loopback port nothing listens on: connections
// are refused.
func closedPort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "http://" + l.Addr().String()
	require.NoError(t, l.Close())
	return url
}

// blackHole is the URL of a listener that takes connections and never
// answers, as a JobManager whose process hangs.
func blackHole(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return "http://" + l.Addr().String()
}
