package webhook_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authorizationv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/index"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/webhook"
)

const claimNamespace = "savepoint-system"

// managerUser is the manager's user name in these tests: only it may adopt.
const managerUser = "savepoint-manager"

// suite is one control plane with the webhook served over TLS and registered
// through the generated webhook configurations.
type suite struct {
	env *controlplane.Env
	c   client.Client
}

func TestWebhook(t *testing.T) {
	env := controlplane.Start(t, controlplane.Options{Webhooks: true})
	ctx := context.Background()
	require.NoError(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: claimNamespace}}))
	_, _ = env.StartManager(t, func(ctx context.Context, mgr ctrl.Manager) error {
		if err := index.Add(ctx, mgr.GetFieldIndexer()); err != nil {
			return err
		}
		return webhook.Setup(ctx, mgr, webhook.Options{
			ClaimNamespace: claimNamespace, ClaimGrace: 2 * time.Second, ClaimSweepInterval: 500 * time.Millisecond,
			ManagerUser: managerUser,
		})
	})
	s := &suite{env: env, c: env.Client}

	t.Run("rule 1: defaults, a generated name and the parent label", s.testDefaults)
	t.Run("rule 2: the parent exists and is not terminating", s.testParentExists)
	t.Run("rule 3: detach", s.testDetach)
	t.Run("rule 4: a parent with attached savepoints cannot be deleted", s.testParentDelete)
	t.Run("rule 5: detached names are unique across namespaces, without a race", s.testDetachedNameRace)
	t.Run("rule 5: claims of deleted or failed detached savepoints are released", s.testClaimRelease)
	t.Run("rule 6: startFromSavepoint", s.testStartFromSavepoint)
	t.Run("rule 7: CANONICAL is denied for a NATIVE-only state backend", s.testNativeOnly)
	t.Run("rule 8: permissions are inherited from the parent", s.testPermissions)
	t.Run("only the manager adopts savepoints taken outside", s.testAdoption)
	t.Run("only the manager marks a savepoint detached", s.testDetachedAs)
	t.Run("force-delete is set only by who may delete the parent", s.testForceDelete)
	t.Run("a detached savepoint's source is fixed at creation", s.testDetachedSourceFixed)
	t.Run("settings only the manager chooses are refused on a compute pool", s.testReservedSettings)
	t.Run("dry-run behaves like a real apply, without side effects", s.testDryRun)
	t.Run("warnings where the seed only advises", s.testWarnings)
	t.Run("a restore point cannot be disposed", s.testRestorePoint)
}

func (s *suite) testDefaults(t *testing.T) {
	ctx := context.Background()
	ns := s.env.Namespace(t)
	s.application(t, ns, "orders", nil)
	s.statement(t, ns, "clicks")

	sp := &cmfv1.Savepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Annotations: map[string]string{"team": "payments"}},
		Spec:       cmfv1.SavepointSpec{Application: "orders", Path: "file:///savepoints/"},
	}
	require.NoError(t, s.c.Create(ctx, sp))
	assert.Regexp(t, `^orders-\d{8}t\d{6}-[0-9a-f]{4}$`, sp.Name)
	assert.Equal(t, cmfv1.FormatCanonical, sp.Spec.FormatType)
	assert.Equal(t, ptr.To[int32](-1), sp.Spec.BackoffLimit)
	assert.Equal(t, map[string]string{cmfv1.ApplicationLabel: "orders"}, sp.Labels)
	assert.Equal(t, map[string]string{"team": "payments"}, sp.Annotations, "nothing else changes")
	assert.Equal(t, "file:///savepoints/", sp.Spec.Path)
	assert.Equal(t, []string{cmfv1.DisposeFinalizer}, sp.Finalizers, "the dispose finalizer is there from creation: a delete racing the controller cannot skip it")

	named := &cmfv1.Savepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "nightly-"},
		Spec:       cmfv1.SavepointSpec{Statement: "clicks", FormatType: cmfv1.FormatNative, BackoffLimit: ptr.To[int32](0)},
	}
	require.NoError(t, s.c.Create(ctx, named))
	assert.True(t, strings.HasPrefix(named.Name, "nightly-"), "generateName honoured: %s", named.Name)
	assert.Equal(t, cmfv1.FormatNative, named.Spec.FormatType)
	assert.Equal(t, ptr.To[int32](0), named.Spec.BackoffLimit)
	assert.Equal(t, "clicks", named.Labels[cmfv1.StatementLabel])
}

func (s *suite) testRestorePoint(t *testing.T) {
	ctx := context.Background()
	ns := s.env.Namespace(t)
	require.NoError(t, s.c.Create(ctx, &cmfv1.FlinkApplication{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orders"},
		Spec: cmfv1.FlinkApplicationSpec{Job: &cmfv1.JobSpec{JarURI: "local:///opt/flink/job.jar", State: cmfv1.JobSuspended}}}))
	older := s.savepoint(t, ns, "older", cmfv1.SavepointSpec{Application: "orders"}, cmfv1.StateCompleted, "file:/sp/older")
	older.Status.ResultTimestamp = &metav1.Time{Time: time.Now().Add(-time.Hour)}
	require.NoError(t, s.c.Status().Update(ctx, older))
	newest := s.savepoint(t, ns, "newest", cmfv1.SavepointSpec{Application: "orders"}, cmfv1.StateCompleted, "file:/sp/newest")
	require.NoError(t, s.c.Create(ctx, &cmfv1.FlinkApplication{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orders-v2"},
		Spec: cmfv1.FlinkApplicationSpec{Job: &cmfv1.JobSpec{JarURI: "local:///opt/flink/job.jar",
			StartFromSavepoint: &cmfv1.StartFromSavepoint{InitialSavepointPath: "file:///sp/older"}}}}))

	tests := []struct {
		name string
		sp   *cmfv1.Savepoint
		want string
	}{
		{"the newest of a suspended application", newest, "Savepoint newest: FlinkApplication orders will resume from it (its newest COMPLETED savepoint), and deleting it would dispose its data at file:/sp/newest: delete it with --force to keep the data (kubectl savepoint delete newest --force), detach it (kubectl savepoint detach newest), or change FlinkApplication orders first"},
		{"named by another application's startFromSavepoint", older, "Savepoint older: FlinkApplication orders-v2 starts from it (spec.job.startFromSavepoint), and deleting it would dispose its data at file:/sp/older: delete it with --force to keep the data (kubectl savepoint delete older --force), detach it (kubectl savepoint detach older), or change FlinkApplication orders first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireDenied(t, s.c.Delete(ctx, tt.sp, client.DryRunAll), tt.want)
			requireDenied(t, s.c.Delete(ctx, tt.sp), tt.want)
			assert.NoError(t, s.c.Get(ctx, client.ObjectKeyFromObject(tt.sp), &cmfv1.Savepoint{}), "still there")
		})
	}

	t.Run("a forced delete keeps the data, so it passes", func(t *testing.T) {
		s.annotate(t, older, cmfv1.ForceDeleteAnnotation, "true")
		require.NoError(t, s.c.Delete(ctx, older, client.DryRunAll))
	})
	t.Run("a namespace's deletion keeps the data, so it passes", func(t *testing.T) {
		// No namespace controller runs here: the namespace stays Terminating.
		require.NoError(t, s.c.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
		require.NoError(t, s.c.Delete(ctx, newest, client.DryRunAll))
	})
}

func (s *suite) testParentExists(t *testing.T) {
	ctx := context.Background()
	ns := s.env.Namespace(t)
	app := s.application(t, ns, "leaving", nil)
	app.Finalizers = []string{"test.cmf.confluent.io/hold"}
	require.NoError(t, s.c.Update(ctx, app))
	require.NoError(t, s.c.Delete(ctx, app))
	t.Cleanup(func() {
		app.Finalizers = nil
		_ = s.c.Update(ctx, app)
	})

	tests := []struct {
		name string
		spec cmfv1.SavepointSpec
		want string
	}{
		{"missing application", cmfv1.SavepointSpec{Application: "ghost"},
			`Savepoint sp: spec.application "ghost" does not exist in namespace ` + ns + `: create the FlinkApplication first, or name an existing one`},
		{"missing statement", cmfv1.SavepointSpec{Statement: "ghost"},
			`Savepoint sp: spec.statement "ghost" does not exist in namespace ` + ns + `: create the Statement first, or name an existing one`},
		{"terminating application", cmfv1.SavepointSpec{Application: "leaving"},
			`Savepoint sp: spec.application "leaving" is being deleted: no new savepoints can attach to it`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.c.Create(ctx, &cmfv1.Savepoint{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sp"}, Spec: tt.spec})
			requireDenied(t, err, tt.want)
		})
	}
}

func (s *suite) testDetach(t *testing.T) {
	ctx := context.Background()
	ns := s.env.Namespace(t)
	s.application(t, ns, "orders", nil)
	s.application(t, ns, "payments", nil)
	s.statement(t, ns, "clicks")
	done := s.savepoint(t, ns, "done", cmfv1.SavepointSpec{Application: "orders"}, cmfv1.StateCompleted, "file:/sp/done")
	running := s.savepoint(t, ns, "running", cmfv1.SavepointSpec{Application: "orders"}, cmfv1.StateInProgress, "")
	ofStatement := s.savepoint(t, ns, "of-statement", cmfv1.SavepointSpec{Statement: "clicks"}, cmfv1.StateCompleted, "file:/sp/stmt")

	source := func(sp *cmfv1.Savepoint, app string) *cmfv1.DetachedSavepointSource {
		return &cmfv1.DetachedSavepointSource{Namespace: ns, Application: app, SavepointName: sp.Name, UID: string(sp.UID)}
	}
	tests := []struct {
		name   string
		path   string
		source *cmfv1.DetachedSavepointSource
		want   string
	}{
		{"a statement's savepoint", "file:/sp/stmt", source(ofStatement, "clicks"),
			"DetachedSavepoint %s: spec.source: savepoint of-statement belongs to Statement clicks: Savepoints attached to a Statement cannot be detached"},
		{"not COMPLETED", "file:/sp/x", source(running, "orders"),
			"DetachedSavepoint %s: spec.source: savepoint running is IN_PROGRESS: only a COMPLETED savepoint can be detached (kubectl savepoint wait running --for COMPLETED)"},
		{"another path", "file:/sp/other", source(done, "orders"),
			`DetachedSavepoint %s: spec.path "file:/sp/other" is not the path of Savepoint done: set spec.path: "file:/sp/done"`},
		{"another application", "file:/sp/done", source(done, "payments"),
			`DetachedSavepoint %s: spec.source.application is "payments" but Savepoint done belongs to FlinkApplication orders: set spec.source.application: orders`},
		{"a missing savepoint", "file:/sp/done", &cmfv1.DetachedSavepointSource{Namespace: ns, Application: "orders", SavepointName: "ghost", UID: "0d3c52a8-1d7a-4a63-9c39-2b9a4a6d3a10"},
			"DetachedSavepoint %s: spec.source names Savepoint ghost in namespace " + ns + ", which does not exist: list the application's savepoints with kubectl savepoint list -n " + ns + " -a orders"},
		{"a replaced savepoint", "file:/sp/done", &cmfv1.DetachedSavepointSource{Namespace: ns, Application: "orders", SavepointName: "done", UID: "0d3c52a8-1d7a-4a63-9c39-2b9a4a6d3a10"},
			"DetachedSavepoint %s: spec.source.uid 0d3c52a8-1d7a-4a63-9c39-2b9a4a6d3a10 is not the uid of Savepoint done"},
		{"without the uid", "file:/sp/done", &cmfv1.DetachedSavepointSource{Namespace: ns, Application: "orders", SavepointName: "done"},
			`DetachedSavepoint.cmf.confluent.io "%s" is invalid: spec.source.uid: Invalid value: spec.source.uid is required: the metadata.uid of the Savepoint to detach`},
		{"a COMPLETED application savepoint", "file:/sp/done", source(done, "orders"), ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("detached-%s-%d", ns, i)
			err := s.c.Create(ctx, &cmfv1.DetachedSavepoint{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
				Spec:       cmfv1.DetachedSavepointSpec{Path: tt.path, Source: tt.source},
			})
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			requireDenied(t, err, fmt.Sprintf(tt.want, name))
		})
	}
}

func (s *suite) testParentDelete(t *testing.T) {
	ctx := context.Background()
	ns := s.env.Namespace(t)
	app := s.application(t, ns, "orders", nil)
	stmt := s.statement(t, ns, "clicks")
	for i := range 12 {
		s.savepoint(t, ns, fmt.Sprintf("orders-%02d", i), cmfv1.SavepointSpec{Application: "orders"}, cmfv1.StateCompleted, "file:/sp/x")
	}
	s.savepoint(t, ns, "clicks-1", cmfv1.SavepointSpec{Statement: "clicks"}, "", "")

	requireDenied(t, s.c.Delete(ctx, app),
		"FlinkApplication orders cannot be deleted while 12 savepoint(s) are attached (orders-00, orders-01, orders-02, orders-03, orders-04, orders-05, orders-06, orders-07, orders-08, orders-09, and 2 more): delete them, or detach them (applications only)")
	requireDenied(t, s.c.Delete(ctx, stmt),
		"Statement clicks cannot be deleted while 1 savepoint(s) are attached (clicks-1): delete them, or detach them (applications only)")

	// A savepoint created a moment ago is seen: the check reads live.
	other := s.application(t, ns, "fresh", nil)
	s.savepoint(t, ns, "fresh-1", cmfv1.SavepointSpec{Application: "fresh"}, "", "")
	requireDenied(t, s.c.Delete(ctx, other), "FlinkApplication fresh cannot be deleted while 1 savepoint(s) are attached (fresh-1)")

	s.deleteAsController(t, s.savepointNamed(t, ns, "clicks-1"))
	require.NoError(t, s.c.Delete(ctx, stmt), "no savepoints left")
}

func (s *suite) testDetachedNameRace(t *testing.T) {
	ctx := context.Background()
	const n = 50
	namespaces := make([]string, n)
	for i := range namespaces {
		namespaces[i] = s.env.Namespace(t)
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i, ns := range namespaces {
		wg.Go(func() {
			<-start
			errs[i] = s.c.Create(ctx, &cmfv1.DetachedSavepoint{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "contested"},
				Spec:       cmfv1.DetachedSavepointSpec{Path: "file:/sp/" + ns},
			})
		})
	}
	close(start)
	wg.Wait()

	created := 0
	for _, err := range errs {
		if err == nil {
			created++
			continue
		}
		assert.Contains(t, err.Error(), `metadata.name "contested" is`)
	}
	assert.Equal(t, 1, created, "exactly one create succeeds")
	var list cmfv1.DetachedSavepointList
	require.NoError(t, s.c.List(ctx, &list))
	found := 0
	for _, d := range list.Items {
		if d.Name == "contested" {
			found++
		}
	}
	assert.Equal(t, 1, found, "exactly one exists afterwards")
}

func (s *suite) testClaimRelease(t *testing.T) {
	ctx := context.Background()
	first, second := s.env.Namespace(t), s.env.Namespace(t)
	dsp := &cmfv1.DetachedSavepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: first, Name: "moving"},
		Spec:       cmfv1.DetachedSavepointSpec{Path: "file:/sp/moving"},
	}
	require.NoError(t, s.c.Create(ctx, dsp))
	requireDenied(t, s.c.Create(ctx, &cmfv1.DetachedSavepoint{
		ObjectMeta: dsp.ObjectMeta, Spec: dsp.Spec,
	}), "") // same namespace: the API server's own AlreadyExists
	taken := &cmfv1.DetachedSavepoint{ObjectMeta: metav1.ObjectMeta{Namespace: second, Name: "moving"}, Spec: dsp.Spec}
	requireDenied(t, s.c.Create(ctx, taken),
		`DetachedSavepoint moving: metadata.name "moving" is taken by the DetachedSavepoint in namespace `+first+` (names are unique across all namespaces): choose another name`)

	require.NoError(t, s.c.Delete(ctx, dsp))
	waitFor(t, 10*time.Second, func() bool {
		taken.ResourceVersion = ""
		return s.c.Create(ctx, taken) == nil
	}, "the name is free once its DetachedSavepoint is deleted")

	// A claim whose create never reached storage (another admission step
	// failed) is taken over once its grace has passed, and swept.
	holder := "gone/orphan"
	orphan := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Namespace: claimNamespace, Name: "dsp.orphan", Labels: map[string]string{webhook.ClaimLabel: "true"}},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: &holder, AcquireTime: &metav1.MicroTime{Time: time.Now()}},
	}
	require.NoError(t, s.c.Create(ctx, orphan))
	adopter := &cmfv1.DetachedSavepoint{ObjectMeta: metav1.ObjectMeta{Namespace: first, Name: "orphan"}, Spec: dsp.Spec}
	requireDenied(t, s.c.Create(ctx, adopter), `metadata.name "orphan" is being created in namespace gone right now`)
	waitFor(t, 10*time.Second, func() bool {
		err := s.c.Get(ctx, client.ObjectKeyFromObject(orphan), &coordinationv1.Lease{})
		return apierrors.IsNotFound(err)
	}, "the sweeper deletes the orphaned claim")
	adopter.ResourceVersion = ""
	require.NoError(t, s.c.Create(ctx, adopter))

	t.Run("a namespace deleted with many: every claim released, none of another namespace's", func(t *testing.T) {
		doomed, kept := s.env.Namespace(t), s.env.Namespace(t)
		const n = 60
		for i := range n {
			require.NoError(t, s.c.Create(ctx, &cmfv1.DetachedSavepoint{
				ObjectMeta: metav1.ObjectMeta{Namespace: doomed, Name: fmt.Sprintf("bulk-%s-%d", doomed, i)}, Spec: dsp.Spec,
			}))
		}
		survivor := &cmfv1.DetachedSavepoint{ObjectMeta: metav1.ObjectMeta{Namespace: kept, Name: "survivor-" + kept}, Spec: dsp.Spec}
		require.NoError(t, s.c.Create(ctx, survivor))
		claimsOf := func(ns string) int {
			var leases coordinationv1.LeaseList
			require.NoError(t, s.c.List(ctx, &leases, client.InNamespace(claimNamespace), client.HasLabels{webhook.ClaimLabel}))
			count := 0
			for _, l := range leases.Items {
				if l.Spec.HolderIdentity != nil && strings.HasPrefix(*l.Spec.HolderIdentity, ns+"/") {
					count++
				}
			}
			return count
		}
		require.Equal(t, n, claimsOf(doomed))
		require.NoError(t, s.c.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: doomed}}))
		waitFor(t, time.Minute, func() bool { return claimsOf(doomed) == 0 }, "the claims of the deleted namespace's DetachedSavepoints are released")
		assert.Equal(t, 1, claimsOf(kept), "another namespace's claim stays")
		// The names are free again, in any namespace.
		require.NoError(t, s.c.Create(ctx, &cmfv1.DetachedSavepoint{
			ObjectMeta: metav1.ObjectMeta{Namespace: kept, Name: fmt.Sprintf("bulk-%s-0", doomed)}, Spec: dsp.Spec,
		}))
	})
}

func (s *suite) testStartFromSavepoint(t *testing.T) {
	ctx := context.Background()
	ns := s.env.Namespace(t)
	s.application(t, ns, "orders", nil)
	s.application(t, ns, "payments", nil)
	s.statement(t, ns, "clicks")
	s.statement(t, ns, "views")
	own := s.savepoint(t, ns, "orders-done", cmfv1.SavepointSpec{Application: "orders"}, cmfv1.StateCompleted, "file:/sp/orders")
	s.savepoint(t, ns, "orders-running", cmfv1.SavepointSpec{Application: "orders"}, cmfv1.StateInProgress, "")
	s.savepoint(t, ns, "payments-done", cmfv1.SavepointSpec{Application: "payments"}, cmfv1.StateCompleted, "file:/sp/payments")
	s.savepoint(t, ns, "clicks-done", cmfv1.SavepointSpec{Statement: "clicks"}, cmfv1.StateCompleted, "file:/sp/clicks")
	s.savepoint(t, ns, "views-done", cmfv1.SavepointSpec{Statement: "views"}, cmfv1.StateCompleted, "file:/sp/views")
	detachedName := "imported-" + ns
	imported := &cmfv1.DetachedSavepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.env.Namespace(t), Name: detachedName},
		Spec:       cmfv1.DetachedSavepointSpec{Path: "file:/sp/imported"},
	}
	require.NoError(t, s.c.Create(ctx, imported))

	appField := "spec.job.startFromSavepoint"
	tests := []struct {
		name      string
		statement bool
		ref       cmfv1.StartFromSavepoint
		want      string
	}{
		{name: "application from its own COMPLETED savepoint", ref: cmfv1.StartFromSavepoint{SavepointName: "orders-done"}},
		{name: "application by uid", ref: cmfv1.StartFromSavepoint{UID: string(own.UID)}},
		{name: "application from a detached savepoint", ref: cmfv1.StartFromSavepoint{SavepointName: detachedName}},
		{name: "application from a raw path", ref: cmfv1.StartFromSavepoint{InitialSavepointPath: "s3://bucket/sp-1"}},
		{name: "application from another application's savepoint", ref: cmfv1.StartFromSavepoint{SavepointName: "payments-done"},
			want: appField + `.savepointName "payments-done" is Savepoint payments-done of FlinkApplication payments, not of this application: detach it first (kubectl savepoint detach payments-done) and start from the detached savepoint`},
		{name: "application from a savepoint not COMPLETED", ref: cmfv1.StartFromSavepoint{SavepointName: "orders-running"},
			want: appField + `.savepointName "orders-running" is Savepoint orders-running in state IN_PROGRESS: only a COMPLETED savepoint can be started from`},
		{name: "application from a missing savepoint", ref: cmfv1.StartFromSavepoint{UID: "0d3c52a8-1d7a-4a63-9c39-2b9a4a6d3a10"},
			want: appField + `.uid "0d3c52a8-1d7a-4a63-9c39-2b9a4a6d3a10" names no Savepoint in namespace ` + ns + ` and no DetachedSavepoint`},
		{name: "statement from its own savepoint", statement: true, ref: cmfv1.StartFromSavepoint{SavepointName: "clicks-done"}},
		{name: "statement from another statement's savepoint", statement: true, ref: cmfv1.StartFromSavepoint{SavepointName: "views-done"},
			want: `spec.startFromSavepoint.savepointName "views-done" is Savepoint views-done of Statement views: a Statement starts only from its own attached Savepoints`},
		{name: "statement from a detached savepoint", statement: true, ref: cmfv1.StartFromSavepoint{SavepointName: detachedName},
			want: `spec.startFromSavepoint.savepointName "` + detachedName + `" names no Savepoint of Statement clicks in namespace ` + ns + `: a Statement starts only from its own attached Savepoints`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var obj client.Object
			var err error
			if tt.statement {
				stmt := &cmfv1.Statement{}
				require.NoError(t, s.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "clicks"}, stmt))
				stmt.Spec.StartFromSavepoint = &tt.ref
				obj, err = stmt, s.c.Update(ctx, stmt)
			} else {
				app := &cmfv1.FlinkApplication{}
				require.NoError(t, s.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "orders"}, app))
				app.Spec.Job.StartFromSavepoint = &tt.ref
				obj, err = app, s.c.Update(ctx, app)
			}
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			requireDenied(t, err, fmt.Sprintf("%s %s: %s", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName(), tt.want))
		})
	}

	t.Run("a detached savepoint of another namespace needs get on it there", func(t *testing.T) {
		// payments runs through the Flink Kubernetes Operator: changing its
		// spec also needs update on its FlinkDeployment.
		starter := s.user(t, ns, "starter", rbacv1.PolicyRule{APIGroups: []string{"cmf.confluent.io"}, Resources: []string{"flinkapplications"}, Verbs: []string{"get", "update"}},
			rbacv1.PolicyRule{APIGroups: []string{"flink.apache.org"}, Resources: []string{"flinkdeployments"}, Verbs: []string{"update"}})
		startFrom := func(c client.Client, ref cmfv1.StartFromSavepoint, opts ...client.UpdateOption) error {
			app := &cmfv1.FlinkApplication{}
			require.NoError(t, s.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "payments"}, app))
			app.Spec.Job.StartFromSavepoint = &ref
			return c.Update(ctx, app, opts...)
		}
		const ghostUID = "0d3c52a8-1d7a-4a63-9c39-2b9a4a6d3a10"
		for _, tc := range []struct {
			ref, missing cmfv1.StartFromSavepoint
			ghost, real  string
		}{
			{cmfv1.StartFromSavepoint{SavepointName: detachedName}, cmfv1.StartFromSavepoint{SavepointName: "ghost"}, "ghost", detachedName},
			{cmfv1.StartFromSavepoint{UID: string(imported.UID)}, cmfv1.StartFromSavepoint{UID: ghostUID}, ghostUID, string(imported.UID)},
		} {
			denied := startFrom(starter, tc.ref)
			require.Error(t, denied)
			assert.NotContains(t, denied.Error(), "file:/sp/imported", "the denial does not reveal the path")
			assert.NotContains(t, denied.Error(), imported.Namespace, "nor where it is")
			notFound := startFrom(starter, tc.missing)
			require.Error(t, notFound)
			assert.Equal(t, strings.ReplaceAll(notFound.Error(), tc.ghost, tc.real), denied.Error(),
				"answered exactly as a DetachedSavepoint that does not exist")
			dryRun := startFrom(starter, tc.ref, client.DryRunAll)
			require.Error(t, dryRun)
			assert.Equal(t, denied.Error(), dryRun.Error(), "a dry run reveals nothing either")
		}

		require.NoError(t, s.c.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: imported.Namespace, Name: "read-imported"},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{"cmf.confluent.io"}, Resources: []string{"detachedsavepoints"}, Verbs: []string{"get"}, ResourceNames: []string{detachedName}}}}))
		require.NoError(t, s.c.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: imported.Namespace, Name: "starter-reads-imported"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "read-imported"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "starter"}}}))
		s.waitAllowed(t, "starter", "get", "detachedsavepoints", imported.Namespace, detachedName)
		require.NoError(t, startFrom(starter, cmfv1.StartFromSavepoint{UID: string(imported.UID)}), "get on it there is enough")
	})

	t.Run("an unchanged reference is not judged again", func(t *testing.T) {
		app := &cmfv1.FlinkApplication{}
		require.NoError(t, s.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "orders"}, app))
		app.Spec.Job.StartFromSavepoint = &cmfv1.StartFromSavepoint{SavepointName: "orders-done"}
		require.NoError(t, s.c.Update(ctx, app))
		s.annotate(t, own, cmfv1.ForceDeleteAnnotation, "true") // it is app's restore point: only a forced delete passes
		s.deleteAsController(t, own)
		app.Spec.Job.Args = []string{"--verbose"}
		require.NoError(t, s.c.Update(ctx, app), "other edits are not blocked by a savepoint deleted since")
	})
}

func (s *suite) testNativeOnly(t *testing.T) {
	ctx := context.Background()
	ns := s.env.Namespace(t)
	s.application(t, ns, "forst-app", map[string]string{"state.backend.type": "forst"})
	stmt := s.statement(t, ns, "async-sql")
	stmt.Spec.Properties = map[string]string{"table.exec.async-state.enabled": "true"}
	require.NoError(t, s.c.Update(ctx, stmt))

	tests := []struct {
		name string
		spec cmfv1.SavepointSpec
		want string
	}{
		{"CANONICAL of a ForSt application", cmfv1.SavepointSpec{Application: "forst-app"},
			"Savepoint sp: spec.formatType CANONICAL is not supported by FlinkApplication forst-app, whose state backend supports only NATIVE savepoints (state.backend.type: forst): set spec.formatType: NATIVE"},
		{"CANONICAL of an async-state statement", cmfv1.SavepointSpec{Statement: "async-sql", FormatType: cmfv1.FormatCanonical},
			"Savepoint sp: spec.formatType CANONICAL is not supported by Statement async-sql, whose state backend supports only NATIVE savepoints (table.exec.async-state.enabled: true): set spec.formatType: NATIVE"},
		{"NATIVE of a ForSt application", cmfv1.SavepointSpec{Application: "forst-app", FormatType: cmfv1.FormatNative}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.c.Create(ctx, &cmfv1.Savepoint{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sp"}, Spec: tt.spec})
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			requireDenied(t, err, tt.want)
		})
	}
}

func (s *suite) testPermissions(t *testing.T) {
	ctx := context.Background()
	ns := s.env.Namespace(t)
	s.application(t, ns, "orders", nil)
	done := s.savepoint(t, ns, "done", cmfv1.SavepointSpec{Application: "orders"}, cmfv1.StateCompleted, "file:/sp/done")

	// Everyone may work with savepoints themselves; what differs is the
	// right on the parent, which the savepoint inherits.
	savepointRights := rbacv1.PolicyRule{APIGroups: []string{"cmf.confluent.io"}, Resources: []string{"savepoints", "detachedsavepoints"}, Verbs: []string{"*"}}
	editor := s.user(t, ns, "editor", savepointRights, rbacv1.PolicyRule{APIGroups: []string{"cmf.confluent.io"}, Resources: []string{"flinkapplications"}, Verbs: []string{"get", "update"}})
	viewer := s.user(t, ns, "viewer", savepointRights, rbacv1.PolicyRule{APIGroups: []string{"cmf.confluent.io"}, Resources: []string{"flinkapplications"}, Verbs: []string{"get"}})
	remover := s.user(t, ns, "remover", savepointRights, rbacv1.PolicyRule{APIGroups: []string{"cmf.confluent.io"}, Resources: []string{"flinkapplications"}, Verbs: []string{"get", "delete"}})

	newSavepoint := func(name string) *cmfv1.Savepoint {
		return &cmfv1.Savepoint{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: cmfv1.SavepointSpec{Application: "orders"}}
	}
	require.NoError(t, editor.Create(ctx, newSavepoint("by-editor")), "update on the parent allows create")
	requireDenied(t, viewer.Create(ctx, newSavepoint("by-viewer")),
		`Savepoint by-viewer: user "viewer" may not update FlinkApplication orders, and a savepoint inherits its permissions from its parent: ask for update on flinkapplications in namespace `+ns)

	requireDenied(t, editor.Delete(ctx, newSavepoint("by-editor")),
		`Savepoint by-editor: user "editor" may not delete FlinkApplication orders, and a savepoint inherits its permissions from its parent: ask for delete on flinkapplications in namespace `+ns)
	require.NoError(t, remover.Delete(ctx, newSavepoint("by-editor")), "delete on the parent allows delete")

	detach := func(name string) *cmfv1.DetachedSavepoint {
		return &cmfv1.DetachedSavepoint{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: cmfv1.DetachedSavepointSpec{Path: "file:/sp/done", Source: &cmfv1.DetachedSavepointSource{
				Namespace: ns, Application: "orders", SavepointName: "done", UID: string(done.UID),
			}},
		}
	}
	requireDenied(t, viewer.Create(ctx, detach("detach-by-viewer-"+ns)),
		`DetachedSavepoint detach-by-viewer-`+ns+`: spec.source: user "viewer" may not update FlinkApplication orders in namespace `+ns+`, which detaching its savepoints needs: ask for update on flinkapplications there`)
	require.NoError(t, editor.Create(ctx, detach("detach-by-editor-"+ns)))
}

func (s *suite) testAdoption(t *testing.T) {
	ctx := context.Background()
	ns := s.env.Namespace(t)
	s.application(t, ns, "orders", nil)
	manager := s.user(t, ns, managerUser, rbacv1.PolicyRule{APIGroups: []string{"cmf.confluent.io"}, Resources: []string{"savepoints"}, Verbs: []string{"create", "update", "get"}})
	adopted := func(name string) *cmfv1.Savepoint {
		return &cmfv1.Savepoint{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: map[string]string{
				cmfv1.AdoptedPathAnnotation: "file:/sp/outside", cmfv1.AdoptedOriginAnnotation: string(cmfv1.OriginManual),
			}},
			Spec: cmfv1.SavepointSpec{Application: "orders"},
		}
	}
	const denial = "metadata.annotations[cmf.confluent.io/adopted-path] is set only by the savepoint manager"
	requireDenied(t, s.c.Create(ctx, adopted("by-admin")), denial+" when it adopts a savepoint taken outside Kubernetes: remove it; to register existing savepoint data, import it (kubectl savepoint import)")
	require.NoError(t, manager.Create(ctx, adopted("by-manager")), "the manager adopts")

	plain := &cmfv1.Savepoint{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "plain"}, Spec: cmfv1.SavepointSpec{Application: "orders"}}
	require.NoError(t, s.c.Create(ctx, plain))
	patch := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"annotations":{"cmf.confluent.io/adopted-path":"file:/sp/other"}}}`))
	requireDenied(t, s.c.Patch(ctx, plain, patch), denial)
	requireDenied(t, s.c.Patch(ctx, adopted("by-manager"), patch), denial)
	unrelated := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"annotations":{"team":"orders"}}}`))
	require.NoError(t, s.c.Patch(ctx, adopted("by-manager"), unrelated), "other annotations stay editable")
}

func (s *suite) testDetachedAs(t *testing.T) {
	ctx := context.Background()
	ns := s.env.Namespace(t)
	s.application(t, ns, "orders", nil)
	manager := s.user(t, ns, managerUser, rbacv1.PolicyRule{APIGroups: []string{"cmf.confluent.io"}, Resources: []string{"savepoints"}, Verbs: []string{"create", "update", "patch", "get"}})
	const denial = "metadata.annotations[cmf.confluent.io/detached-as] is set only by the savepoint manager when it completes a detach: remove it; to keep the data, detach the savepoint (kubectl savepoint detach "

	requireDenied(t, s.c.Create(ctx, &cmfv1.Savepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "marked", Annotations: map[string]string{cmfv1.DetachedAsAnnotation: ns + "/kept"}},
		Spec:       cmfv1.SavepointSpec{Application: "orders"},
	}), "Savepoint marked: "+denial+"marked; an application's only) or delete it with --force (kubectl savepoint delete marked --force)")

	sp := s.savepoint(t, ns, "done", cmfv1.SavepointSpec{Application: "orders"}, cmfv1.StateCompleted, "file:/sp/done")
	mark := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"annotations":{"cmf.confluent.io/detached-as":"`+ns+`/kept"}}}`))
	requireDenied(t, s.c.Patch(ctx, sp, mark), "Savepoint done: "+denial)
	require.NoError(t, manager.Patch(ctx, sp, mark), "the manager marks it when it completes a detach")
	unmark := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"annotations":{"cmf.confluent.io/detached-as":null}}}`))
	requireDenied(t, s.c.Patch(ctx, sp, unmark), "Savepoint done: "+denial)
	change := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"annotations":{"cmf.confluent.io/detached-as":"elsewhere/other"}}}`))
	requireDenied(t, s.c.Patch(ctx, sp, change), "Savepoint done: "+denial)
	unrelated := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"annotations":{"team":"orders"}}}`))
	require.NoError(t, s.c.Patch(ctx, sp, unrelated), "other annotations stay editable")
}

func (s *suite) testForceDelete(t *testing.T) {
	ctx := context.Background()
	ns := s.env.Namespace(t)
	app := s.application(t, ns, "orders", nil)
	savepointRights := rbacv1.PolicyRule{APIGroups: []string{"cmf.confluent.io"}, Resources: []string{"savepoints"}, Verbs: []string{"*"}}
	editor := s.user(t, ns, "force-editor", savepointRights, rbacv1.PolicyRule{APIGroups: []string{"cmf.confluent.io"}, Resources: []string{"flinkapplications"}, Verbs: []string{"get", "update", "patch"}})
	owner := s.user(t, ns, "force-owner", savepointRights, rbacv1.PolicyRule{APIGroups: []string{"cmf.confluent.io"}, Resources: []string{"flinkapplications"}, Verbs: []string{"get", "update", "patch", "delete"}})
	force := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"annotations":{"cmf.confluent.io/force-delete":"true"}}}`))
	sp := s.savepoint(t, ns, "done", cmfv1.SavepointSpec{Application: "orders"}, cmfv1.StateCompleted, "file:/sp/done")

	t.Run("a user who may not delete the parent cannot leave it behind", func(t *testing.T) {
		// kubectl savepoint delete --force sets the annotation, then deletes.
		requireDenied(t, editor.Patch(ctx, sp, force),
			`Savepoint done: metadata.annotations[cmf.confluent.io/force-delete] makes its delete keep the data, which needs the right to delete it: user "force-editor" may not delete FlinkApplication orders; ask for delete on flinkapplications in namespace `+ns)
		requireDenied(t, editor.Delete(ctx, sp), `user "force-editor" may not delete FlinkApplication orders`)
		got := s.savepointNamed(t, ns, "done")
		assert.NotContains(t, got.Annotations, cmfv1.ForceDeleteAnnotation, "nothing left behind to turn a later delete into an orphaning one")
		requireDenied(t, editor.Create(ctx, &cmfv1.Savepoint{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "forced", Annotations: map[string]string{cmfv1.ForceDeleteAnnotation: "true"}},
			Spec:       cmfv1.SavepointSpec{Application: "orders"},
		}), `Savepoint forced: metadata.annotations[cmf.confluent.io/force-delete] makes its delete keep the data`)
	})
	t.Run("nor on the parent", func(t *testing.T) {
		requireDenied(t, editor.Patch(ctx, app, force),
			`FlinkApplication orders: metadata.annotations[cmf.confluent.io/force-delete] makes its delete skip the savepoint of a stop in flight and the cancelling of its job, which needs the right to delete it: user "force-editor" may not delete FlinkApplication orders; ask for delete on flinkapplications in namespace `+ns)
		require.NoError(t, owner.Patch(ctx, app, force))
		require.NoError(t, editor.Patch(ctx, app, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"annotations":{"cmf.confluent.io/force-delete":null}}}`))),
			"removing it only makes a delete careful again: anyone who may update the parent may")
	})
	t.Run("a user who may delete the parent sets it, and the delete says the data is kept", func(t *testing.T) {
		require.NoError(t, owner.Patch(ctx, sp, force))
		_, errOut, err := s.env.RunKubectl(ctx, "delete", "savepoint", "done", "-n", ns, "--wait=false", "--dry-run=server")
		require.NoError(t, err, errOut)
		assert.Contains(t, errOut, "Warning: Savepoint done: deleted with cmf.confluent.io/force-delete=true: its data at file:/sp/done is kept, not disposed (a Warning event records the path)")
	})
}

func (s *suite) testDetachedSourceFixed(t *testing.T) {
	ctx := context.Background()
	ns, victim := s.env.Namespace(t), s.env.Namespace(t)
	s.application(t, victim, "orders", nil)
	nightly := s.savepoint(t, victim, "nightly", cmfv1.SavepointSpec{Application: "orders"}, cmfv1.StateCompleted, "file:/sp/nightly")
	imported := &cmfv1.DetachedSavepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "imported-" + ns},
		Spec:       cmfv1.DetachedSavepointSpec{Path: "file:/sp/nightly"},
	}
	require.NoError(t, s.c.Create(ctx, imported))
	const denial = "spec.source cannot be added, removed or changed after creation"

	addSource := fmt.Sprintf(`{"spec":{"source":{"namespace":%q,"application":"orders","savepointName":"nightly","uid":%q}}}`, victim, nightly.UID)
	requireDenied(t, s.c.Patch(ctx, imported, client.RawPatch(types.MergePatchType, []byte(addSource))), denial)
	requireDenied(t, s.c.Patch(ctx, imported, client.RawPatch(types.MergePatchType, []byte(addSource)), client.DryRunAll), denial)
	assert.NoError(t, s.c.Get(ctx, client.ObjectKeyFromObject(nightly), &cmfv1.Savepoint{}), "the named savepoint is untouched")

	detached := &cmfv1.DetachedSavepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: victim, Name: "detached-" + victim},
		Spec: cmfv1.DetachedSavepointSpec{Path: "file:/sp/nightly", Source: &cmfv1.DetachedSavepointSource{
			Namespace: victim, Application: "orders", SavepointName: "nightly", UID: string(nightly.UID),
		}},
	}
	require.NoError(t, s.c.Create(ctx, detached))
	requireDenied(t, s.c.Patch(ctx, detached, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"source":null}}`))), denial)
	requireDenied(t, s.c.Patch(ctx, detached, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"source":{"savepointName":"other"}}}`))), denial)
	require.NoError(t, s.c.Patch(ctx, detached, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"team":"orders"}}}`))), "metadata stays editable")
}

func (s *suite) testReservedSettings(t *testing.T) {
	ctx := context.Background()
	ns := s.env.Namespace(t)
	const insert = "INSERT INTO sink SELECT * FROM source"
	stmt := func(name, sql string, properties map[string]string) *cmfv1.Statement {
		return &cmfv1.Statement{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec:       cmfv1.StatementSpec{Statement: sql, ComputePoolName: "pool", Properties: properties},
		}
	}
	requireDenied(t, s.c.Create(ctx, stmt("restore", insert, map[string]string{"execution.savepoint.path": "s3://b/team-a/savepoint-1"})),
		`Statement restore: spec.properties[execution.savepoint.path] chooses the savepoint the job restores from, which only the savepoint manager sets on a compute pool: remove it; to start from one of its savepoints, set spec.startFromSavepoint (kubectl savepoint start -s restore --savepoint NAME)`)
	requireDenied(t, s.c.Create(ctx, stmt("take-over", insert, map[string]string{"$internal.pipeline.job-id": "0123456789abcdef0123456789abcdef"}), client.DryRunAll),
		`Statement take-over: spec.properties[$internal.pipeline.job-id] is internal to Flink`)

	plain := stmt("plain", insert, map[string]string{"table.exec.state.ttl": "1 h"})
	require.NoError(t, s.c.Create(ctx, plain))
	plain.Spec.Statement = "SET 'execution.state-recovery.path' = 's3://b/team-a/savepoint-1';\n" + insert
	requireDenied(t, s.c.Update(ctx, plain), `Statement plain: spec.statement sets execution.state-recovery.path (SET 'execution.state-recovery.path' = 's3://b/team-a/save...), which chooses the savepoint the job restores from and only the savepoint manager sets on a compute pool: remove it; to start from one of its savepoints, set spec.startFromSavepoint (kubectl savepoint start -s plain --savepoint NAME)`)
	plain.Spec.Statement = insert
	plain.Spec.FlinkConfiguration = map[string]string{"pipeline.name": "orders"}
	requireDenied(t, s.c.Update(ctx, plain), `Statement plain: spec.flinkConfiguration[pipeline.name] names the job`)

	session := &cmfv1.FlinkApplication{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pooled"},
		Spec: cmfv1.FlinkApplicationSpec{ComputePoolName: "pool", FlinkConfiguration: map[string]string{"execution.savepoint.path": "s3://b/x"},
			Job: &cmfv1.JobSpec{JarURI: "local:///opt/flink/job.jar"}},
	}
	requireDenied(t, s.c.Create(ctx, session), `FlinkApplication pooled: spec.flinkConfiguration[execution.savepoint.path] chooses the savepoint the job restores from, which only the savepoint manager sets on a compute pool: remove it; to start from a savepoint, set spec.job.startFromSavepoint (kubectl savepoint start -a pooled --savepoint NAME)`)
	own := s.application(t, ns, "own-cluster", map[string]string{"pipeline.name": "orders"})
	assert.Equal(t, "orders", own.Spec.FlinkConfiguration["pipeline.name"], "an application run by the Flink Kubernetes Operator has a cluster of its own")
}

func (s *suite) testDryRun(t *testing.T) {
	ctx := context.Background()
	ns := s.env.Namespace(t)
	s.application(t, ns, "orders", nil)
	valid := fmt.Sprintf(`{"apiVersion":"cmf.confluent.io/v1","kind":"DetachedSavepoint","metadata":{"name":"dry-%s","namespace":"%s"},"spec":{"path":"file:/sp/dry"}}`, ns, ns)
	out, errOut, err := s.env.RunKubectlStdin(ctx, valid, "apply", "--dry-run=server", "-f", "-")
	require.NoError(t, err, errOut)
	assert.Contains(t, out, "created (server dry run)")
	err = s.c.Get(ctx, client.ObjectKey{Namespace: claimNamespace, Name: "dsp.dry-" + ns}, &coordinationv1.Lease{})
	assert.True(t, apierrors.IsNotFound(err), "a dry run claims no name: %v", err)

	invalid := fmt.Sprintf(`{"apiVersion":"cmf.confluent.io/v1","kind":"Savepoint","metadata":{"name":"dry","namespace":"%s"},"spec":{"application":"ghost"}}`, ns)
	_, errOut, err = s.env.RunKubectlStdin(ctx, invalid, "apply", "--dry-run=server", "-f", "-")
	require.Error(t, err)
	assert.Contains(t, errOut, `spec.application "ghost" does not exist in namespace `+ns)

	sp := fmt.Sprintf(`{"apiVersion":"cmf.confluent.io/v1","kind":"Savepoint","metadata":{"name":"dry","namespace":"%s"},"spec":{"application":"orders"}}`, ns)
	out, errOut, err = s.env.RunKubectlStdin(ctx, sp, "create", "--dry-run=server", "-o", "jsonpath={.spec.formatType} {.spec.backoffLimit}", "-f", "-")
	require.NoError(t, err, errOut)
	assert.Equal(t, "CANONICAL -1", out, "defaults show in a dry run")
	err = s.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "dry"}, &cmfv1.Savepoint{})
	assert.True(t, apierrors.IsNotFound(err), "nothing was created")
}

func (s *suite) testWarnings(t *testing.T) {
	ctx := context.Background()
	ns := s.env.Namespace(t)
	s.application(t, ns, "orders", nil)
	s.savepoint(t, ns, "done", cmfv1.SavepointSpec{Application: "orders"}, cmfv1.StateCompleted, "file:/sp/done")
	dsp := "kept-" + ns
	require.NoError(t, s.c.Create(ctx, &cmfv1.DetachedSavepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: dsp}, Spec: cmfv1.DetachedSavepointSpec{Path: "file:/sp/kept"},
	}))

	tests := []struct {
		args []string
		want string
	}{
		{[]string{"delete", "savepoint", "done"},
			"Warning: Savepoint done: its data at file:/sp/done will be disposed through the Flink cluster; detach it first to keep the data (kubectl savepoint detach done)"},
		{[]string{"delete", "detachedsavepoint", dsp},
			"Warning: DetachedSavepoint " + dsp + ": deleting it keeps the savepoint data at file:/sp/kept; delete the data yourself if no job needs it"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[:2], " "), func(t *testing.T) {
			_, errOut, err := s.env.RunKubectl(ctx, append(tt.args, "-n", ns, "--wait=false")...)
			require.NoError(t, err, errOut)
			assert.Contains(t, errOut, tt.want)
		})
	}
}

// --- fixtures ---

func (s *suite) application(t *testing.T, ns, name string, config map[string]string) *cmfv1.FlinkApplication {
	t.Helper()
	app := &cmfv1.FlinkApplication{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       cmfv1.FlinkApplicationSpec{FlinkConfiguration: config, Job: &cmfv1.JobSpec{JarURI: "local:///opt/flink/job.jar"}},
	}
	require.NoError(t, s.c.Create(context.Background(), app))
	return app
}

func (s *suite) statement(t *testing.T, ns, name string) *cmfv1.Statement {
	t.Helper()
	stmt := &cmfv1.Statement{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       cmfv1.StatementSpec{Statement: "INSERT INTO sink SELECT * FROM source", ComputePoolName: "pool"},
	}
	require.NoError(t, s.c.Create(context.Background(), stmt))
	return stmt
}

// savepoint creates a Savepoint and writes the status a controller would.
func (s *suite) savepoint(t *testing.T, ns, name string, spec cmfv1.SavepointSpec, state cmfv1.SavepointState, path string) *cmfv1.Savepoint {
	t.Helper()
	ctx := context.Background()
	sp := &cmfv1.Savepoint{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}
	require.NoError(t, s.c.Create(ctx, sp))
	if state != "" {
		sp.Status = cmfv1.SavepointStatus{State: state, Path: path, Origin: cmfv1.OriginManual}
		require.NoError(t, s.c.Status().Update(ctx, sp))
	}
	return sp
}

// annotate sets an annotation with a merge patch, as the plugin does.
func (s *suite) annotate(t *testing.T, sp *cmfv1.Savepoint, key, value string) {
	t.Helper()
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, key, value)
	require.NoError(t, s.c.Patch(context.Background(), sp, client.RawPatch(types.MergePatchType, []byte(patch))))
}

func (s *suite) savepointNamed(t *testing.T, ns, name string) *cmfv1.Savepoint {
	t.Helper()
	sp := &cmfv1.Savepoint{}
	require.NoError(t, s.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, sp))
	return sp
}

// deleteAsController deletes sp and, as the controller would once it is
// done with it, removes its dispose finalizer (the webhook adds it at
// creation; no controller runs here).
func (s *suite) deleteAsController(t *testing.T, sp *cmfv1.Savepoint) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, s.c.Delete(ctx, sp))
	require.NoError(t, client.IgnoreNotFound(s.c.Patch(ctx, sp, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`)))))
	require.Eventually(t, func() bool {
		return apierrors.IsNotFound(s.c.Get(ctx, client.ObjectKeyFromObject(sp), &cmfv1.Savepoint{}))
	}, 10*time.Second, 10*time.Millisecond, "%s gone", sp.Name)
}

// user is a real user of the API server with a Role in ns.
func (s *suite) user(t *testing.T, ns, name string, rules ...rbacv1.PolicyRule) client.Client {
	t.Helper()
	ctx := context.Background()
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Rules: rules}
	require.NoError(t, s.c.Create(ctx, role))
	require.NoError(t, s.c.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}},
	}))
	if len(rules) > 0 && len(rules[0].Resources) > 0 && len(rules[0].Verbs) > 0 {
		s.waitAllowed(t, name, rules[0].Verbs[0], rules[0].Resources[0], ns, "")
	}
	authenticated, err := s.env.Env.AddUser(envtest.User{Name: name}, nil)
	require.NoError(t, err)
	c, err := client.New(authenticated.Config(), client.Options{Scheme: s.env.Scheme})
	require.NoError(t, err)
	return c
}

// waitAllowed waits until the API server's authorizer has seen the
// RoleBinding that lets user verb resource namespace/name: a binding takes
// effect through the authorizer's informer, a moment after its create.
func (s *suite) waitAllowed(t *testing.T, user, verb, resource, namespace, name string) {
	t.Helper()
	waitFor(t, 10*time.Second, func() bool {
		review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: user, Groups: []string{"system:authenticated"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace: namespace, Verb: verb, Group: cmfv1.GroupVersion.Group, Resource: resource, Name: name,
			},
		}}
		require.NoError(t, s.c.Create(context.Background(), review))
		return review.Status.Allowed
	}, fmt.Sprintf("%s may %s %s %s/%s", user, verb, resource, namespace, name))
}

// requireDenied asserts a webhook or API server denial containing want.
func requireDenied(t *testing.T, err error, want string) {
	t.Helper()
	require.Error(t, err)
	assert.Contains(t, err.Error(), want)
}

func waitFor(t *testing.T, timeout time.Duration, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		require.True(t, time.Now().Before(deadline), msg)
		time.Sleep(50 * time.Millisecond)
	}
}
