package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/index"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/webhook"
)

// startWebhookPlane starts a control plane whose webhook is served by a
// manager of its own, up for the whole test: tests crash and restart the
// controllers, never admission.
func startWebhookPlane(t testing.TB, opts controlplane.Options) *controlplane.Env {
	t.Helper()
	env := controlplane.Start(t, opts)
	require.NoError(t, env.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "savepoint-system"}}))
	_, _ = env.StartManager(t, func(ctx context.Context, mgr ctrl.Manager) error {
		if err := index.Add(ctx, mgr.GetFieldIndexer()); err != nil {
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
		if err := index.Add(ctx, mgr.GetFieldIndexer()); err != nil {
			return err
		}
		return controller.Setup(mgr, opts)
	}, controlplane.WithoutWebhook)
	return stop
}

// waitGone waits until obj no longer exists.
func waitGone(t *testing.T, c client.Client, obj client.Object) {
	t.Helper()
	require.Eventually(t, func() bool {
		return apierrors.IsNotFound(c.Get(context.Background(), client.ObjectKeyFromObject(obj), obj.DeepCopyObject().(client.Object)))
	}, 30*time.Second, 10*time.Millisecond, "%s still exists", obj.GetName())
}

// assertNoEvent checks that no event of reason about obj was recorded.
func assertNoEvent(t *testing.T, c client.Client, obj client.Object, reason string) {
	t.Helper()
	var events eventsv1.EventList
	require.NoError(t, c.List(context.Background(), &events, client.InNamespace(obj.GetNamespace())))
	for _, e := range events.Items {
		assert.False(t, e.Regarding.UID == obj.GetUID() && e.Reason == reason, "event %s for %s: %s", reason, obj.GetName(), e.Note)
	}
}

// logEvents logs the events about obj, to explain a failure.
func logEvents(t *testing.T, c client.Client, obj client.Object) {
	t.Helper()
	time.Sleep(2 * time.Second) // events are written asynchronously; this explains a failure, it decides nothing
	var events eventsv1.EventList
	require.NoError(t, c.List(context.Background(), &events, client.InNamespace(obj.GetNamespace())))
	for _, e := range events.Items {
		if e.Regarding.UID == obj.GetUID() {
			t.Logf("event %s %s: %s", e.CreationTimestamp.Format("15:04:05"), e.Reason, e.Note)
		}
	}
}

// requireEvent waits for an event of reason about obj.
func requireEvent(t *testing.T, c client.Client, obj client.Object, reason string) {
	t.Helper()
	require.Eventually(t, func() bool {
		var events eventsv1.EventList
		if err := c.List(context.Background(), &events, client.InNamespace(obj.GetNamespace())); err != nil {
			return false
		}
		for _, e := range events.Items {
			if e.Regarding.UID == obj.GetUID() && e.Reason == reason {
				return true
			}
		}
		return false
	}, 10*time.Second, 20*time.Millisecond, "event %s for %s", reason, obj.GetName())
}

// eventsOf lists the reasons and notes of the events about obj, for messages.
func eventsOf(c client.Client, obj client.Object) string {
	var events eventsv1.EventList
	_ = c.List(context.Background(), &events, client.InNamespace(obj.GetNamespace()))
	var b strings.Builder
	for _, e := range events.Items {
		if e.Regarding.UID == obj.GetUID() {
			fmt.Fprintf(&b, "\n  %s %s: %s", e.EventTime.Format("15:04:05.000"), e.Reason, e.Note)
		}
	}
	return b.String()
}
