package controlplane_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
)

// TestControllerManager: what kube-controller-manager does beside the API
// server happens for real, so tests can rely on it.
func TestControllerManager(t *testing.T) {
	env := controlplane.Start(t, controlplane.Options{})
	ctx := context.Background()

	t.Run("namespace deletion", func(t *testing.T) {
		ns := env.Namespace(t)
		objects := []client.Object{
			&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "settings"}},
			&cmfv1.ComputePool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pool"}, Spec: cmfv1.ComputePoolSpec{RestURL: "http://flink.example:8081"}},
		}
		for _, obj := range objects {
			require.NoError(t, env.Client.Create(ctx, obj))
		}

		// kubectl waits until the namespace is gone, i.e. the namespace
		// controller deleted its contents and removed its finalizer.
		_, errOut, err := env.RunKubectl(ctx, "delete", "namespace", ns, "--timeout=60s")
		require.NoError(t, err, errOut)
		assert.True(t, apierrors.IsNotFound(env.Client.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{})), "namespace %s", ns)
		for _, obj := range objects {
			err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)
			assert.True(t, apierrors.IsNotFound(err), "%T %s: %v", obj, obj.GetName(), err)
		}
	})

	t.Run("garbage collection", func(t *testing.T) {
		ns := env.Namespace(t)
		for _, tc := range []struct {
			name  string
			owner client.Object
			// deleteFirst deletes the owner before its dependent is created.
			deleteFirst bool
		}{
			{name: "owner ConfigMap deleted", owner: &corev1.ConfigMap{}},
			{name: "owner ComputePool deleted", owner: &cmfv1.ComputePool{Spec: cmfv1.ComputePoolSpec{RestURL: "http://flink.example:8081"}}},
			{name: "owner gone before the dependent was created", owner: &corev1.ConfigMap{}, deleteFirst: true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				owner := tc.owner
				owner.SetNamespace(ns)
				owner.SetGenerateName("owner-")
				require.NoError(t, env.Client.Create(ctx, owner))
				gvk, err := env.Client.GroupVersionKindFor(owner)
				require.NoError(t, err)
				if tc.deleteFirst {
					require.NoError(t, env.Client.Delete(ctx, owner))
				}
				dependent := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
					Namespace: ns, GenerateName: "dependent-",
					OwnerReferences: []metav1.OwnerReference{{
						APIVersion: gvk.GroupVersion().String(), Kind: gvk.Kind, Name: owner.GetName(), UID: owner.GetUID(),
					}},
				}}
				require.NoError(t, env.Client.Create(ctx, dependent))
				if !tc.deleteFirst {
					require.NoError(t, env.Client.Delete(ctx, owner))
				}

				require.Eventually(t, func() bool {
					return apierrors.IsNotFound(env.Client.Get(ctx, client.ObjectKeyFromObject(dependent), &corev1.ConfigMap{}))
				}, 30*time.Second, 20*time.Millisecond, "the garbage collector deletes %s", dependent.Name)
			})
		}
	})

	t.Run("cluster role aggregation", func(t *testing.T) {
		ns := env.Namespace(t)
		require.NoError(t, env.Client.Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "alice-admin"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "admin"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "alice"}},
		}))
		widgets := &authorizationv1.ResourceAttributes{Namespace: ns, Verb: "create", Group: "example.com", Resource: "widgets"}
		assert.False(t, allowed(ctx, t, env, "alice", widgets), "nothing grants widgets yet")

		// Labelled for edit, which is itself aggregated into admin.
		role := &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "widget-editor-", Labels: map[string]string{"rbac.authorization.k8s.io/aggregate-to-edit": "true"}},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"example.com"}, Resources: []string{"widgets"}, Verbs: []string{"create"}}},
		}
		require.NoError(t, env.Client.Create(ctx, role))
		env.WaitForAggregation(t)
		assert.True(t, allowed(ctx, t, env, "alice", widgets), "admin aggregates edit, which aggregates %s", role.Name)

		require.NoError(t, env.Client.Delete(ctx, role))
		env.WaitForAggregation(t)
		assert.False(t, allowed(ctx, t, env, "alice", widgets), "the rule leaves admin with its role")
	})
}

// allowed asks the API server whether user may do what attributes say.
func allowed(ctx context.Context, t *testing.T, env *controlplane.Env, user string, attributes *authorizationv1.ResourceAttributes) bool {
	t.Helper()
	review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: user, Groups: []string{"system:authenticated"}, ResourceAttributes: attributes,
	}}
	require.NoError(t, env.Client.Create(ctx, review))
	return review.Status.Allowed
}
