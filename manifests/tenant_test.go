package manifests

import (
	"context"
	"fmt"
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
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/manager"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
)

// TestTenantDetach runs the webhook and the controllers with only the
// manager's rendered RBAC, and proves that what once made the manager
// remove another namespace's Savepoint as "detached" leaves team-a's
// savepoint in place: team-b's owner (every right in team-b, none in
// team-a) imports a path and patches a source onto it, or creates a
// detach of team-a's savepoint into team-b; both are refused, and team-a's
// own detach, which the manager completes, still works. No Flink is
// needed: the savepoints are adopted (COMPLETED from the start), and a
// detach never disposes.
func TestTenantDetach(t *testing.T) {
	env := controlplane.Start(t, controlplane.Options{Webhooks: true})
	ctx := context.Background()
	for _, ns := range []string{managerNamespace, "team-a", "team-b"} {
		require.NoError(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	}
	_, errOut, err := env.RunKubectl(ctx, "apply", "-n", managerNamespace, "-k", "rbac")
	require.NoError(t, err, errOut)
	env.WaitForAggregation(t)

	sa := env.ManagerConfig(managerNamespace)
	_, _ = env.StartManagerAs(t, sa, func(ctx context.Context, mgr ctrl.Manager) error {
		return manager.Setup(ctx, mgr, manager.Config{
			Namespace: managerNamespace, ServiceAccount: "savepoint-manager",
			Controllers: controller.Options{SkipNameValidation: true},
		})
	})
	manager, err := client.New(sa, client.Options{Scheme: env.Scheme})
	require.NoError(t, err)
	// team-a's application runs through the Flink Kubernetes Operator:
	// writing it needs the right to write its FlinkDeployment.
	require.NoError(t, env.Client.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "flinkdeployments"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"flink.apache.org"}, Resources: []string{"flinkdeployments"}, Verbs: []string{"create", "update"}}}}))
	_, errOut, err = env.RunKubectl(ctx, "create", "rolebinding", "team-a-admin-flinkdeployments", "-n", "team-a", "--role", "flinkdeployments", "--user", "team-a-admin")
	require.NoError(t, err, errOut)
	teamA := tenant(t, env, "team-a", "team-a-admin", "admin", "savepoint-detached-editor")
	env.WaitAllowed(t, "team-a-admin", authorizationv1.ResourceAttributes{Namespace: "team-a", Verb: "create", Group: "flink.apache.org", Resource: "flinkdeployments"})
	owner := tenant(t, env, "team-b", "team-b-owner", "cluster-admin")

	require.NoError(t, teamA.Create(ctx, &cmfv1.FlinkApplication{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "orders"},
		Spec: cmfv1.FlinkApplicationSpec{Job: &cmfv1.JobSpec{JarURI: "local:///opt/flink/job.jar"}}}))
	adopt := func(name string) *cmfv1.Savepoint {
		sp := &cmfv1.Savepoint{
			ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: name, Annotations: map[string]string{cmfv1.AdoptedPathAnnotation: "s3://flink/team-a/savepoint-" + name}},
			Spec:       cmfv1.SavepointSpec{Application: "orders"},
		}
		require.NoError(t, manager.Create(ctx, sp))
		require.Eventually(t, func() bool {
			return env.Client.Get(ctx, client.ObjectKeyFromObject(sp), sp) == nil && sp.Status.State == cmfv1.StateCompleted
		}, 30*time.Second, 20*time.Millisecond, "savepoint %s adopted: %+v", name, sp.Status)
		return sp
	}
	nightly, weekly := adopt("nightly"), adopt("weekly")

	imported := &cmfv1.DetachedSavepoint{ObjectMeta: metav1.ObjectMeta{Namespace: "team-b", Name: "x"}, Spec: cmfv1.DetachedSavepointSpec{Path: "s3://b/any"}}
	require.NoError(t, owner.Create(ctx, imported), "kubectl savepoint import x --path s3://b/any")
	addSource := fmt.Sprintf(`{"spec":{"source":{"namespace":"team-a","application":"orders","savepointName":"nightly","uid":%q}}}`, nightly.UID)
	// Not require: were an attack admitted, the checks below show its effect.
	err = owner.Patch(ctx, imported, client.RawPatch(types.MergePatchType, []byte(addSource)))
	assert.ErrorContains(t, err, "spec.source cannot be added, removed or changed after creation")
	err = owner.Create(ctx, &cmfv1.DetachedSavepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-b", Name: "stolen"},
		Spec: cmfv1.DetachedSavepointSpec{Path: nightly.Status.Path, Source: &cmfv1.DetachedSavepointSource{
			Namespace: "team-a", Application: "orders", SavepointName: "nightly", UID: string(nightly.UID),
		}},
	})
	assert.ErrorContains(t, err, `user "team-b-owner" may not update FlinkApplication orders in namespace team-a`)

	// team-a's own detach, after the attacks: once the manager has
	// completed it, it has seen everything before it.
	require.NoError(t, teamA.Create(ctx, &cmfv1.DetachedSavepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "weekly"},
		Spec: cmfv1.DetachedSavepointSpec{Path: weekly.Status.Path, Source: &cmfv1.DetachedSavepointSource{
			Namespace: "team-a", Application: "orders", SavepointName: "weekly", UID: string(weekly.UID),
		}},
	}))
	require.Eventually(t, func() bool {
		return apierrors.IsNotFound(env.Client.Get(ctx, client.ObjectKeyFromObject(weekly), &cmfv1.Savepoint{}))
	}, 30*time.Second, 20*time.Millisecond, "the manager completes team-a's detach")

	got := &cmfv1.Savepoint{}
	require.NoError(t, env.Client.Get(ctx, client.ObjectKeyFromObject(nightly), got), "team-a's savepoint is still there")
	assert.Equal(t, nightly.UID, got.UID)
	assert.Nil(t, got.DeletionTimestamp)
	assert.NotContains(t, got.Annotations, cmfv1.DetachedAsAnnotation)
	assert.Equal(t, cmfv1.StateCompleted, got.Status.State)
}

// tenant binds user in ns only to clusterRoles (with kubectl create
// rolebinding, as the README says) and returns a client acting as them.
func tenant(t *testing.T, env *controlplane.Env, ns, user string, clusterRoles ...string) client.Client {
	t.Helper()
	env.BindInNamespace(t, ns, user, clusterRoles, "create", cmfv1.GroupVersion.Group, "detachedsavepoints")
	return env.ClientAs(t, user)
}
