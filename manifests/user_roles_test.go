package manifests

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
)

// grants are the verbs a role allows (in allVerbs's order), by resource of
// cmf.confluent.io (subresources as "savepoints/status").
type grants map[string][]string

var (
	allVerbs      = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
	read          = []string{"get", "list", "watch"}
	write         = []string{"get", "list", "watch", "create", "update", "patch", "delete"}
	detachedVerbs = []string{"get", "list", "watch", "create", "delete"}
)

// TestUserRoles proves the README's table of user roles through the real
// ClusterRole aggregation: users bound in one namespace (with kubectl
// create rolebinding) to view, edit, admin, to the roles aggregated into
// them, and to the roles bound explicitly (savepoint-admin,
// savepoint-detached-editor) may do exactly what the table says on every
// resource the API server serves in cmf.confluent.io, and nothing in
// another namespace.
func TestUserRoles(t *testing.T) {
	env := controlplane.Start(t, controlplane.Options{})
	ctx := context.Background()
	require.NoError(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: managerNamespace}}))
	_, errOut, err := env.RunKubectl(ctx, "apply", "-n", managerNamespace, "-k", "rbac")
	require.NoError(t, err, errOut)
	env.WaitForAggregation(t)

	viewer := grants{"savepoints": read, "savepointpolicies": read, "flinkapplications": read, "statements": read, "computepools": read}
	editor := grants{"savepoints": write, "savepointpolicies": write, "flinkapplications": write, "statements": write, "computepools": read}
	poolAdmin := grants{"savepoints": write, "savepointpolicies": write, "flinkapplications": write, "statements": write, "computepools": write}
	ns, other := env.Namespace(t), env.Namespace(t)
	resources := servedResources(t, env)
	for _, tc := range []struct {
		clusterRole string
		want        grants
	}{
		{clusterRole: "view", want: viewer},
		{clusterRole: "edit", want: editor},
		// A namespace's admin chooses no Flink cluster: ComputePools come
		// with savepoint-admin, bound explicitly.
		{clusterRole: "admin", want: editor},
		{clusterRole: "savepoint-viewer", want: viewer},
		{clusterRole: "savepoint-editor", want: editor},
		{clusterRole: "savepoint-admin", want: poolAdmin},
		{clusterRole: "savepoint-detached-editor", want: grants{"detachedsavepoints": detachedVerbs}},
	} {
		t.Run(tc.clusterRole, func(t *testing.T) {
			user := "user-of-" + tc.clusterRole
			_, errOut, err := env.RunKubectl(ctx, "create", "rolebinding", user, "-n", ns, "--clusterrole", tc.clusterRole, "--user", user)
			require.NoError(t, err, errOut)

			assert.Equal(t, tc.want, allowedVerbs(ctx, t, env, user, ns, resources), "in the bound namespace")
			assert.Empty(t, allowedVerbs(ctx, t, env, user, other, resources), "in another namespace")
		})
	}
}

// servedResources are the resources and subresources the API server serves
// in cmf.confluent.io/v1, so a kind added later is checked too.
func servedResources(t *testing.T, env *controlplane.Env) []string {
	t.Helper()
	dc, err := discovery.NewDiscoveryClientForConfig(env.Config)
	require.NoError(t, err)
	list, err := dc.ServerResourcesForGroupVersion(cmfv1.GroupVersion.String())
	require.NoError(t, err)
	var names []string
	for _, r := range list.APIResources {
		names = append(names, r.Name)
	}
	require.Contains(t, names, "savepoints/status")
	return names
}

// allowedVerbs asks the API server, one SubjectAccessReview per resource and
// verb, what user may do in namespace.
func allowedVerbs(ctx context.Context, t *testing.T, env *controlplane.Env, user, namespace string, resources []string) grants {
	t.Helper()
	got := grants{}
	for _, resource := range resources {
		name, subresource, _ := strings.Cut(resource, "/")
		for _, verb := range allVerbs {
			review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
				User: user, Groups: []string{"system:authenticated"},
				ResourceAttributes: &authorizationv1.ResourceAttributes{
					Namespace: namespace, Verb: verb, Group: cmfv1.GroupVersion.Group, Version: cmfv1.GroupVersion.Version,
					Resource: name, Subresource: subresource,
				},
			}}
			require.NoError(t, env.Client.Create(ctx, review))
			if review.Status.Allowed {
				got[resource] = append(got[resource], verb)
			}
		}
	}
	return got
}

// TestUserRolesUpgrade: a cluster that applied the roles of a release in
// which savepoint-admin was aggregated into admin (so every namespace admin
// wrote ComputePools) loses that with `kubectl apply -k` of these: apply
// removes the label it had set, and kube-controller-manager takes the
// rules out of admin again.
func TestUserRolesUpgrade(t *testing.T) {
	env := controlplane.Start(t, controlplane.Options{})
	ctx := context.Background()
	require.NoError(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: managerNamespace}}))
	_, errOut, err := env.RunKubectlStdin(ctx, aggregatedSavepointAdmin, "apply", "-f", "-")
	require.NoError(t, err, errOut)
	ns := env.Namespace(t)
	_, errOut, err = env.RunKubectl(ctx, "create", "rolebinding", "team-admin", "-n", ns, "--clusterrole", "admin", "--user", "team-admin")
	require.NoError(t, err, errOut)
	mayCreatePool := func() bool {
		review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: "team-admin", Groups: []string{"system:authenticated"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: "create", Group: cmfv1.GroupVersion.Group, Resource: "computepools"},
		}}
		require.NoError(t, env.Client.Create(ctx, review))
		return review.Status.Allowed
	}
	require.Eventually(t, mayCreatePool, 30*time.Second, 50*time.Millisecond, "the old release: admin writes ComputePools")

	_, errOut, err = env.RunKubectl(ctx, "apply", "-n", managerNamespace, "-k", "rbac")
	require.NoError(t, err, errOut)
	role := &rbacv1.ClusterRole{}
	require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Name: "savepoint-admin"}, role))
	assert.NotContains(t, role.Labels, "rbac.authorization.k8s.io/aggregate-to-admin", "apply removed the label it had set")
	require.Eventually(t, func() bool { return !mayCreatePool() }, 30*time.Second, 50*time.Millisecond, "admin no longer writes ComputePools")
}

// aggregatedSavepointAdmin is savepoint-admin as releases before the
// trust model shipped it.
const aggregatedSavepointAdmin = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: savepoint-admin
  labels:
    rbac.authorization.k8s.io/aggregate-to-admin: "true"
rules:
- apiGroups: [cmf.confluent.io]
  resources: [savepoints, flinkapplications, statements, computepools]
  verbs: [get, list, watch, create, update, patch, delete]
`
