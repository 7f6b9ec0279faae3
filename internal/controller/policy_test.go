package controller_test

import (
	"context"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/flinkharness"
)

// TestSavepointPolicies runs SavepointPolicies against the real API server
// and webhook, and a real Flink session cluster whose jobs the manager runs.
func TestSavepointPolicies(t *testing.T) {
	env := startWebhookPlane(t, controlplane.Options{Webhooks: true})
	ctx := context.Background()
	cluster := flinkharness.Start(ctx, t, flinkharness.Options{SQLGateway: true, SavepointDir: t.TempDir(), Slots: 8})
	fc, err := flink.New(cluster.RESTURL, flink.Options{})
	require.NoError(t, err)
	s := &sessionSuite{env: env, c: env.Client, flink: cluster, proxy: flinkharness.NewFaultProxy(t, cluster.RESTURL), fc: fc, t: t,
		jarCacheBlocker: filepath.Join(t.TempDir(), "blocked")}
	s.startController()

	t.Run("a schedule and keepLast: periodic savepoints of an application and a statement, the old ones disposed, the guarded ones kept", s.testPolicyRetention)
	t.Run("a blackout window holds the schedule; a parent that does not run defers it", s.testPolicyBlackout)
	t.Run("the namespace default and a named override; template defaults; two replicas and a restart never take two for one slot", s.testPolicyDefaults)
}

func (s *sessionSuite) testPolicyRetention(t *testing.T) {
	ctx := context.Background()
	ns := s.namespace(t)
	app := s.application(t, ns, "orders", nil)
	s.waitApp(t, app, "running", running)
	stmt := &cmfv1.Statement{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "clicks"},
		Spec: cmfv1.StatementSpec{ComputePoolName: "pool", Statement: `
			CREATE TEMPORARY TABLE clicks (region STRING, n BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '20', 'fields.region.length' = '1');
			CREATE TEMPORARY TABLE per_region (region STRING, total BIGINT) WITH ('connector' = 'blackhole');
			INSERT INTO per_region SELECT region, SUM(n) FROM clicks GROUP BY region;`},
	}
	require.NoError(t, s.c.Create(ctx, stmt))
	s.waitStatement(t, stmt, "running", stmtRunning)
	manual := s.waitSavepoint(t, s.savepoint(t, ns, cmfv1.SavepointSpec{Application: "orders"}), completed)

	dir := t.TempDir()
	policy := &cmfv1.SavepointPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "frequent"},
		Spec: cmfv1.SavepointPolicySpec{
			Parents:   &cmfv1.PolicyParents{Applications: []string{"orders"}, Statements: []string{"clicks"}},
			Schedule:  "@every 3s",
			Template:  &cmfv1.SavepointTemplate{Path: dir},
			Retention: &cmfv1.Retention{KeepLast: ptr.To[int32](2)},
		},
	}
	require.NoError(t, s.c.Create(ctx, policy))

	// The first periodic savepoint of orders becomes a restore point: a
	// suspended application will start from it.
	first := s.waitPeriodic(t, ns, cmfv1.ParentApplication, "orders", 1)[0]
	assert.Equal(t, "frequent", first.Labels[cmfv1.PolicyLabel])
	assert.NotEmpty(t, first.Annotations[cmfv1.ScheduledTimeAnnotation])
	s.application(t, ns, "replay", func(a *cmfv1.FlinkApplication) {
		a.Spec.Job.State = cmfv1.JobSuspended
		a.Spec.Job.InitialSavepointPath = first.Status.Path
	})

	got := s.waitPolicy(t, policy, "5 runs of orders and 3 of clicks, with deletions", func(p *cmfv1.SavepointPolicy) bool {
		o, c := policyParent(p, cmfv1.ParentApplication, "orders"), policyParent(p, cmfv1.ParentStatement, "clicks")
		return o != nil && c != nil && o.Runs >= 5 && c.Runs >= 3 && o.RetentionDeletions >= 2 && c.RetentionDeletions >= 1
	})
	assert.Equal(t, int32(2), got.Status.ParentCount)
	assert.NotNil(t, got.Status.LastSuccessTime)
	assert.NotNil(t, got.Status.NextScheduleTime)
	requireEvent(t, s.c, got, "RetentionDeleted")

	// Suspended, the schedule goes on counting time but takes nothing.
	s.patchPolicy(t, policy, `{"spec":{"suspend":true}}`)
	suspendedAt := time.Now()
	held := s.waitPolicy(t, policy, "suspended past two runs", func(p *cmfv1.SavepointPolicy) bool {
		o := policyParent(p, cmfv1.ParentApplication, "orders")
		return o.LastScheduleTime != nil && o.LastScheduleTime.After(suspendedAt.Add(6*time.Second))
	})
	runs := policyParent(held, cmfv1.ParentApplication, "orders").Runs
	s.waitNoneInFlight(t, ns)
	// Retention has settled: of orders' periodic savepoints, the newest
	// two and the restore point remain; the manual one too.
	var remaining []cmfv1.Savepoint
	require.Eventually(t, func() bool {
		remaining = s.completedPeriodic(t, ns, cmfv1.ParentApplication, "orders")
		return len(remaining) == 3
	}, 30*time.Second, 50*time.Millisecond, "orders keeps the newest two periodic savepoints and the restore point")
	assert.True(t, slices.ContainsFunc(remaining, func(sp cmfv1.Savepoint) bool { return sp.Name == first.Name }), "the restore point stays")
	require.NoError(t, s.c.Get(ctx, client.ObjectKeyFromObject(manual), manual), "the manual savepoint stays")
	assert.FileExists(t, filepath.Join(flinkharness.LocalPath(manual.Status.Path), "_metadata"))
	clicks := s.completedPeriodic(t, ns, cmfv1.ParentStatement, "clicks")
	require.Len(t, clicks, 2, "clicks keeps the newest two")
	// On disk: exactly the directories of the periodic savepoints that
	// remain; every deleted one's data was disposed.
	want := map[string]bool{}
	for _, sp := range append(remaining, clicks...) {
		want[filepath.Base(flinkharness.LocalPath(sp.Status.Path))] = true
	}
	require.Eventually(t, func() bool {
		names := dirNames(t, dir)
		return len(names) == len(want) && !slices.ContainsFunc(names, func(n string) bool { return !want[n] })
	}, 30*time.Second, 50*time.Millisecond, "the policy's directory holds only the kept savepoints: %v", want)
	paths := map[string]bool{}
	for _, sp := range append(remaining, clicks...) {
		assert.False(t, paths[sp.Status.Path], "distinct directories")
		paths[sp.Status.Path] = true
		assert.Equal(t, cmfv1.OriginPeriodic, sp.Status.Origin)
	}

	s.patchPolicy(t, policy, `{"spec":{"suspend":false}}`)
	s.waitPolicy(t, policy, "resumed", func(p *cmfv1.SavepointPolicy) bool {
		return policyParent(p, cmfv1.ParentApplication, "orders").Runs > runs
	})
	require.NoError(t, s.c.Delete(ctx, policy))
	s.suspend(t, app)
	s.patchStatement(t, stmt, `{"spec":{"stopped":true}}`)
	s.waitStatement(t, stmt, "stopped", func(st *cmfv1.Statement) bool { return st.Status.Phase == "STOPPED" })
}

func (s *sessionSuite) testPolicyBlackout(t *testing.T) {
	ctx := context.Background()
	ns := s.namespace(t)
	app := s.application(t, ns, "quiet", nil)
	s.waitApp(t, app, "running", running)
	policy := &cmfv1.SavepointPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "with-window"},
		Spec: cmfv1.SavepointPolicySpec{
			Parents:  &cmfv1.PolicyParents{Applications: []string{"quiet"}},
			Schedule: "@every 2s",
			// A window opening every minute for an hour: always open.
			BlackoutWindows: []cmfv1.BlackoutWindow{{Schedule: "* * * * *", Duration: metav1.Duration{Duration: time.Hour}}},
		},
	}
	require.NoError(t, s.c.Create(ctx, policy))
	got := s.waitPolicy(t, policy, "runs skipped for the window", func(p *cmfv1.SavepointPolicy) bool {
		q := policyParent(p, cmfv1.ParentApplication, "quiet")
		return q != nil && q.Skipped.Blackout >= 2
	})
	q := policyParent(got, cmfv1.ParentApplication, "quiet")
	assert.Equal(t, "Blackout", q.Waiting)
	assert.Zero(t, q.Runs)
	assert.Empty(t, s.periodic(t, ns, cmfv1.ParentApplication, "quiet"), "no savepoint starts inside a window")
	requireEvent(t, s.c, got, "Skipped")
	manual := s.waitSavepoint(t, s.savepoint(t, ns, cmfv1.SavepointSpec{Application: "quiet"}), completed)
	assert.Equal(t, cmfv1.OriginManual, manual.Status.Origin, "a manual savepoint is never held back")

	// The window goes: the schedule resumes.
	s.patchPolicy(t, policy, `{"spec":{"blackoutWindows":null}}`)
	s.waitPeriodic(t, ns, cmfv1.ParentApplication, "quiet", 1)

	// The job stops: the due run waits for it, and no savepoint piles up.
	s.suspend(t, app)
	s.waitNoneInFlight(t, ns)
	before := len(s.periodic(t, ns, cmfv1.ParentApplication, "quiet"))
	deferred := s.waitPolicy(t, policy, "deferred while not running", func(p *cmfv1.SavepointPolicy) bool {
		q := policyParent(p, cmfv1.ParentApplication, "quiet")
		return q.Waiting == "NotRunning" && q.Skipped.NotRunning >= 2
	})
	assert.Len(t, s.periodic(t, ns, cmfv1.ParentApplication, "quiet"), before, "no savepoint is made for a job that does not run")
	for _, sp := range s.savepointsOf(t, ns, cmfv1.ParentApplication, "quiet") {
		assert.NotEqual(t, cmfv1.StateFailed, sp.Status.State, "no FAILED savepoints pile up")
	}
	assert.NotNil(t, policyParent(deferred, cmfv1.ParentApplication, "quiet").NextScheduleTime)
	require.NoError(t, s.c.Delete(ctx, policy))
}

func (s *sessionSuite) testPolicyDefaults(t *testing.T) {
	ctx := context.Background()
	ns := s.namespace(t)
	defaultDir, overrideDir := t.TempDir(), t.TempDir()
	def := &cmfv1.SavepointPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "namespace-default"},
		Spec: cmfv1.SavepointPolicySpec{
			Schedule: "@every 3s",
			Template: &cmfv1.SavepointTemplate{Path: defaultDir, FormatType: cmfv1.FormatNative, BackoffLimit: ptr.To[int32](3)},
		},
	}
	override := &cmfv1.SavepointPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "override"},
		Spec: cmfv1.SavepointPolicySpec{
			Parents:  &cmfv1.PolicyParents{Applications: []string{"named"}},
			Schedule: "@every 3s", Jitter: &metav1.Duration{Duration: time.Second},
			Template: &cmfv1.SavepointTemplate{Path: overrideDir},
		},
	}
	require.NoError(t, s.c.Create(ctx, def))
	require.NoError(t, s.c.Create(ctx, override))

	// Template defaults: what a hand-made Savepoint leaves out comes from
	// the namespace default; what it says, even CANONICAL, stays.
	for _, name := range []string{"named", "other"} {
		s.application(t, ns, name, nil)
	}
	s.waitApp(t, &cmfv1.FlinkApplication{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "named"}}, "running", running)
	s.waitApp(t, &cmfv1.FlinkApplication{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "other"}}, "running", running)
	bare := s.savepoint(t, ns, cmfv1.SavepointSpec{Application: "named"})
	assert.Equal(t, cmfv1.FormatNative, bare.Spec.FormatType)
	assert.Equal(t, defaultDir, bare.Spec.Path)
	assert.Equal(t, ptr.To[int32](3), bare.Spec.BackoffLimit)
	explicit := s.savepoint(t, ns, cmfv1.SavepointSpec{Application: "named", FormatType: cmfv1.FormatCanonical, BackoffLimit: ptr.To[int32](-1)})
	assert.Equal(t, cmfv1.FormatCanonical, explicit.Spec.FormatType, "an explicit CANONICAL is not taken for a missing field")
	assert.Equal(t, ptr.To[int32](-1), explicit.Spec.BackoffLimit)
	s.waitSavepoint(t, bare, completed)
	s.waitSavepoint(t, explicit, completed)

	// A second manager runs the controllers beside the first for a while,
	// then the first is killed and started again: each slot still gets one
	// savepoint.
	second := startControllers(t, s.env, s.controllerOptions())
	s.waitPeriodic(t, ns, cmfv1.ParentApplication, "named", 2)
	s.stopCtl()
	s.startController()
	second()
	s.waitPeriodic(t, ns, cmfv1.ParentApplication, "named", 4)
	s.waitPeriodic(t, ns, cmfv1.ParentApplication, "other", 4)

	for _, parent := range []string{"named", "other"} {
		policyName, dir := "override", overrideDir
		if parent == "other" {
			policyName, dir = "namespace-default", defaultDir
		}
		slots := map[string]string{}
		for _, sp := range s.periodic(t, ns, cmfv1.ParentApplication, parent) {
			assert.Equal(t, policyName, sp.Labels[cmfv1.PolicyLabel], "%s is covered by %s", parent, policyName)
			assert.Equal(t, dir, sp.Spec.Path, "the covering policy's template")
			slot := sp.Annotations[cmfv1.ScheduledTimeAnnotation]
			assert.Empty(t, slots[slot], "slot %s of %s has two savepoints: %s and %s", slot, parent, slots[slot], sp.Name)
			slots[slot] = sp.Name
		}
		times := make([]string, 0, len(slots))
		for slot := range slots {
			times = append(times, slot)
		}
		sort.Strings(times)
		for i := 1; i < len(times); i++ {
			a, _ := time.Parse(time.RFC3339, times[i-1])
			b, _ := time.Parse(time.RFC3339, times[i])
			assert.Zero(t, b.Sub(a)%(3*time.Second), "slots lie on the 3s grid: %v", times)
		}
	}
	d := s.getPolicy(t, def)
	o := s.getPolicy(t, override)
	assert.Equal(t, []string{"other"}, policyParentNames(d), "the default covers the rest")
	assert.Equal(t, []string{"named"}, policyParentNames(o), "the override wins for the parent it names")
	require.NoError(t, s.c.Delete(ctx, def))
	require.NoError(t, s.c.Delete(ctx, override))
	s.waitNoneInFlight(t, ns)
	for _, name := range []string{"named", "other"} {
		s.suspend(t, &cmfv1.FlinkApplication{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}})
	}
}

// --- policy fixtures ---

func (s *sessionSuite) controllerOptions() controller.Options {
	opts := sessionOptions
	opts.JarCacheDir = filepath.Join(s.jarCacheBlocker, "jars")
	opts.JarDir = filepath.Dir(s.flink.JarPath)
	return opts
}

func (s *sessionSuite) patchPolicy(t *testing.T, p *cmfv1.SavepointPolicy, patch string) {
	t.Helper()
	require.NoError(t, s.c.Patch(context.Background(), p.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(patch))))
}

func (s *sessionSuite) getPolicy(t *testing.T, p *cmfv1.SavepointPolicy) *cmfv1.SavepointPolicy {
	t.Helper()
	got := &cmfv1.SavepointPolicy{}
	require.NoError(t, s.c.Get(context.Background(), client.ObjectKeyFromObject(p), got))
	return got
}

func (s *sessionSuite) waitPolicy(t *testing.T, p *cmfv1.SavepointPolicy, what string, cond func(*cmfv1.SavepointPolicy) bool) *cmfv1.SavepointPolicy {
	t.Helper()
	got := &cmfv1.SavepointPolicy{}
	deadline := time.Now().Add(90 * time.Second)
	for {
		require.NoError(t, s.c.Get(context.Background(), client.ObjectKeyFromObject(p), got))
		if cond(got) {
			return got
		}
		if time.Now().After(deadline) {
			require.Failf(t, "policy "+p.Name+" not "+what, "status %+v%s", got.Status, eventsOf(s.c, got))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func policyParent(p *cmfv1.SavepointPolicy, kind cmfv1.ParentKind, name string) *cmfv1.PolicyParentStatus {
	for i := range p.Status.Parents {
		if p.Status.Parents[i].Kind == kind && p.Status.Parents[i].Name == name {
			return &p.Status.Parents[i]
		}
	}
	return nil
}

func policyParentNames(p *cmfv1.SavepointPolicy) []string {
	var out []string
	for _, pp := range p.Status.Parents {
		out = append(out, pp.Name)
	}
	return out
}

// periodic lists the parent's PERIODIC savepoints, in any state.
func (s *sessionSuite) periodic(t *testing.T, ns string, kind cmfv1.ParentKind, parent string) []cmfv1.Savepoint {
	t.Helper()
	var out []cmfv1.Savepoint
	for _, sp := range s.savepointsOf(t, ns, kind, parent) {
		if sp.Status.Origin == cmfv1.OriginPeriodic {
			out = append(out, sp)
		}
	}
	return out
}

func (s *sessionSuite) completedPeriodic(t *testing.T, ns string, kind cmfv1.ParentKind, parent string) []cmfv1.Savepoint {
	t.Helper()
	return slices.DeleteFunc(s.periodic(t, ns, kind, parent), func(sp cmfv1.Savepoint) bool {
		return sp.Status.State != cmfv1.StateCompleted || sp.DeletionTimestamp != nil
	})
}

// waitPeriodic waits for at least n COMPLETED periodic savepoints of the
// parent, oldest first.
func (s *sessionSuite) waitPeriodic(t *testing.T, ns string, kind cmfv1.ParentKind, parent string, n int) []cmfv1.Savepoint {
	t.Helper()
	var got []cmfv1.Savepoint
	require.Eventually(t, func() bool {
		got = s.completedPeriodic(t, ns, kind, parent)
		return len(got) >= n
	}, 90*time.Second, 50*time.Millisecond, "%d COMPLETED periodic savepoints of %s %s", n, kind, parent)
	slices.SortFunc(got, func(a, b cmfv1.Savepoint) int { return a.CreationTimestamp.Compare(b.CreationTimestamp.Time) })
	return got
}

// waitNoneInFlight waits until no savepoint of the namespace is in flight
// or being deleted.
func (s *sessionSuite) waitNoneInFlight(t *testing.T, ns string) {
	t.Helper()
	require.Eventually(t, func() bool {
		var list cmfv1.SavepointList
		require.NoError(t, s.c.List(context.Background(), &list, client.InNamespace(ns)))
		return !slices.ContainsFunc(list.Items, func(sp cmfv1.Savepoint) bool {
			return !sp.Status.EffectiveState().Terminal() || sp.DeletionTimestamp != nil
		})
	}, 60*time.Second, 50*time.Millisecond, "savepoints of %s still in flight", ns)
}
