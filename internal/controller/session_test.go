package controller_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/retention"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/flinkharness"
)

// sessionSuite runs parents' jobs for real: the API server, the webhook, the
// controllers (restarted by tests as a crash would), and a real Flink with
// its SQL Gateway as the ComputePool, reached through a fault proxy.
type sessionSuite struct {
	env     *controlplane.Env
	c       client.Client
	flink   *flinkharness.Cluster
	proxy   *flinkharness.FaultProxy
	fc      *flink.Client
	stopCtl func()
	t       *testing.T
	// jarCacheBlocker is a file where the jar cache folder's parent should
	// be: the manager starts without that folder (file:// jars never need
	// it) until testJarCache removes the file.
	jarCacheBlocker string
}

var sessionOptions = func() controller.Options {
	o := testOptions
	o.SessionPollInterval = 200 * time.Millisecond
	o.PoolCheckInterval = time.Second
	return o
}()

func TestSessionMode(t *testing.T) {
	env := startWebhookPlane(t, controlplane.Options{Webhooks: true})
	ctx := context.Background()
	cluster := flinkharness.Start(ctx, t, flinkharness.Options{
		SQLGateway: true, SavepointDir: t.TempDir(), Slots: 16,
		// Flink forgets trigger results after 2s here (5 minutes by default).
		AsyncStoreDuration: 2 * time.Second,
		FlinkConfig:        map[string]string{"metrics.fetcher.update-interval": "300 ms"},
	})
	fc, err := flink.New(cluster.RESTURL, flink.Options{})
	require.NoError(t, err)
	s := &sessionSuite{env: env, c: env.Client, flink: cluster, proxy: flinkharness.NewFaultProxy(t, cluster.RESTURL), fc: fc, t: t,
		jarCacheBlocker: filepath.Join(t.TempDir(), "blocked")}
	require.NoError(t, os.WriteFile(s.jarCacheBlocker, nil, 0o644))
	s.startController()

	t.Run("application: run, savepoint, suspend, resume with its state, upgrade", s.testApplication)
	t.Run("application: start from a detached savepoint and from another application's path with the nonce", s.testNonce)
	t.Run("application: a bad jar or class is a condition, not a retry storm", s.testBadClass)
	t.Run("application: an http jar waits for a writable jar cache, then runs without a spec change", s.testJarCache)
	t.Run("the pool may come after its parents; its status", s.testPoolLater)
	t.Run("a savepoint taken outside is adopted once", s.testManualAdoption)
	t.Run("a deleted savepoint is never adopted again, even while another is in flight", s.testDeletedStaysDeleted)
	t.Run("statement: run, savepoint, stop, resume, start from its own savepoint", s.testStatement)
	t.Run("a manager killed mid-submit runs the job once", s.testCrashMidSubmit)
	t.Run("a manager killed mid-stop keeps the savepoint", s.testCrashMidStop)
	t.Run("deleting a parent cancels its job", s.testDeleteParent)
	t.Run("deleting a parent mid-stop keeps the stop's savepoint", s.testDeleteMidStop)
	t.Run("deleting only the pool leaves the job running and says so", s.testDeletePool)
	t.Run("deleting a namespace keeps every savepoint, findable and restorable, and leaves no job running", s.testNamespaceDeletion)
	t.Run("a new endpoint stops the job at the old one before deploying at the new one", s.testEndpointChange)
	t.Run("a running job is taken over by the ID the parent names, never by its name", s.testTakeOver)
}

func (s *sessionSuite) startController() {
	s.stopCtl = startControllers(s.t, s.env, s.controllerOptions())
}

func (s *sessionSuite) testApplication(t *testing.T) {
	ns := s.namespace(t)
	app := s.application(t, ns, "orders", nil)
	first := s.waitApp(t, app, "running", running)
	job1 := first.Status.JobStatus.JobID
	assert.Regexp(t, `^[0-9a-f]{32}$`, job1)
	assert.Equal(t, "RUNNING", s.flinkState(t, job1), "Flink runs the job under the recorded ID")
	assert.Equal(t, first.Status.Session.JarSHA256, sha256File(t, s.flink.JarPath), "the uploaded jar's checksum is recorded")
	requireEvent(t, s.c, app, "Deployed")

	manual := s.savepoint(t, ns, cmfv1.SavepointSpec{Application: "orders"})
	s.waitSavepoint(t, manual, func(sp *cmfv1.Savepoint) bool { return sp.Status.State == cmfv1.StateCompleted })

	before := s.waitMaxCount(t, job1, 15)
	s.patchApp(t, app, `{"spec":{"job":{"state":"suspended"}}}`)
	suspended := s.waitApp(t, app, "suspended", func(a *cmfv1.FlinkApplication) bool { return a.Status.LifecycleState == "SUSPENDED" })
	assert.Equal(t, "FINISHED", s.flinkState(t, job1), "stop-with-savepoint ends the job FINISHED")
	suspendSP := s.onlyOrigin(t, ns, cmfv1.ParentApplication, "orders", cmfv1.OriginSuspend)
	assert.Equal(t, suspended.Status.Session.ResumeFrom, suspendSP.Status.Path)
	assert.Equal(t, "stop-with-savepoint", suspendSP.Annotations[cmfv1.AdoptedFromAnnotation])
	assert.FileExists(t, filepath.Join(flinkharness.LocalPath(suspendSP.Status.Path), "_metadata"))
	requireEvent(t, s.c, app, "Stopped")

	s.patchApp(t, app, `{"spec":{"job":{"state":"running"}}}`)
	resumed := s.waitApp(t, app, "resumed", func(a *cmfv1.FlinkApplication) bool { return running(a) && a.Status.JobStatus.JobID != job1 })
	job2 := resumed.Status.JobStatus.JobID
	assert.Equal(t, suspendSP.Status.Path, resumed.Status.JobStatus.RestoredFrom)
	assert.Equal(t, suspendSP.Status.Path, s.restoredFrom(t, job2), "Flink reports the suspend savepoint as restored")
	after := s.waitMaxCount(t, job2, 1)
	assert.GreaterOrEqual(t, after, before, "the keyed counts continued from the savepoint (a fresh job counts from 1)")

	s.patchApp(t, app, `{"spec":{"job":{"args":["--job-name","orders","--rate","60"]}}}`)
	upgraded := s.waitApp(t, app, "upgraded", func(a *cmfv1.FlinkApplication) bool {
		return running(a) && a.Status.JobStatus.JobID != job2 && a.Status.JobStatus.JobID != job1
	})
	upgradeSP := s.onlyOrigin(t, ns, cmfv1.ParentApplication, "orders", cmfv1.OriginUpgrade)
	assert.Equal(t, upgradeSP.Status.Path, upgraded.Status.JobStatus.RestoredFrom)
	assert.Equal(t, upgradeSP.Status.Path, s.restoredFrom(t, upgraded.Status.JobStatus.JobID), "the upgraded job restored the upgrade savepoint")
	assert.Equal(t, "FINISHED", s.flinkState(t, job2))
	assert.Len(t, s.savepointsOf(t, ns, cmfv1.ParentApplication, "orders"), 3, "the manual, the suspend and the upgrade savepoint")

	s.suspend(t, app)
}

func (s *sessionSuite) testNonce(t *testing.T) {
	ns := s.namespace(t)
	source := s.application(t, ns, "source", nil)
	src := s.waitApp(t, source, "running", running)
	s.waitMaxCount(t, src.Status.JobStatus.JobID, 5)
	golden := s.waitSavepoint(t, s.savepoint(t, ns, cmfv1.SavepointSpec{Application: "source"}), completed)
	other := s.waitSavepoint(t, s.savepoint(t, ns, cmfv1.SavepointSpec{Application: "source"}), completed)
	require.NoError(t, s.c.Create(context.Background(), &cmfv1.DetachedSavepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "golden-" + ns},
		Spec: cmfv1.DetachedSavepointSpec{Path: golden.Status.Path, Source: &cmfv1.DetachedSavepointSource{
			Namespace: ns, Application: "source", SavepointName: golden.Name, UID: string(golden.UID),
		}},
	}))
	waitGone(t, s.c, golden)

	copyApp := s.application(t, ns, "copy", func(app *cmfv1.FlinkApplication) {
		app.Spec.Job.StartFromSavepoint = &cmfv1.StartFromSavepoint{SavepointName: "golden-" + ns}
		app.Spec.Job.SavepointRedeployNonce = ptr.To[int64](1)
	})
	first := s.waitApp(t, copyApp, "running from the detached savepoint", running)
	assert.Equal(t, golden.Status.Path, first.Status.JobStatus.RestoredFrom)
	assert.Equal(t, golden.Status.Path, s.restoredFrom(t, first.Status.JobStatus.JobID))

	start := time.Now()
	s.patchApp(t, copyApp, fmt.Sprintf(`{"spec":{"job":{"startFromSavepoint":{"savepointName":null,"initialSavepointPath":%q},"savepointRedeployNonce":2}}}`, other.Status.Path))
	second := s.waitApp(t, copyApp, "redeployed from the other application's savepoint", func(a *cmfv1.FlinkApplication) bool {
		return running(a) && a.Status.JobStatus.JobID != first.Status.JobStatus.JobID
	})
	t.Logf("nonce change to the restored job RUNNING (as the API server shows it): %s", time.Since(start).Round(time.Millisecond))
	assert.Equal(t, other.Status.Path, second.Status.JobStatus.RestoredFrom)
	assert.Equal(t, other.Status.Path, s.restoredFrom(t, second.Status.JobStatus.JobID))
	assert.Equal(t, "CANCELED", s.flinkState(t, first.Status.JobStatus.JobID), "a new nonce cancels without a savepoint")
	assert.Empty(t, s.savepointsOf(t, ns, cmfv1.ParentApplication, "copy"), "a redeploy by nonce takes no savepoint")
	requireEvent(t, s.c, copyApp, "Cancelled")

	s.suspend(t, copyApp)
	s.suspend(t, source)
}

func (s *sessionSuite) testBadClass(t *testing.T) {
	ns := s.namespace(t)
	runs := func() int { return s.proxy.Count("POST", `^/jars/[^/]+/run$`) }
	uploads := func() int { return s.proxy.Count("POST", `^/jars/upload$`) }
	missingJar := filepath.Join(filepath.Dir(s.flink.JarPath), "missing.jar")
	tests := []struct {
		name   string
		change func(*cmfv1.FlinkApplication)
		fix    string
		want   string
		// runs is 0 when nothing can reach Flink's run at all.
		runs int
	}{
		{"missing-class", func(app *cmfv1.FlinkApplication) { app.Spec.Job.EntryClass = "com.example.Missing" },
			fmt.Sprintf(`{"spec":{"job":{"entryClass":%q}}}`, flinkharness.StatefulJobEntryClass), "com.example.Missing", 1},
		{"missing-jar", func(app *cmfv1.FlinkApplication) { app.Spec.Job.JarURI = "file://" + missingJar },
			fmt.Sprintf(`{"spec":{"job":{"jarURI":%q}}}`, "file://"+s.flink.JarPath), "spec.job.jarURI: read the jar: " + missingJar + ": no such file", 0},
		// The manager's own files are not jars: nothing of them is read.
		{"outside-the-jar-folder", func(app *cmfv1.FlinkApplication) { app.Spec.Job.JarURI = "file:///etc/passwd" },
			fmt.Sprintf(`{"spec":{"job":{"jarURI":%q}}}`, "file://"+s.flink.JarPath), "spec.job.jarURI: file:///etc/passwd: outside " + filepath.Dir(s.flink.JarPath) + ", the one folder the manager reads jars from (--jar-dir)", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, beforeUploads := runs(), uploads()
			app := s.application(t, ns, tt.name, tt.change)
			failed := s.waitApp(t, app, "deploy failed", func(a *cmfv1.FlinkApplication) bool {
				c := meta.FindStatusCondition(a.Status.Conditions, cmfv1.ConditionReady)
				return c != nil && c.Reason == "DeployFailed"
			})
			c := meta.FindStatusCondition(failed.Status.Conditions, cmfv1.ConditionReady)
			assert.Contains(t, c.Message, tt.want)
			assert.NotContains(t, c.Message, "\n")
			assert.Equal(t, "FAILED", failed.Status.LifecycleState)
			requireEvent(t, s.c, app, "DeployFailed")
			if tt.runs == 0 {
				assert.Equal(t, 0, runs()-before, "nothing to run without a jar")
				assert.Equal(t, beforeUploads, uploads(), "nothing uploaded")
			}
			refused := runs()
			time.Sleep(10 * sessionOptions.SessionPollInterval)
			assert.Equal(t, refused, runs(), "a refused deploy is not retried until the spec changes")

			s.patchApp(t, app, tt.fix)
			fixed := s.waitApp(t, app, "running once fixed", running)
			assert.Empty(t, fixed.Status.Error)
			s.suspend(t, app)
		})
	}
}

func (s *sessionSuite) testJarCache(t *testing.T) {
	ns := s.namespace(t)
	jars := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, s.flink.JarPath) }))
	defer jars.Close()
	app := s.application(t, ns, "downloaded", func(app *cmfv1.FlinkApplication) { app.Spec.Job.JarURI = jars.URL + "/job.jar" })
	waiting := s.waitApp(t, app, "waiting for the jar cache", func(a *cmfv1.FlinkApplication) bool {
		c := meta.FindStatusCondition(a.Status.Conditions, cmfv1.ConditionReady)
		return c != nil && c.Reason == "JarCacheUnavailable"
	})
	c := meta.FindStatusCondition(waiting.Status.Conditions, cmfv1.ConditionReady)
	assert.Contains(t, c.Message, "not a directory")
	assert.Contains(t, c.Message, "--jar-cache-dir must be a writable folder")
	assert.NotContains(t, c.Message, "\n")
	assert.Equal(t, c.Message, waiting.Status.Error)
	assert.Equal(t, "DEPLOYING", waiting.Status.LifecycleState, "not FAILED: the spec is fine")
	requireEvent(t, s.c, app, "JarCacheUnavailable")

	require.NoError(t, os.Remove(s.jarCacheBlocker))
	ran := s.waitApp(t, app, "running once the jar cache can be made", running)
	assert.Equal(t, waiting.Status.JobStatus.JobID, ran.Status.JobStatus.JobID, "the recorded deploy, sent again")
	assert.Empty(t, ran.Status.Error)
	assert.Equal(t, sha256File(t, s.flink.JarPath), ran.Status.Session.JarSHA256)
	cached, err := filepath.Glob(filepath.Join(s.jarCacheBlocker, "jars", "*"))
	require.NoError(t, err)
	assert.Len(t, cached, 1, "the downloaded jar, made at the first download")
	s.suspend(t, app)
}

func (s *sessionSuite) testPoolLater(t *testing.T) {
	ns := s.env.Namespace(t)
	app := s.application(t, ns, "early", nil)
	s.waitApp(t, app, "waiting for its pool", func(a *cmfv1.FlinkApplication) bool {
		c := meta.FindStatusCondition(a.Status.Conditions, cmfv1.ConditionComputePool)
		return c != nil && c.Reason == "ComputePoolNotFound" && strings.Contains(c.Message, `spec.computePoolName "pool"`)
	})
	s.pool(t, ns, s.proxy.URL)
	s.waitApp(t, app, "running once the pool exists", running)

	pool := &cmfv1.ComputePool{}
	require.Eventually(t, func() bool {
		require.NoError(t, s.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "pool"}, pool))
		return pool.Status.Reachable
	}, 30*time.Second, 50*time.Millisecond)
	assert.Equal(t, s.flink.FlinkVersion, pool.Status.FlinkVersion)
	assert.True(t, meta.IsStatusConditionTrue(pool.Status.Conditions, "Ready"))
	s.suspend(t, app)
}

func (s *sessionSuite) testManualAdoption(t *testing.T) {
	ns, app, job := s.runningApp(t, "handmade")

	// Taken by hand through Flink's REST API, outside any Savepoint.
	trigger := flink.TriggerIDFor("by-hand", ns)
	_, err := s.fc.TriggerSavepoint(context.Background(), job, flink.SavepointRequest{TriggerID: trigger})
	require.NoError(t, err)
	var path string
	require.Eventually(t, func() bool {
		op, err := s.fc.SavepointStatus(context.Background(), job, trigger)
		require.NoError(t, err)
		path = op.Location
		return op.State == flink.OperationCompleted
	}, 30*time.Second, 20*time.Millisecond)
	require.NotEmpty(t, path)

	var adopted cmfv1.Savepoint
	require.Eventually(t, func() bool {
		list := s.savepointsOf(t, ns, cmfv1.ParentApplication, "handmade")
		if len(list) != 1 || list[0].Status.State != cmfv1.StateCompleted {
			return false
		}
		adopted = list[0]
		return true
	}, 30*time.Second, 50*time.Millisecond, "the savepoint taken by hand is adopted")
	assert.Equal(t, path, adopted.Status.Path)
	assert.Equal(t, cmfv1.OriginManual, adopted.Status.Origin)
	assert.Equal(t, "checkpoint-history", adopted.Annotations[cmfv1.AdoptedFromAnnotation])
	assert.Equal(t, job, adopted.Status.JobID)

	time.Sleep(10 * sessionOptions.SessionPollInterval)
	assert.Len(t, s.savepointsOf(t, ns, cmfv1.ParentApplication, "handmade"), 1, "adopted once")
	require.NoError(t, s.c.Delete(context.Background(), &adopted))
	waitGone(t, s.c, &adopted)
	time.Sleep(10 * sessionOptions.SessionPollInterval)
	assert.Empty(t, s.savepointsOf(t, ns, cmfv1.ParentApplication, "handmade"), "a deleted adopted savepoint is not adopted again")
	s.suspend(t, app)
}

func (s *sessionSuite) testDeletedStaysDeleted(t *testing.T) {
	ctx := context.Background()
	ns, app, _ := s.runningApp(t, "forgetful")
	inProgress := func(sp *cmfv1.Savepoint) bool { return sp.Status.State == cmfv1.StateInProgress }
	completed := func(sp *cmfv1.Savepoint) bool { return sp.Status.State == cmfv1.StateCompleted }

	// Two savepoints in flight; the second stays in flight (its status
	// polls fail), which holds back adoption from the job's history.
	s.proxy.Fail("GET", `^/jobs/[^/]+/savepoints/[^/]+$`, 503, -1)
	defer s.proxy.Heal()
	first := s.waitSavepoint(t, s.savepoint(t, ns, cmfv1.SavepointSpec{Application: "forgetful"}), inProgress)
	second := s.waitSavepoint(t, s.savepoint(t, ns, cmfv1.SavepointSpec{Application: "forgetful"}), inProgress)
	s.proxy.Heal()
	s.proxy.Fail("GET", `^/jobs/[^/]+/savepoints/`+second.Status.TriggerID+`$`, 503, -1)

	first = s.waitSavepoint(t, first, completed)
	require.NoError(t, s.c.Delete(ctx, first))
	waitGone(t, s.c, first)
	assert.NoDirExists(t, flinkharness.LocalPath(first.Status.Path), "its data was disposed")
	before := &cmfv1.FlinkApplication{}
	require.NoError(t, s.c.Get(ctx, client.ObjectKeyFromObject(app), before))

	s.proxy.Heal()
	s.waitSavepoint(t, second, completed)
	s.waitApp(t, app, "the history looked at again", func(a *cmfv1.FlinkApplication) bool {
		return a.Status.Session.AdoptedCheckpointID > before.Status.Session.AdoptedCheckpointID
	})
	for _, sp := range s.savepointsOf(t, ns, cmfv1.ParentApplication, "forgetful") {
		assert.NotEqual(t, first.Status.Path, sp.Status.Path, "the deleted savepoint came back as %s", sp.Name)
	}
	s.suspend(t, app)
}

func (s *sessionSuite) testStatement(t *testing.T) {
	ns := s.namespace(t)
	stmt := &cmfv1.Statement{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "clicks"},
		Spec: cmfv1.StatementSpec{ComputePoolName: "pool", Statement: `
			CREATE TEMPORARY TABLE clicks (region STRING, n BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '20', 'fields.region.length' = '1');
			CREATE TEMPORARY TABLE per_region (region STRING, total BIGINT) WITH ('connector' = 'blackhole');
			-- the job; a semicolon in a comment; does not split
			INSERT INTO per_region SELECT region, SUM(n) FROM clicks GROUP BY region;`},
	}
	require.NoError(t, s.c.Create(context.Background(), stmt))
	first := s.waitStatement(t, stmt, "running", stmtRunning)
	job1 := first.Status.JobStatus.JobID
	require.NoError(t, s.flink.WaitUntilJobRunning(context.Background(), job1))
	named, err := s.fc.Job(context.Background(), job1)
	require.NoError(t, err)
	assert.Equal(t, "clicks", named.Name, "pipeline.name is the statement's name; the job has the recorded ID")

	own := s.waitSavepoint(t, s.savepoint(t, ns, cmfv1.SavepointSpec{Statement: "clicks"}), completed)

	s.patchStatement(t, stmt, `{"spec":{"stopped":true}}`)
	stopped := s.waitStatement(t, stmt, "stopped", func(st *cmfv1.Statement) bool { return st.Status.Phase == "STOPPED" })
	suspendSP := s.onlyOrigin(t, ns, cmfv1.ParentStatement, "clicks", cmfv1.OriginSuspend)
	assert.Equal(t, stopped.Status.Session.ResumeFrom, suspendSP.Status.Path)

	s.patchStatement(t, stmt, `{"spec":{"stopped":false}}`)
	resumed := s.waitStatement(t, stmt, "resumed", func(st *cmfv1.Statement) bool { return stmtRunning(st) && st.Status.JobStatus.JobID != job1 })
	assert.Equal(t, suspendSP.Status.Path, s.restoredFrom(t, resumed.Status.JobStatus.JobID), "the resumed statement restored its stop savepoint")

	s.patchStatement(t, stmt, fmt.Sprintf(`{"spec":{"startFromSavepoint":{"savepointName":%q},"savepointRedeployNonce":1}}`, own.Name))
	fromOwn := s.waitStatement(t, stmt, "redeployed from its own savepoint", func(st *cmfv1.Statement) bool {
		return stmtRunning(st) && st.Status.JobStatus.RestoredFrom == own.Status.Path
	})
	assert.Equal(t, own.Status.Path, s.restoredFrom(t, fromOwn.Status.JobStatus.JobID))

	require.NoError(t, s.c.Create(context.Background(), &cmfv1.DetachedSavepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "elsewhere-" + ns}, Spec: cmfv1.DetachedSavepointSpec{Path: own.Status.Path},
	}))
	err = s.c.Patch(context.Background(), stmt, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"startFromSavepoint":{"savepointName":"elsewhere-`+ns+`"},"savepointRedeployNonce":2}}`)))
	require.Error(t, err, "a statement starts only from its own savepoints")
	assert.Contains(t, err.Error(), "own attached Savepoints")

	bad := &cmfv1.Statement{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "typo"},
		Spec:       cmfv1.StatementSpec{ComputePoolName: "pool", Statement: "INSERT INTO missing_table SELECT 1"},
	}
	require.NoError(t, s.c.Create(context.Background(), bad))
	failed := s.waitStatement(t, bad, "failed", func(st *cmfv1.Statement) bool { return st.Status.Phase == "FAILED" })
	assert.Contains(t, failed.Status.Error, "missing_table")
	assert.NotContains(t, failed.Status.Error, "\n", "a SQL error is one line")

	s.patchStatement(t, stmt, `{"spec":{"stopped":true}}`)
	s.waitStatement(t, stmt, "stopped", func(st *cmfv1.Statement) bool { return st.Status.Phase == "STOPPED" })
}

func (s *sessionSuite) testCrashMidSubmit(t *testing.T) {
	ns := s.namespace(t)
	// Flink runs the job, but its answers never arrive: the manager cannot
	// know whether the submit or its status checks went through.
	s.proxy.LoseAnswers("POST", `^/jars/[^/]+/run$`, 503, -1)
	s.proxy.LoseAnswers("GET", `^/jobs/[0-9a-f]{32}/status$`, 503, -1)
	defer s.proxy.Heal()
	app := s.application(t, ns, "crashy", nil)
	recorded := s.waitApp(t, app, "deploy recorded, not known to be submitted", func(a *cmfv1.FlinkApplication) bool {
		return a.Status.Session != nil && a.Status.Session.Deploys == 1 && !a.Status.Session.Submitted && a.Status.JobStatus.JobID != ""
	})
	job := recorded.Status.JobStatus.JobID
	require.NoError(t, s.flink.WaitUntilJobRunning(context.Background(), job), "Flink did run it")
	require.Eventually(t, func() bool { return s.proxy.Count("POST", `^/jars/[^/]+/run$`) >= 2 }, 10*time.Second, 20*time.Millisecond,
		"the submit was repeated (with the same job ID)")

	s.stopCtl()
	s.proxy.Heal()
	s.startController()
	after := s.waitApp(t, app, "running after the restart", running)
	assert.Equal(t, job, after.Status.JobStatus.JobID, "the restarted manager adopted the submitted job")
	assert.Equal(t, 1, s.liveJobsNamed(t, "crashy"), "exactly one job runs")
	s.suspend(t, app)
}

func (s *sessionSuite) testCrashMidStop(t *testing.T) {
	ns, app, job := s.runningApp(t, "halting")

	s.proxy.LoseAnswers("POST", `^/jobs/[^/]+/stop$`, 503, -1)
	s.proxy.LoseAnswers("GET", `^/jobs/[^/]+/savepoints/`, 503, -1)
	defer s.proxy.Heal()
	s.patchApp(t, app, `{"spec":{"job":{"state":"suspended"}}}`)
	s.waitApp(t, app, "stop recorded", func(a *cmfv1.FlinkApplication) bool { return a.Status.Session.Stop != nil })
	require.Eventually(t, func() bool { return s.flinkState(t, job) == "FINISHED" }, 30*time.Second, 50*time.Millisecond, "Flink did stop it")

	s.stopCtl()
	s.proxy.Heal()
	// Long enough for the JobManager to forget the stop's trigger: the
	// restarted manager must find the savepoint in the job's history.
	time.Sleep(3 * time.Second)
	s.startController()
	s.waitApp(t, app, "suspended after the restart", func(a *cmfv1.FlinkApplication) bool { return a.Status.LifecycleState == "SUSPENDED" })
	sp := s.onlyOrigin(t, ns, cmfv1.ParentApplication, "halting", cmfv1.OriginSuspend)
	assert.FileExists(t, filepath.Join(flinkharness.LocalPath(sp.Status.Path), "_metadata"), "the stop's savepoint is kept")
	requireEvent(t, s.c, app, "Recovered")
}

func (s *sessionSuite) testDeleteParent(t *testing.T) {
	ns := s.namespace(t)
	app := s.application(t, ns, "doomed", nil)
	job := s.waitApp(t, app, "running", running).Status.JobStatus.JobID
	require.NoError(t, s.c.Delete(context.Background(), app))
	require.Eventually(t, func() bool {
		return apierrors.IsNotFound(s.c.Get(context.Background(), client.ObjectKeyFromObject(app), &cmfv1.FlinkApplication{}))
	}, 30*time.Second, 20*time.Millisecond, "the application is gone")
	assert.Equal(t, "CANCELED", s.flinkState(t, job), "its job was cancelled")
}

func (s *sessionSuite) testDeleteMidStop(t *testing.T) {
	ctx := context.Background()
	ns, app, job := s.runningApp(t, "stopping")

	// Flink stops the job with a savepoint; the manager cannot learn the
	// outcome until the proxy heals.
	s.proxy.Fail("GET", `^/jobs/[^/]+/savepoints/`, 503, -1)
	defer s.proxy.Heal()
	s.patchApp(t, app, `{"spec":{"job":{"state":"suspended"}}}`)
	s.waitApp(t, app, "stop recorded", func(a *cmfv1.FlinkApplication) bool { return a.Status.Session.Stop != nil })
	require.Eventually(t, func() bool { return s.flinkState(t, job) == "FINISHED" }, 30*time.Second, 50*time.Millisecond, "Flink did stop it")

	require.NoError(t, s.c.Delete(ctx, app))
	polled := s.proxy.Count("GET", `^/jobs/[^/]+/savepoints/`)
	require.Eventually(t, func() bool { return s.proxy.Count("GET", `^/jobs/[^/]+/savepoints/`) >= polled+2 }, 30*time.Second, 20*time.Millisecond, "the manager keeps asking")
	kept := &cmfv1.FlinkApplication{}
	require.NoError(t, s.c.Get(ctx, client.ObjectKeyFromObject(app), kept), "the application waits for its stop's outcome")
	assert.NotNil(t, kept.DeletionTimestamp)

	s.proxy.Heal()
	require.Eventually(t, func() bool {
		return apierrors.IsNotFound(s.c.Get(ctx, client.ObjectKeyFromObject(app), &cmfv1.FlinkApplication{}))
	}, 30*time.Second, 20*time.Millisecond, "the application is gone")
	sp := s.onlyOrigin(t, ns, cmfv1.ParentApplication, "stopping", cmfv1.OriginSuspend)
	assert.FileExists(t, filepath.Join(flinkharness.LocalPath(sp.Status.Path), "_metadata"), "the stop's savepoint is kept and recorded")
}

func (s *sessionSuite) testDeletePool(t *testing.T) {
	ctx := context.Background()
	ns, app, job := s.runningApp(t, "poolless")

	require.NoError(t, s.c.Delete(ctx, &cmfv1.ComputePool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pool"}}))
	said := s.waitApp(t, app, "told", func(a *cmfv1.FlinkApplication) bool {
		c := meta.FindStatusCondition(a.Status.Conditions, cmfv1.ConditionComputePool)
		return c != nil && c.Reason == "ComputePoolNotFound"
	})
	assert.Contains(t, meta.FindStatusCondition(said.Status.Conditions, cmfv1.ConditionComputePool).Message, "job "+job+" keeps running at "+s.proxy.URL)
	assert.Equal(t, "RUNNING", s.flinkState(t, job), "the job runs on")

	// Deleting the parent still stops it, through the endpoint it ran on.
	require.NoError(t, s.c.Delete(ctx, app))
	require.Eventually(t, func() bool {
		return apierrors.IsNotFound(s.c.Get(ctx, client.ObjectKeyFromObject(app), &cmfv1.FlinkApplication{}))
	}, 30*time.Second, 20*time.Millisecond, "the application is gone")
	require.Eventually(t, func() bool { return s.flinkState(t, job) == "CANCELED" }, 30*time.Second, 50*time.Millisecond, "its job was cancelled where it ran")
}

func (s *sessionSuite) testNamespaceDeletion(t *testing.T) {
	ctx := context.Background()
	ns, _, job := s.runningApp(t, "doomed")
	completed := func(sp *cmfv1.Savepoint) bool { return sp.Status.State == cmfv1.StateCompleted }

	dir := t.TempDir()
	kept := []*cmfv1.Savepoint{
		s.waitSavepoint(t, s.savepoint(t, ns, cmfv1.SavepointSpec{Application: "doomed", Path: dir}), completed),
		s.waitSavepoint(t, s.savepoint(t, ns, cmfv1.SavepointSpec{Application: "doomed", Path: dir}), completed),
	}
	file := filepath.Join(t.TempDir(), "a-file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	s.waitSavepoint(t, s.savepoint(t, ns, cmfv1.SavepointSpec{Application: "doomed", Path: filepath.Join(file, "below"), BackoffLimit: ptr.To[int32](0)}),
		func(sp *cmfv1.Savepoint) bool { return sp.Status.State == cmfv1.StateFailed })
	// One in flight: Flink takes it, the manager learns it only once the
	// namespace is being deleted.
	s.proxy.Fail("GET", `^/jobs/[^/]+/savepoints/[^/]+$`, 503, -1)
	defer s.proxy.Heal()
	s.waitSavepoint(t, s.savepoint(t, ns, cmfv1.SavepointSpec{Application: "doomed", Path: dir}),
		func(sp *cmfv1.Savepoint) bool { return sp.Status.State == cmfv1.StateInProgress })
	require.Eventually(t, func() bool { return len(dirNames(t, dir)) == 3 }, 30*time.Second, 20*time.Millisecond, "Flink took the one in flight")
	before := dirNames(t, dir)

	_, stderr, err := s.env.RunKubectl(ctx, "delete", "namespace", ns, "--wait=false")
	require.NoError(t, err, stderr)
	s.proxy.Heal()
	require.Eventually(t, func() bool {
		return apierrors.IsNotFound(s.c.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{}))
	}, 3*time.Minute, 100*time.Millisecond, "the namespace controller finished")

	assert.Equal(t, before, dirNames(t, dir), "nothing was disposed")
	assert.Equal(t, "FINISHED", s.flinkState(t, job), "its job was stopped with a savepoint, not left running")
	var retained cmfv1.DetachedSavepointList
	require.NoError(t, s.c.List(ctx, &retained, client.InNamespace("savepoint-system"), client.MatchingLabels{retention.RetainedFromNamespaceLabel: ns}))
	var paths []string
	var stop *cmfv1.DetachedSavepoint
	for i, dsp := range retained.Items {
		paths = append(paths, filepath.Base(flinkharness.LocalPath(dsp.Spec.Path)))
		assert.FileExists(t, filepath.Join(flinkharness.LocalPath(dsp.Spec.Path), "_metadata"), "%s keeps data that exists", dsp.Name)
		if dsp.Status.Origin == cmfv1.OriginSuspend {
			stop = &retained.Items[i]
		}
	}
	require.NotNil(t, stop, "the final stop's savepoint is kept: %v", paths)
	assert.ElementsMatch(t, append(before, filepath.Base(flinkharness.LocalPath(stop.Spec.Path))), paths,
		"every COMPLETED savepoint, the one in flight and the final stop's are DetachedSavepoints; the FAILED one had no data")
	for _, sp := range kept {
		assert.Contains(t, paths, filepath.Base(flinkharness.LocalPath(sp.Status.Path)))
	}

	// Restorable: another namespace's application starts from the stop's.
	other := s.namespace(t)
	reborn := s.application(t, other, "reborn", func(a *cmfv1.FlinkApplication) {
		a.Spec.Job.StartFromSavepoint = &cmfv1.StartFromSavepoint{SavepointName: stop.Name}
	})
	restored := s.waitApp(t, reborn, "running from the retained savepoint", running)
	assert.Equal(t, stop.Spec.Path, restored.Status.JobStatus.RestoredFrom)
	assert.Equal(t, stop.Spec.Path, s.restoredFrom(t, restored.Status.JobStatus.JobID), "Flink restored it")
	s.suspend(t, reborn)
}

func (s *sessionSuite) testEndpointChange(t *testing.T) {
	ctx := context.Background()
	ns, app, job := s.runningApp(t, "moving")

	// The same cluster at another address: a job "not found" at the new
	// URL must not be deployed a second time while it runs at the old one.
	other := flinkharness.NewFaultProxy(t, s.flink.RESTURL)
	pool := &cmfv1.ComputePool{}
	require.NoError(t, s.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "pool"}, pool))
	require.NoError(t, s.c.Patch(ctx, pool, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"restURL":"`+other.URL+`"}}`))))

	moved := s.waitApp(t, app, "redeployed at the new endpoint", func(a *cmfv1.FlinkApplication) bool {
		return running(a) && a.Status.JobStatus.JobID != job && a.Status.Session.RestURL == other.URL
	})
	assert.Equal(t, "FINISHED", s.flinkState(t, job), "stopped with a savepoint at the old endpoint")
	upgrade := s.onlyOrigin(t, ns, cmfv1.ParentApplication, "moving", cmfv1.OriginUpgrade)
	assert.Equal(t, upgrade.Status.Path, moved.Status.JobStatus.RestoredFrom, "the new job starts from it")
	assert.Equal(t, 1, s.liveJobsNamed(t, "moving"), "never two jobs")
	requireEvent(t, s.c, app, "EndpointChanged")
	s.suspend(t, app)
}

func (s *sessionSuite) testTakeOver(t *testing.T) {
	ctx := context.Background()
	ns := s.namespace(t)
	jar, err := s.fc.UploadJar(ctx, s.flink.JarPath)
	require.NoError(t, err)
	legacy, err := s.fc.RunJar(ctx, jar, flink.RunRequest{EntryClass: flinkharness.StatefulJobEntryClass, Args: []string{"--job-name", "legacy"}, Parallelism: 1})
	require.NoError(t, err)
	require.NoError(t, s.flink.WaitUntilJobRunning(ctx, legacy))

	t.Run("by its name: not taken over, whoever runs it", func(t *testing.T) {
		app := s.application(t, ns, "legacy", nil)
		own := s.waitApp(t, app, "running", running)
		assert.NotEqual(t, legacy, own.Status.JobStatus.JobID, "a job of its own")
		assert.Equal(t, 2, s.liveJobsNamed(t, "legacy"), "the job of that name was left alone")
		require.NoError(t, s.c.Delete(ctx, app))
		waitGone(t, s.c, app)
		state, err := s.fc.JobState(ctx, legacy)
		require.NoError(t, err)
		assert.Equal(t, "RUNNING", state, "deleting the parent cancelled only its own job")
	})

	t.Run("a job ID that does not run there: a new job, and a Warning says why", func(t *testing.T) {
		app := s.application(t, ns, "named-wrong", func(a *cmfv1.FlinkApplication) {
			a.Annotations = map[string]string{cmfv1.TakeOverJobAnnotation: "0123456789abcdef0123456789abcdef"}
		})
		s.waitApp(t, app, "running", running)
		requireEvent(t, s.c, app, "TakeOverRefused")
		require.NoError(t, s.c.Delete(ctx, app))
		waitGone(t, s.c, app)
	})

	app := s.application(t, ns, "adopter", func(a *cmfv1.FlinkApplication) {
		a.Annotations = map[string]string{cmfv1.TakeOverJobAnnotation: legacy}
	})
	taken := s.waitApp(t, app, "running", running)
	assert.Equal(t, legacy, taken.Status.JobStatus.JobID, "the job it names by ID is the application's")
	assert.Equal(t, 1, s.liveJobsNamed(t, "legacy"), "no second job")
	requireEvent(t, s.c, app, "JobTakenOver")

	s.suspend(t, app)
	sp := s.onlyOrigin(t, ns, cmfv1.ParentApplication, "adopter", cmfv1.OriginSuspend)
	assert.Equal(t, legacy, sp.Status.JobID)
	s.patchApp(t, app, `{"spec":{"job":{"state":"running"}}}`)
	resumed := s.waitApp(t, app, "resumed", func(a *cmfv1.FlinkApplication) bool { return running(a) && a.Status.JobStatus.JobID != legacy })
	assert.Equal(t, sp.Status.Path, s.restoredFrom(t, resumed.Status.JobStatus.JobID), "a taken-over job resumes from its suspend savepoint")
	s.suspend(t, app)
}

// --- fixtures ---

// runningApp makes a namespace with the pool and an application whose job
// runs in Flink.
func (s *sessionSuite) runningApp(t *testing.T, name string) (string, *cmfv1.FlinkApplication, string) {
	t.Helper()
	ns := s.namespace(t)
	app := s.application(t, ns, name, nil)
	job := s.waitApp(t, app, "running", running).Status.JobStatus.JobID
	require.NoError(t, s.flink.WaitUntilJobRunning(context.Background(), job))
	return ns, app, job
}

func (s *sessionSuite) namespace(t *testing.T) string {
	t.Helper()
	ns := s.env.Namespace(t)
	s.pool(t, ns, s.proxy.URL)
	return ns
}

func (s *sessionSuite) pool(t *testing.T, ns, restURL string) {
	t.Helper()
	require.NoError(t, s.c.Create(context.Background(), &cmfv1.ComputePool{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pool"},
		Spec:       cmfv1.ComputePoolSpec{RestURL: restURL, SQLGatewayURL: s.flink.SQLGatewayURL},
	}))
}

func (s *sessionSuite) application(t *testing.T, ns, name string, change func(*cmfv1.FlinkApplication)) *cmfv1.FlinkApplication {
	t.Helper()
	app := &cmfv1.FlinkApplication{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: cmfv1.FlinkApplicationSpec{ComputePoolName: "pool", Job: &cmfv1.JobSpec{
			JarURI: "file://" + s.flink.JarPath, EntryClass: flinkharness.StatefulJobEntryClass,
			Args: []string{"--job-name", name}, Parallelism: ptr.To[int32](1), UpgradeMode: cmfv1.UpgradeSavepoint,
		}},
	}
	if change != nil {
		change(app)
	}
	require.NoError(t, s.c.Create(context.Background(), app))
	return app
}

func (s *sessionSuite) savepoint(t *testing.T, ns string, spec cmfv1.SavepointSpec) *cmfv1.Savepoint {
	t.Helper()
	sp := &cmfv1.Savepoint{ObjectMeta: metav1.ObjectMeta{Namespace: ns}, Spec: spec}
	require.NoError(t, s.c.Create(context.Background(), sp))
	return sp
}

func (s *sessionSuite) patchApp(t *testing.T, app *cmfv1.FlinkApplication, patch string) {
	t.Helper()
	require.NoError(t, s.c.Patch(context.Background(), app.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(patch))))
}

func (s *sessionSuite) patchStatement(t *testing.T, stmt *cmfv1.Statement, patch string) {
	t.Helper()
	require.NoError(t, s.c.Patch(context.Background(), stmt.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(patch))))
}

// suspend frees the job's slot for the next tests.
func (s *sessionSuite) suspend(t *testing.T, app *cmfv1.FlinkApplication) {
	t.Helper()
	s.patchApp(t, app, `{"spec":{"job":{"state":"suspended"}}}`)
	s.waitApp(t, app, "suspended", func(a *cmfv1.FlinkApplication) bool { return a.Status.LifecycleState == "SUSPENDED" })
}

func running(a *cmfv1.FlinkApplication) bool {
	return a.Status.LifecycleState == "RUNNING" && a.Status.JobStatus.State == "RUNNING"
}

func stmtRunning(st *cmfv1.Statement) bool {
	return st.Status.Phase == "RUNNING" && st.Status.JobStatus.State == "RUNNING"
}

func completed(sp *cmfv1.Savepoint) bool { return sp.Status.State == cmfv1.StateCompleted }

func (s *sessionSuite) waitApp(t *testing.T, app *cmfv1.FlinkApplication, what string, cond func(*cmfv1.FlinkApplication) bool) *cmfv1.FlinkApplication {
	t.Helper()
	return waitParent(t, s, app, what, cond, func(a *cmfv1.FlinkApplication) string {
		return fmt.Sprintf("lifecycle %q, job %+v, error %q, conditions %+v", a.Status.LifecycleState, a.Status.JobStatus, a.Status.Error, a.Status.Conditions)
	})
}

func (s *sessionSuite) waitStatement(t *testing.T, stmt *cmfv1.Statement, what string, cond func(*cmfv1.Statement) bool) *cmfv1.Statement {
	t.Helper()
	return waitParent(t, s, stmt, what, cond, func(st *cmfv1.Statement) string {
		return fmt.Sprintf("phase %q, job %+v, error %q, conditions %+v", st.Status.Phase, st.Status.JobStatus, st.Status.Error, st.Status.Conditions)
	})
}

// waitParent polls a parent until cond holds; on timeout it fails with
// what describe says of it and its events.
func waitParent[T client.Object](t *testing.T, s *sessionSuite, obj T, what string, cond func(T) bool, describe func(T) string) T {
	t.Helper()
	got := obj.DeepCopyObject().(T)
	deadline := time.Now().Add(60 * time.Second)
	for {
		require.NoError(t, s.c.Get(context.Background(), client.ObjectKeyFromObject(obj), got))
		if cond(got) {
			return got
		}
		if time.Now().After(deadline) {
			require.Failf(t, obj.GetName()+" not "+what, "%s%s", describe(got), eventsOf(s.c, got))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *sessionSuite) waitSavepoint(t *testing.T, sp *cmfv1.Savepoint, cond func(*cmfv1.Savepoint) bool) *cmfv1.Savepoint {
	t.Helper()
	got := &cmfv1.Savepoint{}
	require.Eventually(t, func() bool {
		require.NoError(t, s.c.Get(context.Background(), client.ObjectKeyFromObject(sp), got))
		return cond(got)
	}, 60*time.Second, 20*time.Millisecond, "savepoint %s", sp.Name)
	return got
}

func (s *sessionSuite) savepointsOf(t *testing.T, ns string, kind cmfv1.ParentKind, parent string) []cmfv1.Savepoint {
	t.Helper()
	var list cmfv1.SavepointList
	require.NoError(t, s.c.List(context.Background(), &list, client.InNamespace(ns)))
	var out []cmfv1.Savepoint
	for _, sp := range list.Items {
		if k, p := sp.Parent(); k == kind && p == parent {
			out = append(out, sp)
		}
	}
	return out
}

// onlyOrigin waits for the one COMPLETED savepoint of that origin.
func (s *sessionSuite) onlyOrigin(t *testing.T, ns string, kind cmfv1.ParentKind, parent string, origin cmfv1.SavepointOrigin) cmfv1.Savepoint {
	t.Helper()
	var found []cmfv1.Savepoint
	require.Eventually(t, func() bool {
		found = nil
		for _, sp := range s.savepointsOf(t, ns, kind, parent) {
			if sp.Status.Origin == origin && sp.Status.State == cmfv1.StateCompleted {
				found = append(found, sp)
			}
		}
		return len(found) > 0
	}, 30*time.Second, 20*time.Millisecond, "a COMPLETED %s savepoint of %s", origin, parent)
	require.Len(t, found, 1, "one %s savepoint", origin)
	assert.NotEmpty(t, found[0].Status.Path)
	return found[0]
}

func (s *sessionSuite) flinkState(t *testing.T, job string) string {
	t.Helper()
	state, err := s.fc.JobState(context.Background(), job)
	require.NoError(t, err)
	return state
}

// liveJobsNamed counts the jobs of that name that have not ended.
func (s *sessionSuite) liveJobsNamed(t *testing.T, name string) int {
	t.Helper()
	jobs, err := s.fc.JobsOverview(context.Background())
	require.NoError(t, err)
	n := 0
	for _, j := range jobs {
		if j.Name == name && j.State != "FINISHED" && j.State != "CANCELED" && j.State != "FAILED" {
			n++
		}
	}
	return n
}

// restoredFrom waits until Flink reports what the job restored (its
// checkpoint statistics are cached for web.refresh-interval).
func (s *sessionSuite) restoredFrom(t *testing.T, job string) string {
	t.Helper()
	var restored string
	require.Eventually(t, func() bool {
		stats, err := s.fc.Checkpoints(context.Background(), job)
		if err != nil || stats.Latest.Restored == nil {
			return false
		}
		restored = stats.Latest.Restored.ExternalPath
		return true
	}, 30*time.Second, 100*time.Millisecond, "job %s reports no restore", job)
	return restored
}

// waitMaxCount waits until the job's highest per-key count reaches at least
// least, and returns it.
func (s *sessionSuite) waitMaxCount(t *testing.T, job string, least int64) int64 {
	t.Helper()
	var count int64
	require.Eventually(t, func() bool {
		n, ok, err := s.flink.MaxCount(context.Background(), job)
		count = n
		return err == nil && ok && n >= least
	}, 60*time.Second, 100*time.Millisecond, "job %s: maxCount %d < %d", job, count, least)
	return count
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return fmt.Sprintf("%x", sha256.Sum256(data))
}
