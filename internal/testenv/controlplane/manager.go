package controlplane

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
)

// StartManager runs a controller-runtime manager against the control plane
// for t, serving the webhook where the control plane's webhook
// configurations point (Options.Webhooks), with setup adding the handlers
// and controllers under test; change adjusts the manager's options (leader
// election, another webhook port). It returns once the webhook answers TLS and
// the cache has synced, with a function that stops the manager (as a crash
// would, mid-work); the manager is stopped when t ends in any case.
func (e *Env) StartManager(t testing.TB, setup func(ctx context.Context, mgr ctrl.Manager) error, change ...func(*ctrl.Options)) (ctrl.Manager, func()) {
	t.Helper()
	return e.StartManagerAs(t, e.Config, setup, change...)
}

// StartManagerAs is StartManager with the manager reaching the API server
// through config (e.g. impersonating the manager's service account, to prove
// its RBAC).
func (e *Env) StartManagerAs(t testing.TB, config *rest.Config, setup func(ctx context.Context, mgr ctrl.Manager) error, change ...func(*ctrl.Options)) (ctrl.Manager, func()) {
	t.Helper()
	var wh envtest.WebhookInstallOptions
	if e.Env != nil { // nil when connected to another process's control plane
		wh = e.Env.WebhookInstallOptions
	}
	options := ctrl.Options{
		Scheme:         e.Scheme,
		Metrics:        metricsserver.Options{BindAddress: "0"},
		LeaderElection: false,
	}
	if e.webhooks {
		options.WebhookServer = webhook.NewServer(webhook.Options{
			Host: wh.LocalServingHost, Port: wh.LocalServingPort, CertDir: wh.LocalServingCertDir,
		})
	}
	for _, c := range change {
		c(&options)
	}
	mgr, err := ctrl.NewManager(config, options)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, setup(ctx, mgr))
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Logf("manager stopped: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Logf("manager did not stop within 30s")
			}
		})
	}
	t.Cleanup(stop)

	require.True(t, mgr.GetCache().WaitForCacheSync(ctx), "cache sync")
	if options.WebhookServer != nil {
		started := mgr.GetWebhookServer().StartedChecker()
		err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
			return started(nil) == nil, nil
		})
		require.NoError(t, err, "webhook server")
	}
	return mgr, stop
}

// WithoutWebhook is a StartManager change for a manager that serves no
// webhook (e.g. controllers beside a webhook manager of their own).
func WithoutWebhook(o *ctrl.Options) { o.WebhookServer = nil }
