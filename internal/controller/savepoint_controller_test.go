package controller_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zapcore"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/egress"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/flinkharness"
)

// suite is the whole system: a real API server, the webhook (in a manager
// of its own, always up), the controllers (in a manager that tests stop and
// start as a crash and a restart would), and a real Flink behind a fault
// proxy.
type suite struct {
	env     *controlplane.Env
	c       client.Client
	flink   *flinkharness.Cluster
	proxy   *flinkharness.FaultProxy
	stopCtl func()
	t       *testing.T
}

// testOptions: the test's Flink, its proxies and its jar server listen on
// loopback, which the manager may call only when told, as the playground
// does; the tests that point parents with the rest-url annotation need it
// honoured.
var testOptions = controller.Options{
	Endpoints:              egress.LocalOnly(),
	AllowRestURLAnnotation: true,
	RetentionNamespace:     "savepoint-system",
	BackoffBase:            50 * time.Millisecond,
	BackoffCap:             400 * time.Millisecond,
	ForgottenTriggerGrace:  time.Second,
	SkipNameValidation:     true,
}

func TestMain(m *testing.M) {
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	os.Exit(m.Run())
}

func TestSavepointLifecycle(t *testing.T) {
	env := startWebhookPlane(t, controlplane.Options{Webhooks: true})
	ctx := context.Background()
	// Flink forgets trigger results after 3s here (5 minutes by default).
	cluster := flinkharness.Start(ctx, t, flinkharness.Options{JobName: "orders", AsyncStoreDuration: 3 * time.Second})
	s := &suite{env: env, c: env.Client, flink: cluster, proxy: flinkharness.NewFaultProxy(t, cluster.RESTURL), t: t}
	s.startController()

	t.Run("lifecycle per format", s.testLifecycle)
	t.Run("no target directory and no default: FAILED, not retried", s.testNoDirectory)
	t.Run("a target directory that cannot be created: FAILED with Flink's cause", s.testBadDirectory)
	t.Run("backoffLimit against injected 500s", s.testBackoffLimit)
	t.Run("abandon by hand", s.testAbandon)
	t.Run("a restart never takes a second savepoint for one attempt", s.testRestart)
	t.Run("delete disposes; unreachable keeps; force orphans", s.testDelete)
	t.Run("detach keeps the data, also across a crash", s.testDetach)
	t.Run("the parent keeps a finalizer while savepoints are attached", s.testParentFinalizer)
	t.Run("the manager's finalizers never strip fields it does not know", s.testUnknownFields)
	t.Run("ABANDONED when the job is gone, also mid-flight", s.testJobGone)
	t.Run("a parent without a job ID waits; the job of its name is never taken", s.testNoJobID)
	t.Run("metrics", s.testMetrics)
	// Last: it uninstalls the CRDs of this control plane.
	t.Run("kubectl delete -k manifests/default while the manager runs keeps the data", s.testUninstall)
}

// startController starts the controllers' manager for the whole test.
func (s *suite) startController() {
	s.stopCtl = startControllers(s.t, s.env, testOptions)
}

func (s *suite) testLifecycle(t *testing.T) {
	ns := s.namespace(t, s.proxy.URL)
	for _, format := range []cmfv1.FormatType{cmfv1.FormatCanonical, cmfv1.FormatNative} {
		t.Run(string(format), func(t *testing.T) {
			dir := t.TempDir()
			sp := s.create(t, ns, cmfv1.SavepointSpec{Application: "orders", Path: dir, FormatType: format})
			sp = s.waitState(t, sp, cmfv1.StateCompleted)

			assert.True(t, strings.HasPrefix(sp.Status.Path, "file:"+dir+"/savepoint-"), sp.Status.Path)
			assert.FileExists(t, filepath.Join(flinkharness.LocalPath(sp.Status.Path), "_metadata"))
			assert.Equal(t, s.flink.JobID, sp.Status.JobID)
			assert.Regexp(t, `^[0-9a-f]{32}$`, sp.Status.TriggerID)
			assert.NotNil(t, sp.Status.TriggerTimestamp)
			assert.NotNil(t, sp.Status.ResultTimestamp)
			assert.Equal(t, cmfv1.OriginManual, sp.Status.Origin)
			assert.Zero(t, sp.Status.Failures)
			assert.Contains(t, sp.Finalizers, cmfv1.DisposeFinalizer)
			assert.Len(t, dirs(t, dir), 1)
			requireEvent(t, s.c, sp, "Triggered")
			requireEvent(t, s.c, sp, "Completed")
		})
	}
}

func (s *suite) testNoDirectory(t *testing.T) {
	// The harness's cluster has no execution.checkpointing.savepoint-dir.
	ns := s.namespace(t, s.proxy.URL)
	sp := s.create(t, ns, cmfv1.SavepointSpec{Application: "orders"})
	sp = s.waitState(t, sp, cmfv1.StateFailed)
	assert.Contains(t, sp.Status.Error, "execution.checkpointing.savepoint-dir] is not set")
	assert.Equal(t, int32(1), sp.Status.Failures, "a permanent error is not retried")
}

func (s *suite) testBadDirectory(t *testing.T) {
	ns := s.namespace(t, s.proxy.URL)
	file := filepath.Join(t.TempDir(), "a-file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	sp := s.create(t, ns, cmfv1.SavepointSpec{Application: "orders", Path: filepath.Join(file, "below"), BackoffLimit: ptr.To[int32](0)})
	sp = s.waitState(t, sp, cmfv1.StateFailed)
	assert.NotEmpty(t, sp.Status.Error)
	assert.NotContains(t, sp.Status.Error, "\n", "the root cause, on one line")
	t.Logf("Flink's cause: %s", sp.Status.Error)
}

func (s *suite) testBackoffLimit(t *testing.T) {
	tests := []struct {
		limit        int32
		injected     int
		wantState    cmfv1.SavepointState
		wantFailures int32
	}{
		{limit: 0, injected: -1, wantState: cmfv1.StateFailed, wantFailures: 1},
		{limit: 2, injected: -1, wantState: cmfv1.StateFailed, wantFailures: 3},
		{limit: -1, injected: 4, wantState: cmfv1.StateCompleted, wantFailures: 4},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("backoffLimit=%d", tt.limit), func(t *testing.T) {
			proxy := flinkharness.NewFaultProxy(t, s.flink.RESTURL)
			proxy.Fail(http.MethodPost, `/savepoints$`, http.StatusInternalServerError, tt.injected)
			ns := s.namespace(t, proxy.URL)
			dir := t.TempDir()
			sp := s.create(t, ns, cmfv1.SavepointSpec{Application: "orders", Path: dir, BackoffLimit: ptr.To(tt.limit)})
			sp = s.waitState(t, sp, tt.wantState)
			assert.Equal(t, tt.wantFailures, sp.Status.Failures)
			assert.Equal(t, int(tt.wantFailures)+boolInt(tt.wantState == cmfv1.StateCompleted), proxy.Count(http.MethodPost, `/savepoints$`), "one trigger per attempt: %v %s", proxy.Counts(), eventsOf(s.c, sp))
			if tt.wantState == cmfv1.StateCompleted {
				assert.Len(t, dirs(t, dir), 1)
			} else {
				assert.Contains(t, sp.Status.Error, "injected by the test's fault proxy")
			}
		})
	}
}

func (s *suite) testAbandon(t *testing.T) {
	proxy := flinkharness.NewFaultProxy(t, s.flink.RESTURL)
	proxy.Fail(http.MethodPost, `/savepoints$`, http.StatusInternalServerError, -1)
	ns := s.namespace(t, proxy.URL)
	sp := s.create(t, ns, cmfv1.SavepointSpec{Application: "orders", Path: t.TempDir()})
	s.waitFor(t, sp, func(sp *cmfv1.Savepoint) bool { return sp.Status.Failures >= 2 })
	s.annotate(t, sp, cmfv1.AbandonAnnotation, "true")
	sp = s.waitState(t, sp, cmfv1.StateAbandoned)
	assert.Equal(t, "abandoned by a user", sp.Status.Error)
	triggers := proxy.Count(http.MethodPost, `/savepoints$`)
	time.Sleep(500 * time.Millisecond)
	assert.Equal(t, triggers, proxy.Count(http.MethodPost, `/savepoints$`), "no more retries")
}

// testRestart stops the controller at the two dangerous moments and checks
// the disk: one savepoint directory per attempt.
func (s *suite) testRestart(t *testing.T) {
	ctx := context.Background()
	proxy := flinkharness.NewFaultProxy(t, s.flink.RESTURL)
	ns := s.namespace(t, proxy.URL)

	t.Run("trigger sent, result expired in Flink before the restart", func(t *testing.T) {
		dir := t.TempDir()
		// Flink takes the savepoint, but its status never reaches the controller.
		proxy.Fail(http.MethodGet, `/savepoints/[0-9a-f]{32}$`, http.StatusServiceUnavailable, -1)
		sp := s.create(t, ns, cmfv1.SavepointSpec{Application: "orders", Path: dir})
		s.waitFor(t, sp, func(sp *cmfv1.Savepoint) bool { return sp.Status.State == cmfv1.StateInProgress })
		require.Eventually(t, func() bool { return len(dirs(t, dir)) == 1 }, 20*time.Second, 20*time.Millisecond)
		s.stopCtl()

		time.Sleep(4 * time.Second) // past rest.async.store-duration: Flink forgets the trigger
		proxy.Heal()
		s.startController()
		sp = s.waitState(t, sp, cmfv1.StateCompleted)
		assert.Len(t, dirs(t, dir), 1, "found in the checkpoint history, not taken again")
		assert.True(t, strings.HasPrefix(sp.Status.Path, "file:"+dir), sp.Status.Path)
		requireEvent(t, s.c, sp, "Recovered")
	})

	t.Run("two triggers in flight, both forgotten: two savepoints, each held once, nothing resent", func(t *testing.T) {
		// Both share one target directory: the history alone must tell
		// them apart.
		dir := t.TempDir()
		proxy.Fail(http.MethodGet, `/savepoints/[0-9a-f]{32}$`, http.StatusServiceUnavailable, -1)
		sent := proxy.Count(http.MethodPost, `/savepoints$`)
		first := s.create(t, ns, cmfv1.SavepointSpec{Application: "orders", Path: dir})
		s.waitFor(t, first, func(sp *cmfv1.Savepoint) bool { return sp.Status.State == cmfv1.StateInProgress })
		second := s.create(t, ns, cmfv1.SavepointSpec{Application: "orders", Path: dir})
		s.waitFor(t, second, func(sp *cmfv1.Savepoint) bool { return sp.Status.State == cmfv1.StateInProgress })
		require.Eventually(t, func() bool { return len(dirs(t, dir)) == 2 }, 20*time.Second, 20*time.Millisecond, "Flink took both")
		s.stopCtl()

		time.Sleep(4 * time.Second) // past rest.async.store-duration: Flink forgets both triggers
		proxy.Heal()
		s.startController()
		first = s.waitState(t, first, cmfv1.StateCompleted)
		second = s.waitState(t, second, cmfv1.StateCompleted)
		assert.NotEqual(t, first.Status.Path, second.Status.Path, "one path, one Savepoint")
		assert.ElementsMatch(t, dirNames(t, dir), []string{filepath.Base(flinkharness.LocalPath(first.Status.Path)), filepath.Base(flinkharness.LocalPath(second.Status.Path))})
		assert.Equal(t, sent+2, proxy.Count(http.MethodPost, `/savepoints$`), "nothing sent again")
	})

	t.Run("trigger recorded, never sent", func(t *testing.T) {
		dir := t.TempDir()
		// The trigger is recorded in status, then its POST never reaches Flink.
		proxy.Fail(http.MethodPost, `/savepoints$`, http.StatusServiceUnavailable, -1)
		sp := s.create(t, ns, cmfv1.SavepointSpec{Application: "orders", Path: dir})
		s.waitFor(t, sp, func(sp *cmfv1.Savepoint) bool { return sp.Status.State == cmfv1.StateInProgress })
		require.Eventually(t, func() bool { return proxy.Count(http.MethodPost, `/savepoints$`) > 0 }, 10*time.Second, 10*time.Millisecond)
		s.stopCtl()
		proxy.Heal()
		s.startController()
		sp = s.waitState(t, sp, cmfv1.StateCompleted)
		assert.Len(t, dirs(t, dir), 1)
		assert.Zero(t, sp.Status.Failures)
	})
	_ = ctx
}

func (s *suite) testDelete(t *testing.T) {
	ctx := context.Background()
	proxy := flinkharness.NewFaultProxy(t, s.flink.RESTURL)
	ns := s.namespace(t, proxy.URL)

	t.Run("cluster up: the data is disposed", func(t *testing.T) {
		sp := s.waitState(t, s.create(t, ns, cmfv1.SavepointSpec{Application: "orders", Path: t.TempDir()}), cmfv1.StateCompleted)
		require.NoError(t, s.c.Delete(ctx, sp))
		waitGone(t, s.c, sp)
		assert.NoDirExists(t, flinkharness.LocalPath(sp.Status.Path))
	})

	t.Run("the parent re-pointed after it completed: disposed only through the JobManager that took it", func(t *testing.T) {
		// Another team's JobManager, as far as this parent is concerned: it
		// reaches the same Flink, so that a disposal sent there would work.
		other := flinkharness.NewFaultProxy(t, s.flink.RESTURL)
		rns := s.namespace(t, proxy.URL)
		sp := s.waitState(t, s.create(t, rns, cmfv1.SavepointSpec{Application: "orders", Path: t.TempDir()}), cmfv1.StateCompleted)
		assert.Equal(t, proxy.URL, sp.Status.RestURL, "the endpoint is recorded with the trigger")
		app := &cmfv1.FlinkApplication{ObjectMeta: metav1.ObjectMeta{Namespace: rns, Name: "orders"}}
		patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, cmfv1.RestURLAnnotation, other.URL)
		require.NoError(t, s.c.Patch(ctx, app, client.RawPatch(types.MergePatchType, []byte(patch))))
		before := proxy.Count(http.MethodPost, `/savepoint-disposal$`)
		require.NoError(t, s.c.Delete(ctx, sp))
		waitGone(t, s.c, sp)
		assert.NoDirExists(t, flinkharness.LocalPath(sp.Status.Path))
		assert.Zero(t, other.Count(http.MethodPost, `/savepoint-disposal$`), "nothing disposed through the endpoint the parent points at now")
		assert.Greater(t, proxy.Count(http.MethodPost, `/savepoint-disposal$`), before, "disposed through the endpoint it was taken through")
	})

	t.Run("cluster down: the resource stays until the data is disposed", func(t *testing.T) {
		sp := s.waitState(t, s.create(t, ns, cmfv1.SavepointSpec{Application: "orders", Path: t.TempDir()}), cmfv1.StateCompleted)
		proxy.Fail(http.MethodPost, `/savepoint-disposal$`, http.StatusServiceUnavailable, -1)
		require.NoError(t, s.c.Delete(ctx, sp))
		s.waitFor(t, sp, func(sp *cmfv1.Savepoint) bool { return sp.Status.PendingDeletion })
		assert.DirExists(t, flinkharness.LocalPath(sp.Status.Path))
		requireEvent(t, s.c, sp, "DisposalPending")
		proxy.Heal()
		waitGone(t, s.c, sp)
		assert.NoDirExists(t, flinkharness.LocalPath(sp.Status.Path))
	})

	t.Run("forced: the resource goes at once, the data stays, a Warning says where", func(t *testing.T) {
		proxy.Fail(http.MethodPost, `/savepoint-disposal$`, http.StatusServiceUnavailable, -1)
		defer proxy.Heal()
		sp := s.waitState(t, s.create(t, ns, cmfv1.SavepointSpec{Application: "orders", Path: t.TempDir()}), cmfv1.StateCompleted)
		s.annotate(t, sp, cmfv1.ForceDeleteAnnotation, "true")
		require.NoError(t, s.c.Delete(ctx, sp))
		waitGone(t, s.c, sp)
		assert.DirExists(t, flinkharness.LocalPath(sp.Status.Path))
		requireEvent(t, s.c, sp, "Orphaned")
	})

	// Deleted before its outcome is known: whatever Flink takes is disposed,
	// nothing is left behind, nothing hangs. Repeated, because where the
	// delete lands in the trigger's steps is a matter of timing.
	const rounds = 20
	t.Run("right after create: no hang in Terminating, nothing left on disk", func(t *testing.T) {
		dir := t.TempDir()
		for range rounds {
			sp := s.create(t, ns, cmfv1.SavepointSpec{Application: "orders", Path: dir})
			require.NoError(t, s.c.Delete(ctx, sp))
			waitGone(t, s.c, sp)
			if !assert.Empty(t, dirNames(t, dir), "savepoint data left behind by %s", sp.Name) {
				logEvents(t, s.c, sp)
				return
			}
			assertNoEvent(t, s.c, sp, "Orphaned")
		}
	})

	t.Run("while IN_PROGRESS: kept until Flink completes it, then disposed", func(t *testing.T) {
		// Flink takes the savepoint, but the manager cannot learn the
		// outcome: status polls fail until the test heals the proxy.
		polls := flinkharness.NewFaultProxy(t, s.flink.RESTURL)
		pns := s.namespace(t, polls.URL)
		dir := t.TempDir()
		for range rounds {
			polls.Fail(http.MethodGet, `/jobs/[^/]+/savepoints/[^/]+$`, http.StatusServiceUnavailable, -1)
			sent := polls.Count(http.MethodPost, `/savepoints$`)
			sp := s.create(t, pns, cmfv1.SavepointSpec{Application: "orders", Path: dir})
			sp = s.waitState(t, sp, cmfv1.StateInProgress)
			require.Eventually(t, func() bool { return polls.Count(http.MethodPost, `/savepoints$`) > sent }, 10*time.Second, 5*time.Millisecond, "trigger sent")
			require.NoError(t, s.c.Delete(ctx, sp))
			require.Eventually(t, func() bool { return len(dirNames(t, dir)) == 1 }, 10*time.Second, 5*time.Millisecond, "Flink wrote the savepoint")
			kept := s.waitFor(t, sp, func(sp *cmfv1.Savepoint) bool { return sp.Status.PendingDeletion })
			assert.NotNil(t, kept.DeletionTimestamp, "Terminating, held by its finalizer while the outcome is unknown")

			polls.Heal()
			waitGone(t, s.c, sp)
			assert.Empty(t, dirNames(t, dir), "savepoint data left behind by %s", sp.Name)
			requireEvent(t, s.c, sp, "Disposed")
			assertNoEvent(t, s.c, sp, "Orphaned")
		}
	})

	t.Run("forced while IN_PROGRESS: gone at once, a Warning names the trigger", func(t *testing.T) {
		polls := flinkharness.NewFaultProxy(t, s.flink.RESTURL)
		pns := s.namespace(t, polls.URL)
		polls.Fail(http.MethodGet, `/jobs/[^/]+/savepoints/[^/]+$`, http.StatusServiceUnavailable, -1)
		sp := s.waitState(t, s.create(t, pns, cmfv1.SavepointSpec{Application: "orders", Path: t.TempDir()}), cmfv1.StateInProgress)
		s.annotate(t, sp, cmfv1.ForceDeleteAnnotation, "true")
		require.NoError(t, s.c.Delete(ctx, sp))
		waitGone(t, s.c, sp)
		requireEvent(t, s.c, sp, "Orphaned")
	})
}

func (s *suite) testDetach(t *testing.T) {
	ctx := context.Background()
	ns := s.namespace(t, s.proxy.URL)

	t.Run("the attached savepoint goes, the data stays", func(t *testing.T) {
		sp := s.waitState(t, s.create(t, ns, cmfv1.SavepointSpec{Application: "orders", Path: t.TempDir()}), cmfv1.StateCompleted)
		s.detach(t, sp, "kept-"+ns)
		waitGone(t, s.c, sp)
		assert.DirExists(t, flinkharness.LocalPath(sp.Status.Path))
		require.NoError(t, s.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "kept-" + ns}, &cmfv1.DetachedSavepoint{}))
	})

	t.Run("a crash between the steps finishes on restart, without disposal", func(t *testing.T) {
		sp := s.waitState(t, s.create(t, ns, cmfv1.SavepointSpec{Application: "orders", Path: t.TempDir()}), cmfv1.StateCompleted)
		s.stopCtl()
		// What the controller had done before it "crashed": the detach is
		// recorded, the delete not yet made; then the DetachedSavepoint goes.
		s.detach(t, sp, "crashed-"+ns)
		s.annotate(t, sp, cmfv1.DetachedAsAnnotation, ns+"/crashed-"+ns)
		require.NoError(t, s.c.Delete(ctx, &cmfv1.DetachedSavepoint{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "crashed-" + ns}}))
		s.startController()
		waitGone(t, s.c, sp)
		assert.DirExists(t, flinkharness.LocalPath(sp.Status.Path), "a detach never disposes")
	})
}

func (s *suite) testUnknownFields(t *testing.T) {
	ctx := context.Background()
	ns := s.env.Namespace(t)
	// Fields the CRD keeps and our Go types lack, as the README advertises.
	app := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cmf.confluent.io/v1", "kind": "FlinkApplication",
		"metadata": map[string]any{"namespace": ns, "name": "orders", "annotations": map[string]any{cmfv1.RestURLAnnotation: s.proxy.URL}},
		"spec": map[string]any{
			"job":              map[string]any{"jarURI": "local:///opt/flink/job.jar"},
			"mode":             "native",
			"podTemplate":      map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "flink-main-container", "env": []any{map[string]any{"name": "TZ", "value": "UTC"}}}}}},
			"ingress":          map[string]any{"template": "{{name}}.flink.example.com"},
			"logConfiguration": map[string]any{"log4j-console.properties": "rootLogger.level = INFO"},
		},
	}}
	require.NoError(t, s.c.Create(ctx, app))
	s.env.RecordJob(t, &cmfv1.FlinkApplication{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orders"}}, s.flink.JobID)
	want, _, _ := unstructured.NestedMap(app.Object, "spec")

	sp := s.waitState(t, s.create(t, ns, cmfv1.SavepointSpec{Application: "orders", Path: t.TempDir()}), cmfv1.StateCompleted)
	stored := &unstructured.Unstructured{}
	stored.SetGroupVersionKind(app.GroupVersionKind())
	require.Eventually(t, func() bool {
		require.NoError(t, s.c.Get(ctx, client.ObjectKeyFromObject(app), stored))
		return containsString(stored.GetFinalizers(), cmfv1.ParentFinalizer)
	}, 10*time.Second, 10*time.Millisecond, "the parent finalizer is added")
	got, _, _ := unstructured.NestedMap(stored.Object, "spec")
	assert.Equal(t, want, got, "adding the parent finalizer kept the whole spec")

	require.NoError(t, s.c.Delete(ctx, sp))
	waitGone(t, s.c, sp)
	require.Eventually(t, func() bool {
		require.NoError(t, s.c.Get(ctx, client.ObjectKeyFromObject(app), stored))
		return !containsString(stored.GetFinalizers(), cmfv1.ParentFinalizer)
	}, 10*time.Second, 10*time.Millisecond, "the parent finalizer is removed")
	got, _, _ = unstructured.NestedMap(stored.Object, "spec")
	assert.Equal(t, want, got, "removing the parent finalizer kept the whole spec")
}

func (s *suite) testParentFinalizer(t *testing.T) {
	ctx := context.Background()
	ns := s.namespace(t, s.proxy.URL)
	app := &cmfv1.FlinkApplication{}
	key := client.ObjectKey{Namespace: ns, Name: "orders"}
	sp := s.create(t, ns, cmfv1.SavepointSpec{Application: "orders", Path: t.TempDir()})
	require.Eventually(t, func() bool {
		return s.c.Get(ctx, key, app) == nil && containsString(app.Finalizers, cmfv1.ParentFinalizer)
	}, 10*time.Second, 20*time.Millisecond)
	s.waitState(t, sp, cmfv1.StateCompleted)
	require.NoError(t, s.c.Delete(ctx, sp))
	waitGone(t, s.c, sp)
	require.Eventually(t, func() bool {
		return s.c.Get(ctx, key, app) == nil && !containsString(app.Finalizers, cmfv1.ParentFinalizer)
	}, 10*time.Second, 20*time.Millisecond)
}

func (s *suite) testJobGone(t *testing.T) {
	ctx := context.Background()
	// A job of its own, cancelled: its savepoints are abandoned, not retried.
	cluster := flinkharness.Start(ctx, t, flinkharness.Options{JobName: "orders"})
	proxy := flinkharness.NewFaultProxy(t, cluster.RESTURL)
	ns := s.namespaceRunning(t, proxy.URL, cluster.JobID)

	// Mid-flight: the trigger is recorded and IN_PROGRESS, but its POST
	// never reached Flink; then the job is cancelled.
	proxy.Fail(http.MethodPost, `/savepoints$`, http.StatusServiceUnavailable, -1)
	midFlight := s.create(t, ns, cmfv1.SavepointSpec{Application: "orders", Path: t.TempDir()})
	s.waitFor(t, midFlight, func(sp *cmfv1.Savepoint) bool { return sp.Status.State == cmfv1.StateInProgress })
	cancel, err := http.NewRequest(http.MethodPatch, cluster.RESTURL+"/jobs/"+cluster.JobID+"?mode=cancel", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(cancel)
	require.NoError(t, err)
	resp.Body.Close()
	proxy.Heal()
	midFlight = s.waitState(t, midFlight, cmfv1.StateAbandoned)
	// While the job is still CANCELLING, a re-sent trigger may fail as "not
	// running" and be retried once; either way the savepoint ends ABANDONED.
	assert.Contains(t, midFlight.Status.Error, "FlinkJobNotFoundException")
	assert.LessOrEqual(t, midFlight.Status.Failures, int32(1))

	// After: the job the parent's status records is gone; Flink says so
	// at the trigger.
	after := s.waitState(t, s.create(t, ns, cmfv1.SavepointSpec{Application: "orders", Path: t.TempDir()}), cmfv1.StateAbandoned)
	assert.Contains(t, after.Status.Error, "FlinkJobNotFoundException")
	assert.Zero(t, after.Status.Failures)
}

// testNoJobID: a job is the parent's only by the ID its status records. The
// harness's job runs under the parent's name ("orders") on the cluster the
// parent points at, but the parent's status names no job: its savepoint
// waits, TRIGGER_PENDING and saying why, and nothing reaches that job.
// Once the status names the job (as session mode or the operator's mirror
// writes it), the waiting savepoint is taken without anything else.
func (s *suite) testNoJobID(t *testing.T) {
	ctx := context.Background()
	proxy := flinkharness.NewFaultProxy(t, s.flink.RESTURL)
	ns := s.namespaceRunning(t, proxy.URL, "")
	fc, err := flink.New(s.flink.RESTURL, flink.Options{})
	require.NoError(t, err)
	since := time.Now().UnixMilli()
	dir := t.TempDir()

	sp := s.create(t, ns, cmfv1.SavepointSpec{Application: "orders", Path: dir})
	sp = s.waitFor(t, sp, func(sp *cmfv1.Savepoint) bool { return readyReasonOf(sp.Status.Conditions) == cmfv1.ReasonJobNotKnown })
	assert.Equal(t, cmfv1.StateTriggerPending, sp.Status.State)
	assert.Zero(t, sp.Status.Failures, "waiting is no failed attempt")
	assert.Empty(t, sp.Status.JobID)
	assert.Empty(t, sp.Status.TriggerID, "nothing triggered")
	ready := meta.FindStatusCondition(sp.Status.Conditions, cmfv1.ConditionReady)
	assert.Equal(t, "FlinkApplication orders has no job ID in its status (status.jobStatus.jobId) yet: its savepoint is taken once the job it deployed is known; a job is never taken by its name: job not known", ready.Message)
	// The decision is made before anything is sent: the cluster was asked
	// nothing about jobs, and the job of that name has no savepoint of ours.
	assert.Zero(t, proxy.Count(http.MethodPost, `/savepoints$`), "no trigger: %v", proxy.Counts())
	assert.Zero(t, proxy.Count(http.MethodGet, `/jobs/overview$`), "no job looked up by name: %v", proxy.Counts())
	stats, err := fc.Checkpoints(ctx, s.flink.JobID)
	require.NoError(t, err)
	assert.Empty(t, stats.SavepointsSince(since), "no savepoint of the job named orders")
	assert.Empty(t, dirNames(t, dir))
	state, err := fc.JobState(ctx, s.flink.JobID)
	require.NoError(t, err)
	assert.Equal(t, "RUNNING", state)

	// The job ID arrives: the savepoint is taken of that job, once.
	s.env.RecordJob(t, &cmfv1.FlinkApplication{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orders"}}, s.flink.JobID)
	sp = s.waitState(t, sp, cmfv1.StateCompleted)
	assert.Equal(t, s.flink.JobID, sp.Status.JobID)
	assert.Zero(t, sp.Status.Failures)
	assert.Len(t, dirNames(t, dir), 1)
	assert.Equal(t, 1, proxy.Count(http.MethodPost, `/savepoints$`))
}

func (s *suite) testMetrics(t *testing.T) {
	families, err := metrics.Registry.Gather()
	require.NoError(t, err)
	found := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			switch {
			case m.GetHistogram() != nil:
				found[f.GetName()] += float64(m.GetHistogram().GetSampleCount())
			case m.GetCounter() != nil:
				found[f.GetName()] += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				found[f.GetName()] += m.GetGauge().GetValue()
			}
		}
	}
	assert.Positive(t, found["savepoint_manager_trigger_to_complete_seconds"], "completions observed")
	assert.Positive(t, found["savepoint_manager_disposal_failures_total"], "the unreachable disposal counted")
	assert.Positive(t, found["savepoint_manager_flink_rest_errors_total"], "injected REST errors counted")
	assert.Contains(t, found, "savepoint_manager_savepoints")
}

func (s *suite) testUninstall(t *testing.T) {
	ctx := context.Background()
	ns := s.namespace(t, s.proxy.URL)
	dir := t.TempDir()
	sp := s.waitState(t, s.create(t, ns, cmfv1.SavepointSpec{Application: "orders", Path: dir}), cmfv1.StateCompleted)
	before := dirNames(t, dir)
	require.Len(t, before, 1)

	_, stderr, err := s.env.RunKubectl(ctx, "delete", "-k", filepath.Join(controlplane.RepoRoot(t), "manifests", "default"), "--wait=false", "--ignore-not-found")
	require.NoError(t, err, stderr)
	crd := &metav1.PartialObjectMetadata{}
	crd.SetGroupVersionKind(schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"})
	require.Eventually(t, func() bool {
		return apierrors.IsNotFound(s.c.Get(ctx, client.ObjectKey{Name: "savepoints.cmf.confluent.io"}, crd))
	}, 2*time.Minute, 100*time.Millisecond, "the Savepoint CRD and every Savepoint are gone")

	assert.Equal(t, before, dirNames(t, dir), "deleting the CRDs disposed nothing")
	requireEvent(t, s.c, sp, "Kept")
}

// --- fixtures ---

// namespace makes a namespace with an application "orders" reached at
// restURL, running the harness's job.
func (s *suite) namespace(t *testing.T, restURL string) string {
	t.Helper()
	return s.namespaceRunning(t, restURL, s.flink.JobID)
}

// namespaceRunning makes a namespace with an application "orders" reached
// at restURL whose status records jobID, as the manager's mirror of the
// operator would (no operator runs here); "" records none.
func (s *suite) namespaceRunning(t *testing.T, restURL, jobID string) string {
	t.Helper()
	ns := s.env.Namespace(t)
	app := &cmfv1.FlinkApplication{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orders", Annotations: map[string]string{cmfv1.RestURLAnnotation: restURL}},
		Spec:       cmfv1.FlinkApplicationSpec{Job: &cmfv1.JobSpec{JarURI: "local:///opt/flink/job.jar"}},
	}
	require.NoError(t, s.c.Create(context.Background(), app))
	if jobID != "" {
		s.env.RecordJob(t, app, jobID)
	}
	return ns
}

func (s *suite) create(t *testing.T, ns string, spec cmfv1.SavepointSpec) *cmfv1.Savepoint {
	t.Helper()
	sp := &cmfv1.Savepoint{ObjectMeta: metav1.ObjectMeta{Namespace: ns}, Spec: spec}
	require.NoError(t, s.c.Create(context.Background(), sp))
	return sp
}

// annotate sets an annotation as the plugin does: a merge patch, whatever
// the controller wrote meanwhile.
func (s *suite) annotate(t *testing.T, sp *cmfv1.Savepoint, key, value string) {
	t.Helper()
	patch := client.RawPatch(types.MergePatchType, []byte(fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, key, value)))
	require.NoError(t, s.c.Patch(context.Background(), sp, patch))
}

func (s *suite) detach(t *testing.T, sp *cmfv1.Savepoint, name string) {
	t.Helper()
	require.NoError(t, s.c.Create(context.Background(), &cmfv1.DetachedSavepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: sp.Namespace, Name: name},
		Spec: cmfv1.DetachedSavepointSpec{Path: sp.Status.Path, Source: &cmfv1.DetachedSavepointSource{
			Namespace: sp.Namespace, Application: sp.Spec.Application, SavepointName: sp.Name, UID: string(sp.UID),
		}},
	}))
}

func (s *suite) waitState(t *testing.T, sp *cmfv1.Savepoint, state cmfv1.SavepointState) *cmfv1.Savepoint {
	t.Helper()
	return s.waitFor(t, sp, func(sp *cmfv1.Savepoint) bool { return sp.Status.State == state })
}

func (s *suite) waitFor(t *testing.T, sp *cmfv1.Savepoint, cond func(*cmfv1.Savepoint) bool) *cmfv1.Savepoint {
	t.Helper()
	got := &cmfv1.Savepoint{}
	deadline := time.Now().Add(30 * time.Second)
	for {
		require.NoError(t, s.c.Get(context.Background(), client.ObjectKeyFromObject(sp), got))
		if cond(got) {
			return got
		}
		require.True(t, time.Now().Before(deadline), "savepoint %s still %s (error %q, failures %d)", sp.Name, got.Status.State, got.Status.Error, got.Status.Failures)
		time.Sleep(10 * time.Millisecond)
	}
}

// dirNames lists what is in dir: savepoint directories, one per savepoint.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	for _, e := range dirs(t, dir) {
		names = append(names, e.Name())
	}
	return names
}

func dirs(t *testing.T, dir string) []os.DirEntry {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	return entries
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
