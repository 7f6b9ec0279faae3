package webhook_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/egress"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/index"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/webhook"
)

// tenants is a cluster installed as the README says: the manager's rendered
// RBAC and the user roles of manifests/rbac, with two namespace admins,
// each bound in their own namespace only to Kubernetes' aggregated `admin`
// and to savepoint-detached-editor and savepoint-admin. team-b-admin
// attacks team-a.
type tenants struct {
	env          *controlplane.Env
	admin        client.Client // the cluster admin: writes status as the controllers would
	teamA, teamB client.Client
	// teamBOwner holds every right in team-b (cluster-admin bound there
	// only), as some clusters make namespace owners: rights in its own
	// namespace must not reach into another.
	teamBOwner client.Client
	journey    journey // what team-a made, for team-b to attack
}

const (
	teamA, teamB           = "team-a", "team-b"
	teamAAdmin, teamBAdmin = "team-a-admin", "team-b-admin"
	// managerNamespace is where the rendered RBAC binds the manager.
	managerNamespace = "savepoint-system"
)

// TestTenants: every admission-side attack of issue 18 that team-b-admin
// can try against team-a is refused, reveals nothing of team-a's, and
// leaves team-a's objects as they were; team-a-admin's own journey works.
func TestTenants(t *testing.T) {
	env := controlplane.Start(t, controlplane.Options{Webhooks: true})
	ctx := context.Background()
	for _, ns := range []string{managerNamespace, teamA, teamB} {
		require.NoError(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	}
	_, errOut, err := env.RunKubectl(ctx, "apply", "-n", managerNamespace, "-k", filepath.Join(controlplane.RepoRoot(t), "manifests", "rbac"))
	require.NoError(t, err, errOut)
	env.WaitForAggregation(t)

	sa := env.ActingAs("system:serviceaccount:"+managerNamespace+":savepoint-manager",
		"system:serviceaccounts", "system:serviceaccounts:"+managerNamespace)
	_, _ = env.StartManagerAs(t, sa, func(ctx context.Context, mgr ctrl.Manager) error {
		if err := index.Add(ctx, mgr.GetFieldIndexer()); err != nil {
			return err
		}
		return webhook.Setup(ctx, mgr, webhook.Options{ClaimNamespace: managerNamespace, ManagerUser: sa.Impersonate.UserName, Endpoints: tenantEndpoints})
	})

	s := &tenants{env: env, admin: env.Client}
	s.teamA, s.teamB = s.namespaceAdmin(t, teamA, teamAAdmin), s.namespaceAdmin(t, teamB, teamBAdmin)
	_, errOut, err = env.RunKubectl(ctx, "create", "rolebinding", "team-b-owner", "-n", teamB, "--clusterrole", "cluster-admin", "--user", "team-b-owner")
	require.NoError(t, err, errOut)
	s.waitAllowed(t, "team-b-owner", "patch", "detachedsavepoints", teamB, "")
	s.teamBOwner, err = client.New(env.ActingAs("team-b-owner"), client.Options{Scheme: env.Scheme})
	require.NoError(t, err)

	t.Run("the aggregated admin role grants what the README says, in its namespace only", s.testAdminRole)
	t.Run("team-a's journey: savepoint, detach, start from a detached savepoint it may read", s.testJourney)
	t.Run("team-b cannot detach team-a's savepoint by adding a source", s.testAddSource)
	t.Run("team-b cannot detach team-a's savepoint, nor learn anything of it", s.testDetachAcross)
	t.Run("team-b cannot start from team-a's detached savepoint, nor learn its path", s.testStartAcross)
	t.Run("team-b cannot mark or force team-a's savepoints, nor bypass its own rules", s.testAnnotations)
	t.Run("team-b's statements cannot restore from a path or take over a job", s.testReservedSettings)
	t.Run("a user allowed FlinkApplications but not FlinkDeployments gets no FlinkDeployment", s.testOperatorMode)
	t.Run("the URLs the manager calls are capped in length", s.testURLLengths)
	t.Run("team-b cannot point a pool or a parent at team-a's cluster or at cloud metadata", s.testEndpoints)
	t.Run("a SavepointPolicy needs its author's rights over what it covers", s.testPolicies)
}

// tenantEndpoints: the admin's list here. Each namespace reaches its own
// Services; the bare names and the loopback address are the other tests'
// (nothing is called in this suite).
var tenantEndpoints = &webhook.EndpointRules{
	Policy: egress.MustParse([]string{"*.{namespace}.svc", "team-a-jobmanager", "team-b-jobmanager", "team-a-sql-gateway", "jm", "127.0.0.1"},
		egress.Options{AllowLoopback: true}),
	AllowRestURLAnnotation: true,
}

// testEndpoints: the URLs a user writes are checked against the admin's
// list at admission, for that user's namespace.
func (s *tenants) testEndpoints(t *testing.T) {
	ctx := context.Background()
	pool := func(name, rest, gateway string) *cmfv1.ComputePool {
		return &cmfv1.ComputePool{ObjectMeta: metav1.ObjectMeta{Namespace: teamB, Name: name}, Spec: cmfv1.ComputePoolSpec{RestURL: rest, SQLGatewayURL: gateway}}
	}
	for _, tc := range []struct {
		name string
		obj  client.Object
		want string
	}{
		{"a pool at team-a's JobManager Service", pool("theirs", "http://orders-rest.team-a.svc:8081", ""), "ComputePool theirs: spec.restURL: "},
		{"a SQL Gateway at cloud metadata", pool("metadata", "http://flink-rest.team-b.svc:8081", "http://169.254.169.254/latest/meta-data/"), "ComputePool metadata: spec.sqlGatewayURL: "},
		{"a rest-url annotation at team-a's JobManager Service", &cmfv1.FlinkApplication{
			ObjectMeta: metav1.ObjectMeta{Namespace: teamB, Name: "pointed", Annotations: map[string]string{cmfv1.RestURLAnnotation: "http://orders-rest.team-a.svc:8081"}},
			Spec:       cmfv1.FlinkApplicationSpec{Job: &cmfv1.JobSpec{JarURI: "local:///opt/flink/job.jar"}}}, "FlinkApplication pointed: metadata.annotations[cmf.confluent.io/rest-url]: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requireDenied(t, s.teamB.Create(ctx, tc.obj), tc.want)
		})
	}
	require.NoError(t, s.teamB.Create(ctx, pool("own", "http://flink-rest.team-b.svc:8081", "http://sql.team-b.svc:8083")), "its own namespace's Services")
}

// namespaceAdmin binds user, in ns only, to `admin`, and as the README
// says, to savepoint-detached-editor and savepoint-admin, and lets them
// write the Flink Kubernetes Operator's FlinkDeployments there (as a
// cluster whose teams run operator-mode applications does); it returns a
// client acting as that user. The aggregated admin alone grants neither
// DetachedSavepoints nor ComputePools: both are bound explicitly.
func (s *tenants) namespaceAdmin(t *testing.T, ns, user string) client.Client {
	t.Helper()
	ctx := context.Background()
	_, errOut, err := s.env.RunKubectl(ctx, "create", "rolebinding", user, "-n", ns, "--clusterrole", "admin", "--user", user)
	require.NoError(t, err, errOut)
	s.waitAllowed(t, user, "create", "flinkapplications", ns, "")
	c, err := client.New(s.env.ActingAs(user), client.Options{Scheme: s.env.Scheme})
	require.NoError(t, err)
	assert.False(t, s.allowed(t, user, "create", "detachedsavepoints", ns), "admin alone grants no DetachedSavepoints")
	err = c.Create(ctx, &cmfv1.ComputePool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "mine"}, Spec: cmfv1.ComputePoolSpec{RestURL: "http://127.0.0.1:8081"}})
	assert.True(t, apierrors.IsForbidden(err), "admin alone chooses no Flink cluster for the manager to call: %v", err)
	for _, role := range []string{"savepoint-detached-editor", "savepoint-admin"} {
		_, errOut, err = s.env.RunKubectl(ctx, "create", "rolebinding", user+"-"+role, "-n", ns, "--clusterrole", role, "--user", user)
		require.NoError(t, err, errOut)
	}
	s.waitAllowed(t, user, "create", "detachedsavepoints", ns, "")
	s.waitAllowed(t, user, "create", "computepools", ns, "")
	s.grantDeployments(t, ns, user, "create", "update")
	return c
}

func (s *tenants) testAdminRole(t *testing.T) {
	for _, tc := range []struct {
		verb, resource, ns string
		want               bool
	}{
		{"create", "computepools", teamB, true}, // savepoint-admin, bound explicitly
		{"patch", "computepools", teamB, true},
		{"create", "detachedsavepoints", teamB, true}, // savepoint-detached-editor, bound explicitly
		{"create", "computepools", teamA, false},
		{"get", "savepoints", teamA, false},
		{"get", "detachedsavepoints", teamA, false},
		{"create", "detachedsavepoints", teamA, false},
		{"update", "flinkapplications", teamA, false},
	} {
		assert.Equal(t, tc.want, s.allowed(t, teamBAdmin, tc.verb, tc.resource, tc.ns), "%s %s %s", tc.verb, tc.resource, tc.ns)
	}
	ctx := context.Background()
	pool := &cmfv1.ComputePool{ObjectMeta: metav1.ObjectMeta{Namespace: teamA, Name: "stolen"}, Spec: cmfv1.ComputePoolSpec{RestURL: "http://team-b-jobmanager:8081"}}
	assert.True(t, apierrors.IsForbidden(s.teamB.Create(ctx, pool)), "no pool of team-b's choosing in team-a")
	pool.Namespace = teamB
	require.NoError(t, s.teamB.Create(ctx, pool), "a namespace admin chooses the pools of their own namespace")
}

// journey is what team-a made: an application with a COMPLETED savepoint
// "nightly", and one detached as "golden".
type journey struct {
	nightly, detached *cmfv1.Savepoint
	golden            *cmfv1.DetachedSavepoint
}

func (s *tenants) testJourney(t *testing.T) {
	ctx := context.Background()
	require.NoError(t, s.teamA.Create(ctx, &cmfv1.ComputePool{ObjectMeta: metav1.ObjectMeta{Namespace: teamA, Name: "pool"},
		Spec: cmfv1.ComputePoolSpec{RestURL: "http://team-a-jobmanager:8081", SQLGatewayURL: "http://team-a-sql-gateway:8083"}}))
	require.NoError(t, s.teamA.Create(ctx, &cmfv1.FlinkApplication{ObjectMeta: metav1.ObjectMeta{Namespace: teamA, Name: "orders"},
		Spec: cmfv1.FlinkApplicationSpec{ComputePoolName: "pool", FlinkConfiguration: map[string]string{"state.backend.type": "rocksdb"},
			Job: &cmfv1.JobSpec{JarURI: "http://artifacts/orders.jar"}}}))
	require.NoError(t, s.teamA.Create(ctx, &cmfv1.Statement{ObjectMeta: metav1.ObjectMeta{Namespace: teamA, Name: "clicks"},
		Spec: cmfv1.StatementSpec{ComputePoolName: "pool", Properties: map[string]string{"table.exec.state.ttl": "1 h"},
			Statement: "SET 'table.exec.mini-batch.enabled' = 'true';\nINSERT INTO sink SELECT * FROM source"}}))

	s.journey.nightly = s.completed(t, s.teamA, teamA, "nightly", "orders", "s3://flink/team-a/savepoint-nightly")
	s.journey.detached = s.completed(t, s.teamA, teamA, "before-migration", "orders", "s3://flink/team-a/savepoint-before-migration")
	s.journey.golden = &cmfv1.DetachedSavepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: teamA, Name: "golden"},
		Spec: cmfv1.DetachedSavepointSpec{Path: s.journey.detached.Status.Path, Source: &cmfv1.DetachedSavepointSource{
			Namespace: teamA, Application: "orders", SavepointName: "before-migration", UID: string(s.journey.detached.UID),
		}},
	}
	require.NoError(t, s.teamA.Create(ctx, s.journey.golden), "team-a detaches its own savepoint")

	require.NoError(t, s.teamA.Create(ctx, &cmfv1.FlinkApplication{ObjectMeta: metav1.ObjectMeta{Namespace: teamA, Name: "orders-v2"},
		Spec: cmfv1.FlinkApplicationSpec{ComputePoolName: "pool", Job: &cmfv1.JobSpec{JarURI: "http://artifacts/orders.jar",
			StartFromSavepoint: &cmfv1.StartFromSavepoint{SavepointName: "golden"}}}}), "team-a starts from its own detached savepoint")

	// A savepoint a cluster admin shares with team-a: get on it there is enough.
	shared := s.sharedWith(t, teamAAdmin)
	app := &cmfv1.FlinkApplication{}
	require.NoError(t, s.teamA.Get(ctx, client.ObjectKey{Namespace: teamA, Name: "orders-v2"}, app))
	app.Spec.Job.StartFromSavepoint = &cmfv1.StartFromSavepoint{UID: string(shared.UID)}
	require.NoError(t, s.teamA.Update(ctx, app), "team-a starts from a detached savepoint of another namespace it may read")
}

// sharedWith imports a savepoint in a namespace of the cluster admin's and
// lets user get it there.
func (s *tenants) sharedWith(t *testing.T, user string) *cmfv1.DetachedSavepoint {
	t.Helper()
	ctx := context.Background()
	ns := s.env.Namespace(t)
	shared := &cmfv1.DetachedSavepoint{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shared-" + ns}, Spec: cmfv1.DetachedSavepointSpec{Path: "s3://flink/shared/savepoint-1"}}
	require.NoError(t, s.admin.Create(ctx, shared))
	require.NoError(t, s.admin.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "read-shared"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{cmfv1.GroupVersion.Group}, Resources: []string{"detachedsavepoints"}, Verbs: []string{"get"}, ResourceNames: []string{shared.Name}}}}))
	require.NoError(t, s.admin.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "read-shared"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "read-shared"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}}))
	s.waitAllowed(t, user, "get", "detachedsavepoints", ns, shared.Name)
	return shared
}

// testAddSource is the attack that worked: import any path, then patch a
// source naming another namespace's savepoint, so that the manager removes
// it as detached.
func (s *tenants) testAddSource(t *testing.T) {
	ctx := context.Background()
	nightly := s.journey.nightly
	imported := &cmfv1.DetachedSavepoint{ObjectMeta: metav1.ObjectMeta{Namespace: teamB, Name: "x"}, Spec: cmfv1.DetachedSavepointSpec{Path: "s3://b/any"}}
	require.NoError(t, s.teamB.Create(ctx, imported), "kubectl savepoint import x --path s3://b/any")
	patch := client.RawPatch(types.MergePatchType, []byte(fmt.Sprintf(`{"spec":{"source":{"namespace":%q,"application":"orders","savepointName":"nightly","uid":%q}}}`, teamA, nightly.UID)))
	err := s.teamB.Patch(ctx, imported, patch)
	assert.True(t, apierrors.IsForbidden(err), "savepoint-detached-editor does not update detached savepoints: %v", err)
	for _, opts := range [][]client.PatchOption{nil, {client.DryRunAll}} {
		err := s.teamBOwner.Patch(ctx, imported, patch, opts...)
		requireDenied(t, err, `DetachedSavepoint.cmf.confluent.io "x" is invalid: spec.source: Invalid value: spec.source cannot be added, removed or changed after creation: a detach is the creation of a DetachedSavepoint with a source (kubectl savepoint detach)`)
	}
	s.requireUntouched(t)
}

// testDetachAcross: a detach into team-b of team-a's savepoint is refused
// before anything of the savepoint is read: the answer is the same whether
// it exists or not, whatever path and uid were guessed, dry run or not.
func (s *tenants) testDetachAcross(t *testing.T) {
	ctx := context.Background()
	nightly := s.journey.nightly
	want := `DetachedSavepoint stolen: spec.source: user "team-b-admin" may not update FlinkApplication orders in namespace team-a, which detaching its savepoints needs: ask for update on flinkapplications there`
	for _, tc := range []struct {
		name      string
		savepoint string
		path, uid string
		dryRun    bool
	}{
		{name: "the right path and uid", savepoint: "nightly", path: nightly.Status.Path, uid: string(nightly.UID)},
		{name: "a guessed path and uid", savepoint: "nightly", path: "s3://b/guess", uid: "0d3c52a8-1d7a-4a63-9c39-2b9a4a6d3a10"},
		{name: "a dry run", savepoint: "nightly", path: "s3://b/guess", uid: "0d3c52a8-1d7a-4a63-9c39-2b9a4a6d3a10", dryRun: true},
		{name: "a savepoint that does not exist", savepoint: "ghost", path: "s3://b/guess", uid: "0d3c52a8-1d7a-4a63-9c39-2b9a4a6d3a10", dryRun: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []client.CreateOption
			if tc.dryRun {
				opts = append(opts, client.DryRunAll)
			}
			err := s.teamB.Create(ctx, &cmfv1.DetachedSavepoint{
				ObjectMeta: metav1.ObjectMeta{Namespace: teamB, Name: "stolen"},
				Spec: cmfv1.DetachedSavepointSpec{Path: tc.path, Source: &cmfv1.DetachedSavepointSource{
					Namespace: teamA, Application: "orders", SavepointName: tc.savepoint, UID: tc.uid,
				}},
			}, opts...)
			requireDenied(t, err, want)
			for _, secret := range []string{nightly.Status.Path, string(nightly.UID), "COMPLETED", "exist"} {
				if secret != tc.path && secret != tc.uid {
					assert.NotContains(t, err.Error(), secret, "nothing of team-a's savepoint is revealed")
				}
			}
		})
	}
	s.requireUntouched(t)

	// A name is unique across namespaces; who holds it is not revealed.
	err := s.teamB.Create(ctx, &cmfv1.DetachedSavepoint{ObjectMeta: metav1.ObjectMeta{Namespace: teamB, Name: "golden"}, Spec: cmfv1.DetachedSavepointSpec{Path: "s3://b/any"}})
	requireDenied(t, err, `DetachedSavepoint golden: metadata.name "golden" is taken by the DetachedSavepoint in another namespace (names are unique across all namespaces): choose another name`)
	err = s.teamA.Create(ctx, &cmfv1.DetachedSavepoint{ObjectMeta: metav1.ObjectMeta{Namespace: teamA, Name: "x"}, Spec: cmfv1.DetachedSavepointSpec{Path: "s3://a/any"}})
	requireDenied(t, err, `metadata.name "x" is taken by the DetachedSavepoint in another namespace`)
}

// testStartAcross: team-a's detached savepoint is, for team-b, one that
// does not exist, by name and by uid, dry run or not.
func (s *tenants) testStartAcross(t *testing.T) {
	ctx := context.Background()
	golden := s.journey.golden
	start := func(ref cmfv1.StartFromSavepoint, opts ...client.CreateOption) error {
		return s.teamB.Create(ctx, &cmfv1.FlinkApplication{ObjectMeta: metav1.ObjectMeta{Namespace: teamB, Name: "thief"},
			Spec: cmfv1.FlinkApplicationSpec{Job: &cmfv1.JobSpec{JarURI: "http://artifacts/thief.jar", StartFromSavepoint: &ref}}}, opts...)
	}
	const ghostUID = "0d3c52a8-1d7a-4a63-9c39-2b9a4a6d3a10"
	for _, tc := range []struct {
		name         string
		ref, missing cmfv1.StartFromSavepoint
		real, ghost  string
	}{
		{"by name", cmfv1.StartFromSavepoint{SavepointName: "golden"}, cmfv1.StartFromSavepoint{SavepointName: "ghost"}, "golden", "ghost"},
		{"by uid", cmfv1.StartFromSavepoint{UID: string(golden.UID)}, cmfv1.StartFromSavepoint{UID: ghostUID}, string(golden.UID), ghostUID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, opts := range [][]client.CreateOption{nil, {client.DryRunAll}} {
				denied := start(tc.ref, opts...)
				require.Error(t, denied)
				assert.NotContains(t, denied.Error(), golden.Spec.Path, "the path is not revealed")
				notFound := start(tc.missing, opts...)
				require.Error(t, notFound)
				assert.Equal(t, strings.ReplaceAll(notFound.Error(), tc.ghost, tc.real), denied.Error(), "answered exactly as one that does not exist")
			}
		})
	}
	err := s.teamB.Get(ctx, client.ObjectKey{Namespace: teamB, Name: "thief"}, &cmfv1.FlinkApplication{})
	assert.True(t, apierrors.IsNotFound(err), "nothing was created: %v", err)

	// Shared with team-a only: team-b still may not.
	shared := s.sharedWith(t, teamAAdmin)
	requireDenied(t, start(cmfv1.StartFromSavepoint{SavepointName: shared.Name}), "names no Savepoint in namespace team-b and no DetachedSavepoint the requester may read")
}

// testAnnotations: team-b-admin has no rights in team-a at all, so the
// annotations that steer the manager are out of reach there; in its own
// namespace, detached-as (which would remove a savepoint without disposal,
// past the rule that a Statement's savepoints cannot be detached) is the
// manager's alone.
func (s *tenants) testAnnotations(t *testing.T) {
	ctx := context.Background()
	for _, key := range []string{cmfv1.DetachedAsAnnotation, cmfv1.ForceDeleteAnnotation} {
		patch := client.RawPatch(types.MergePatchType, []byte(fmt.Sprintf(`{"metadata":{"annotations":{%q:"true"}}}`, key)))
		err := s.teamB.Patch(ctx, s.journey.nightly.DeepCopy(), patch)
		assert.True(t, apierrors.IsForbidden(err), "%s on team-a's savepoint: %v", key, err)
	}

	require.NoError(t, s.teamB.Create(ctx, &cmfv1.ComputePool{ObjectMeta: metav1.ObjectMeta{Namespace: teamB, Name: "pool"}, Spec: cmfv1.ComputePoolSpec{RestURL: "http://team-b-jobmanager:8081"}}))
	require.NoError(t, s.teamB.Create(ctx, &cmfv1.Statement{ObjectMeta: metav1.ObjectMeta{Namespace: teamB, Name: "views"},
		Spec: cmfv1.StatementSpec{ComputePoolName: "pool", Statement: "INSERT INTO sink SELECT * FROM source"}}))
	own := s.completed(t, s.teamB, teamB, "views-1", "", "s3://flink/team-b/savepoint-views-1")
	mark := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"annotations":{"cmf.confluent.io/detached-as":"team-b/x"}}}`))
	requireDenied(t, s.teamB.Patch(ctx, own, mark), "Savepoint views-1: metadata.annotations[cmf.confluent.io/detached-as] is set only by the savepoint manager when it completes a detach")
	s.requireUntouched(t)
}

// testReservedSettings: a Statement's properties, its flinkConfiguration
// and the SET statements of its SQL, and a session-mode application's
// flinkConfiguration, may not choose the restore path, the job ID or the
// job's name, on a create or on a later edit.
func (s *tenants) testReservedSettings(t *testing.T) {
	ctx := context.Background()
	path := s.journey.nightly.Status.Path
	statement := func(name, sql string, properties, config map[string]string) *cmfv1.Statement {
		return &cmfv1.Statement{ObjectMeta: metav1.ObjectMeta{Namespace: teamB, Name: name},
			Spec: cmfv1.StatementSpec{ComputePoolName: "pool", Statement: sql, Properties: properties, FlinkConfiguration: config}}
	}
	const insert = "INSERT INTO sink SELECT * FROM source"
	for _, tc := range []struct {
		obj  client.Object
		want string
	}{
		{statement("restore", insert, map[string]string{"execution.savepoint.path": path}, nil),
			"Statement restore: spec.properties[execution.savepoint.path] chooses the savepoint the job restores from, which only the savepoint manager sets on a compute pool: remove it; to start from one of its savepoints, set spec.startFromSavepoint (kubectl savepoint start -s restore --savepoint NAME)"},
		{statement("recover", "SET 'execution.state-recovery.path' = '"+path+"';\n"+insert, nil, nil),
			"Statement recover: spec.statement sets execution.state-recovery.path"},
		{statement("take-over", insert, map[string]string{"$internal.pipeline.job-id": "0123456789abcdef0123456789abcdef", "pipeline.name": "clicks"}, nil),
			"Statement take-over: spec.properties[$internal.pipeline.job-id] is internal to Flink"},
		{statement("configured", insert, nil, map[string]string{"execution.state-recovery.path": path}),
			"Statement configured: spec.flinkConfiguration[execution.state-recovery.path] chooses the savepoint the job restores from, which only the savepoint manager sets on a compute pool: remove it; to start from one of its savepoints, set spec.startFromSavepoint (kubectl savepoint start -s configured --savepoint NAME)"},
		{statement("renamed", insert, nil, map[string]string{"pipeline.name": "clicks"}),
			"Statement renamed: spec.flinkConfiguration[pipeline.name] names the job (the manager names it after the parent), which only the savepoint manager sets on a compute pool"},
		{&cmfv1.FlinkApplication{ObjectMeta: metav1.ObjectMeta{Namespace: teamB, Name: "jar"},
			Spec: cmfv1.FlinkApplicationSpec{ComputePoolName: "pool", FlinkConfiguration: map[string]string{"execution.savepoint.path": path},
				Job: &cmfv1.JobSpec{JarURI: "http://artifacts/thief.jar"}}},
			"FlinkApplication jar: spec.flinkConfiguration[execution.savepoint.path] chooses the savepoint the job restores from"},
	} {
		requireDenied(t, s.teamB.Create(ctx, tc.obj), tc.want)
	}

	// Admitted clean, then edited: refused the same.
	clean := statement("edited", insert, map[string]string{"table.exec.state.ttl": "1 h"}, nil)
	require.NoError(t, s.teamB.Create(ctx, clean))
	for _, tc := range []struct{ patch, want string }{
		{`{"spec":{"properties":{"execution.savepoint.path":"` + path + `"}}}`, "Statement edited: spec.properties[execution.savepoint.path] chooses the savepoint the job restores from"},
		{`{"spec":{"flinkConfiguration":{"$internal.pipeline.job-id":"0123456789abcdef0123456789abcdef"}}}`, "Statement edited: spec.flinkConfiguration[$internal.pipeline.job-id] is internal to Flink"},
		{`{"spec":{"statement":"SET pipeline.name = clicks;\n` + insert + `"}}`, "Statement edited: spec.statement sets pipeline.name"},
	} {
		requireDenied(t, s.teamB.Patch(ctx, clean.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(tc.patch))), tc.want)
	}
	got := &cmfv1.Statement{}
	require.NoError(t, s.admin.Get(ctx, client.ObjectKeyFromObject(clean), got))
	assert.Equal(t, clean.Spec, got.Spec, "nothing of the edits was stored")
}

// testOperatorMode: the manager renders an application without
// computePoolName into a FlinkDeployment with its own rights, so writing
// one needs the right to write the FlinkDeployment: team-b's developer
// (`edit` in team-b, which carries no FlinkDeployments) may run jobs on a
// compute pool, but neither create an operator-mode application nor change
// the spec of one, fields our types do not know (podTemplate) included;
// team-b-admin, who may write FlinkDeployments there, may.
func (s *tenants) testOperatorMode(t *testing.T) {
	ctx := context.Background()
	const developer = "team-b-developer"
	_, errOut, err := s.env.RunKubectl(ctx, "create", "rolebinding", developer, "-n", teamB, "--clusterrole", "edit", "--user", developer)
	require.NoError(t, err, errOut)
	s.waitAllowed(t, developer, "create", "flinkapplications", teamB, "")
	dev, err := client.New(s.env.ActingAs(developer), client.Options{Scheme: s.env.Scheme})
	require.NoError(t, err)
	application := func(name, pool string) *cmfv1.FlinkApplication {
		return &cmfv1.FlinkApplication{ObjectMeta: metav1.ObjectMeta{Namespace: teamB, Name: name},
			Spec: cmfv1.FlinkApplicationSpec{ComputePoolName: pool, ServiceAccount: "flink", Job: &cmfv1.JobSpec{JarURI: "local:///opt/flink/job.jar"}}}
	}

	for _, opts := range [][]client.CreateOption{nil, {client.DryRunAll}} {
		requireDenied(t, dev.Create(ctx, application("deploy-me", ""), opts...),
			`FlinkApplication deploy-me: without spec.computePoolName the savepoint manager renders it into the FlinkDeployment deploy-me, which needs the right to create that: user "team-b-developer" may not create flinkdeployments.flink.apache.org in namespace team-b; ask for create on flinkdeployments.flink.apache.org there, or set spec.computePoolName to run the job on a ComputePool`)
	}
	require.NoError(t, dev.Create(ctx, application("on-pool", "pool")), "a job on a compute pool renders no FlinkDeployment")

	streams := application("streams", "")
	require.NoError(t, s.teamB.Create(ctx, streams), "team-b-admin may write FlinkDeployments in team-b")
	const updateDenied = `FlinkApplication streams: without spec.computePoolName the savepoint manager renders it into the FlinkDeployment streams, which needs the right to update that: user "team-b-developer" may not update flinkdeployments.flink.apache.org in namespace team-b; ask for update on flinkdeployments.flink.apache.org streams there`
	for _, tc := range []struct{ name, patch string }{
		{"a field of ours", `{"spec":{"serviceAccount":"flink-admin"}}`},
		{"a field only the operator knows", `{"spec":{"podTemplate":{"spec":{"serviceAccountName":"flink-admin"}}}}`},
		{"the job's savepoint path", `{"spec":{"job":{"initialSavepointPath":"s3://flink/team-a/savepoint-nightly"}}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requireDenied(t, dev.Patch(ctx, streams.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(tc.patch))), updateDenied)
		})
	}
	got := &cmfv1.FlinkApplication{}
	require.NoError(t, s.admin.Get(ctx, client.ObjectKeyFromObject(streams), got))
	assert.Equal(t, "flink", got.Spec.ServiceAccount, "the spec is team-b-admin's")
	require.NoError(t, dev.Patch(ctx, streams.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"annotations":{"owner":"team-b"}}}`))),
		"metadata renders nothing: edit is enough")
	require.NoError(t, s.teamB.Patch(ctx, streams.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(`{"spec":{"job":{"parallelism":2}}}`))))

	// Update on that one FlinkDeployment is enough to change that one application.
	require.NoError(t, s.admin.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: teamB, Name: "update-streams"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"flink.apache.org"}, Resources: []string{"flinkdeployments"}, Verbs: []string{"update"}, ResourceNames: []string{"streams"}}}}))
	require.NoError(t, s.admin.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: teamB, Name: "update-streams"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "update-streams"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: developer}}}))
	waitFor(t, 10*time.Second, func() bool {
		return s.mayDeployments(t, developer, "update", teamB, "streams")
	}, "the developer may update FlinkDeployment streams")
	require.NoError(t, dev.Patch(ctx, streams.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(`{"spec":{"job":{"parallelism":3}}}`))))
	requireDenied(t, dev.Create(ctx, application("deploy-me", "")), `user "team-b-developer" may not create flinkdeployments.flink.apache.org in namespace team-b`)

	// Nothing of team-b's reaches team-a.
	err = s.teamB.Create(ctx, &cmfv1.FlinkApplication{ObjectMeta: metav1.ObjectMeta{Namespace: teamA, Name: "deploy-me"}, Spec: application("", "").Spec})
	assert.True(t, apierrors.IsForbidden(err), "team-b-admin writes no application in team-a: %v", err)
}

// testURLLengths: every URL the manager calls, and so keys a client by and
// writes into status, events and logs, has a length cap (the CRDs, and the
// webhook for the rest-url annotation); a URL at the cap is accepted.
func (s *tenants) testURLLengths(t *testing.T) {
	ctx := context.Background()
	url := func(n int) string { return "http://jm:8081/" + strings.Repeat("a", n-len("http://jm:8081/")) }
	pool := func(name, rest, gateway string) *cmfv1.ComputePool {
		return &cmfv1.ComputePool{ObjectMeta: metav1.ObjectMeta{Namespace: teamB, Name: name}, Spec: cmfv1.ComputePoolSpec{RestURL: rest, SQLGatewayURL: gateway}}
	}
	annotated := &cmfv1.Statement{ObjectMeta: metav1.ObjectMeta{Namespace: teamB, Name: "far", Annotations: map[string]string{cmfv1.RestURLAnnotation: url(cmfv1.MaxEndpointURLLength + 1)}},
		Spec: cmfv1.StatementSpec{ComputePoolName: "pool", Statement: "INSERT INTO sink SELECT * FROM source"}}
	for _, tc := range []struct {
		name string
		obj  client.Object
		want string
	}{
		{"a pool's restURL", pool("long-rest", url(cmfv1.MaxEndpointURLLength+1), ""), "spec.restURL: Too long: may not be more than 2048 bytes"},
		{"a pool's sqlGatewayURL", pool("long-gateway", "http://jm:8081", url(cmfv1.MaxEndpointURLLength+1)), "spec.sqlGatewayURL: Too long: may not be more than 2048 bytes"},
		{"a job's jarURI", &cmfv1.FlinkApplication{ObjectMeta: metav1.ObjectMeta{Namespace: teamB, Name: "long-jar"},
			Spec: cmfv1.FlinkApplicationSpec{ComputePoolName: "pool", Job: &cmfv1.JobSpec{JarURI: url(cmfv1.MaxJarURILength + 1)}}},
			"spec.job.jarURI: Too long: may not be more than 4096 bytes"},
		{"the rest-url annotation", annotated,
			"Statement far: metadata.annotations[cmf.confluent.io/rest-url] is 2049 bytes long, and an endpoint URL may be at most 2048: give the JobManager's REST URL (scheme, host, port, path), or remove it to use the ComputePool's restURL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requireDenied(t, s.teamB.Create(ctx, tc.obj), tc.want)
		})
	}
	require.NoError(t, s.teamB.Create(ctx, pool("longest", url(cmfv1.MaxEndpointURLLength), url(cmfv1.MaxEndpointURLLength))), "a URL at the cap is accepted")
	annotated.Annotations[cmfv1.RestURLAnnotation] = url(cmfv1.MaxEndpointURLLength)
	require.NoError(t, s.teamB.Create(ctx, annotated), "a rest-url at the cap is accepted")
}

// grantDeployments lets user verb FlinkDeployments in ns, with a Role
// written directly (kubectl create role would need the operator's CRDs).
func (s *tenants) grantDeployments(t *testing.T, ns, user string, verbs ...string) {
	t.Helper()
	ctx := context.Background()
	name := user + "-flinkdeployments"
	require.NoError(t, s.admin.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"flink.apache.org"}, Resources: []string{"flinkdeployments"}, Verbs: verbs}}}))
	require.NoError(t, s.admin.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}}))
	waitFor(t, 10*time.Second, func() bool {
		return s.mayDeployments(t, user, verbs[0], ns, "")
	}, fmt.Sprintf("%s may %s flinkdeployments in %s", user, verbs[0], ns))
}

// mayDeployments asks the API server whether user may verb the
// FlinkDeployment ns/name (any, when name is empty).
func (s *tenants) mayDeployments(t *testing.T, user, verb, ns, name string) bool {
	t.Helper()
	review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: user, Groups: []string{"system:authenticated"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: verb, Group: "flink.apache.org", Resource: "flinkdeployments", Name: name},
	}}
	require.NoError(t, s.admin.Create(context.Background(), review))
	return review.Status.Allowed
}

// requireUntouched: team-a's savepoints and detached savepoint are as
// team-a left them, and no DetachedSavepoint of the cluster names team-a's
// savepoints but team-a's own detach.
func (s *tenants) requireUntouched(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	got := &cmfv1.Savepoint{}
	require.NoError(t, s.admin.Get(ctx, client.ObjectKeyFromObject(s.journey.nightly), got))
	assert.Equal(t, s.journey.nightly.UID, got.UID)
	assert.Empty(t, got.Annotations)
	assert.Nil(t, got.DeletionTimestamp)
	var all cmfv1.DetachedSavepointList
	require.NoError(t, s.admin.List(ctx, &all))
	for _, dsp := range all.Items {
		if src := dsp.Spec.Source; src != nil && src.Namespace == teamA {
			assert.Equal(t, "team-a/golden", dsp.Namespace+"/"+dsp.Name, "only team-a detaches team-a's savepoints")
		}
	}
}

// completed creates, as c, a Savepoint of the application (or, with no
// application, of the Statement "views") and writes the status the
// controller would once Flink completed it.
func (s *tenants) completed(t *testing.T, c client.Client, ns, name, application, path string) *cmfv1.Savepoint {
	t.Helper()
	ctx := context.Background()
	sp := &cmfv1.Savepoint{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: cmfv1.SavepointSpec{Application: application}}
	if application == "" {
		sp.Spec.Statement = "views"
	}
	require.NoError(t, c.Create(ctx, sp))
	sp.Status = cmfv1.SavepointStatus{State: cmfv1.StateCompleted, Path: path, Origin: cmfv1.OriginManual, ResultTimestamp: &metav1.Time{Time: time.Now()}}
	require.NoError(t, s.admin.Status().Update(ctx, sp))
	return sp
}

func (s *tenants) allowed(t *testing.T, user, verb, resource, ns string) bool {
	t.Helper()
	review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: user, Groups: []string{"system:authenticated"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: verb, Group: cmfv1.GroupVersion.Group, Resource: resource},
	}}
	require.NoError(t, s.admin.Create(context.Background(), review))
	return review.Status.Allowed
}

// waitAllowed waits until the authorizer has seen a new binding.
func (s *tenants) waitAllowed(t *testing.T, user, verb, resource, ns, name string) {
	t.Helper()
	waitFor(t, 10*time.Second, func() bool {
		review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: user, Groups: []string{"system:authenticated"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: verb, Group: cmfv1.GroupVersion.Group, Resource: resource, Name: name},
		}}
		require.NoError(t, s.admin.Create(context.Background(), review))
		return review.Status.Allowed
	}, fmt.Sprintf("%s may %s %s in %s", user, verb, resource, ns))
}
