package controller_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/kubectl-savepoint/kubectl-savepoint/controller"
	"github.com/kubectl-savepoint/kubectl-savepoint/e2e/controlplane"
	"github.com/kubectl-savepoint/kubectl-savepoint/rules"
	"github.com/kubectl-savepoint/kubectl-savepoint/webhook"
)

// startWebhookPlane starts a control plane whose webhook is served by a
// manager of its own, up for the whole test: tests crash and restart the
// controllers, never admission.
func startWebhookPlane(t *testing.T, opts controlplane.Options) *controlplane.Env {
	t.Helper()
	env := controlplane.Start(t, opts)
	require.NoError(t, env.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "savepoint-system"}}))
	_, _ = env.StartManager(t, func(ctx context.Context, mgr ctrl.Manager) error {
		if err := rules.AddIndexes(ctx, mgr.GetFieldIndexer()); err != nil {
			return err
		}
		return webhook.Setup(ctx, mgr, webhook.Options{ClaimNamespace: "savepoint-system"})
	})
	return env
}

// startControllers runs the controllers in a manager of their own and
// returns a function that stops it, as a crash would.
func startControllers(t testing.TB, env *controlplane.Env, opts controller.Options) func() {
	t.Helper()
	_, stop := env.StartManager(t, func(ctx context.Context, mgr ctrl.Manager) error {
		if err := rules.AddIndexes(ctx, mgr.GetFieldIndexer()); err != nil {
			return err
		}
		return controller.Setup(mgr, opts)
	}, controlplane.WithoutWebhook)
	return stop
}
