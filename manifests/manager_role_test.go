package manifests

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
)

// The objects the manager's role names (the defaults of its flags).
const (
	ownMutating   = "savepoint-manager-mutating"
	ownValidating = "savepoint-manager-validating"
	ownCertSecret = "savepoint-manager-webhook-cert"
)

// TestManagerRoleNamesItsObjects: acting as the manager's ServiceAccount
// with only the rendered role, the manager reads and writes its own webhook
// configurations and certificate Secret, as its certificate rotation does
// (by name, and watching with a metadata.name field selector), and may
// neither read nor change another webhook configuration or Secret: a
// manager taken over cannot turn another admission webhook off or read
// the other Secrets of its namespace. internal/manager's TestSetup runs the
// rotation itself under the same role.
func TestManagerRoleNamesItsObjects(t *testing.T) {
	env := controlplane.Start(t, controlplane.Options{})
	ctx := context.Background()
	require.NoError(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: managerNamespace}}))
	_, errOut, err := env.RunKubectl(ctx, "apply", "-n", managerNamespace, "-k", "rbac")
	require.NoError(t, err, errOut)

	// Configurations without webhooks: nothing is intercepted.
	for _, name := range []string{ownMutating, "another-mutating"} {
		require.NoError(t, env.Client.Create(ctx, &admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: name}}))
	}
	for _, name := range []string{ownValidating, "another-validating"} {
		require.NoError(t, env.Client.Create(ctx, &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: name}}))
	}
	for _, name := range []string{ownCertSecret, "another-secret"} {
		require.NoError(t, env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: managerNamespace, Name: name}}))
	}
	manager, err := client.New(env.ManagerConfig(managerNamespace), client.Options{Scheme: env.Scheme})
	require.NoError(t, err)

	mutating := func(name string) client.Object {
		return &admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: name}}
	}
	validating := func(name string) client.Object {
		return &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: name}}
	}
	secret := func(name string) client.Object {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: managerNamespace, Name: name}}
	}
	label := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"touched-by":"savepoint-manager"}}}`))
	patch := func(obj client.Object) error { return manager.Patch(ctx, obj, label) }
	get := func(obj client.Object) error { return manager.Get(ctx, client.ObjectKeyFromObject(obj), obj) }
	update := func(obj client.Object) error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		obj.SetAnnotations(map[string]string{"touched-by": "savepoint-manager"})
		return manager.Update(ctx, obj)
	}
	del := func(obj client.Object) error { return manager.Delete(ctx, obj, client.DryRunAll) }
	for _, tc := range []struct {
		name    string
		do      func(client.Object) error
		obj     client.Object
		allowed bool
	}{
		{"patch its own mutating configuration", patch, mutating(ownMutating), true},
		{"patch its own validating configuration", patch, validating(ownValidating), true},
		{"update its own validating configuration", update, validating(ownValidating), true},
		{"get its own mutating configuration", get, mutating(ownMutating), true},
		{"patch another mutating configuration", patch, mutating("another-mutating"), false},
		{"patch another validating configuration", patch, validating("another-validating"), false},
		{"update another validating configuration", update, validating("another-validating"), false},
		{"get another mutating configuration", get, mutating("another-mutating"), false},
		{"delete its own validating configuration", del, validating(ownValidating), false},
		{"get its own certificate Secret", get, secret(ownCertSecret), true},
		{"patch its own certificate Secret", patch, secret(ownCertSecret), true},
		{"get another Secret of its namespace", get, secret("another-secret"), false},
		{"patch another Secret of its namespace", patch, secret("another-secret"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do(tc.obj)
			if tc.allowed {
				assert.NoError(t, err)
			} else {
				assert.True(t, apierrors.IsForbidden(err), "forbidden, not %v", err)
			}
		})
	}

	// The watches of the rotation list by name; a list of all is refused.
	for _, tc := range []struct {
		name string
		list client.ObjectList
		opts []client.ListOption
	}{
		{"mutating configurations", &admissionregistrationv1.MutatingWebhookConfigurationList{}, nil},
		{"validating configurations", &admissionregistrationv1.ValidatingWebhookConfigurationList{}, nil},
		{"Secrets", &corev1.SecretList{}, []client.ListOption{client.InNamespace(managerNamespace)}},
	} {
		t.Run("list "+tc.name, func(t *testing.T) {
			err := manager.List(ctx, tc.list, tc.opts...)
			assert.True(t, apierrors.IsForbidden(err), "a list of all is forbidden, not %v", err)
		})
	}
	for _, tc := range []struct {
		list client.ObjectList
		name string
		opts []client.ListOption
	}{
		{&admissionregistrationv1.MutatingWebhookConfigurationList{}, ownMutating, nil},
		{&admissionregistrationv1.ValidatingWebhookConfigurationList{}, ownValidating, nil},
		{&corev1.SecretList{}, ownCertSecret, []client.ListOption{client.InNamespace(managerNamespace)}},
	} {
		t.Run("list "+tc.name+" by name", func(t *testing.T) {
			opts := append(tc.opts, client.MatchingFields{"metadata.name": tc.name})
			require.NoError(t, manager.List(ctx, tc.list, opts...))
		})
	}
}
