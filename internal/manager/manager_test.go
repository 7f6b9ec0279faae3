package manager_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	ctrlwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/egress"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/manager"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/version"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/webhook"
)

const namespace = "savepoint-system"

// TestSetup runs Setup as cmd/savepoint-manager does by default, with its
// own certificates, under only the rights of manifests/rbac: the manager is
// ready once the API server trusts the certificate the webhook serves, the
// webhook answers admission, and the elected manager publishes its version.
func TestSetup(t *testing.T) {
	// The manager's certificate names DNS names only: the API server
	// reaches the webhook at https://localhost:<port>.
	// The webhook configurations under their shipped names: the role
	// names the ones the rotation may write.
	env := controlplane.Start(t, controlplane.Options{Webhooks: true, ShippedWebhooks: true, WebhookHost: "localhost"})
	ctx := context.Background()
	started := time.Date(2026, 11, 25, 7, 54, 30, 0, time.UTC)
	probes := runManager(t, env, nil, func() time.Time { return started })

	require.Eventually(t, func() bool { return probe(probes, "/readyz") == http.StatusOK }, time.Minute, 20*time.Millisecond, "ready")
	// Ready means the webhook serves the Secret's certificate, which every
	// caBundle trusts.
	secret := &corev1.Secret{}
	require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "savepoint-manager-webhook-cert"}, secret))
	mutating := &admissionregistrationv1.MutatingWebhookConfiguration{}
	require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Name: controlplane.MutatingWebhookConfiguration}, mutating))
	validating := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Name: controlplane.ValidatingWebhookConfiguration}, validating))
	bundles := []admissionregistrationv1.WebhookClientConfig{}
	for _, w := range mutating.Webhooks {
		bundles = append(bundles, w.ClientConfig)
	}
	for _, w := range validating.Webhooks {
		bundles = append(bundles, w.ClientConfig)
	}
	for _, cc := range bundles {
		assert.Equal(t, string(secret.Data["ca.crt"]), string(cc.CABundle), "caBundle of %s", *cc.URL)
	}
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(secret.Data["ca.crt"]))
	wh := env.Env.WebhookInstallOptions
	conn, err := tls.Dial("tcp", net.JoinHostPort(wh.LocalServingHost, strconv.Itoa(wh.LocalServingPort)),
		&tls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS12})
	require.NoError(t, err, "the webhook serves a certificate the caBundle trusts")
	_ = conn.Close()
	assert.Equal(t, http.StatusOK, probe(probes, "/healthz"))

	// Only the webhook words this denial: the API server reached it.
	ns := env.Namespace(t)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		ghost := &cmfv1.Savepoint{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "probe"}, Spec: cmfv1.SavepointSpec{Application: "ghost"}}
		err := env.Client.Create(ctx, ghost, client.DryRunAll)
		if assert.Error(c, err) {
			assert.Contains(c, err.Error(), `spec.application "ghost" does not exist in namespace `+ns)
		}
	}, 30*time.Second, 50*time.Millisecond, "admission answered by the webhook")

	want := version.Published{Info: version.Get(), StartTime: started}.Data()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		cm := &corev1.ConfigMap{}
		if assert.NoError(c, env.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: version.ConfigMapName}, cm)) {
			assert.Equal(c, want, cm.Data)
		}
	}, 30*time.Second, 50*time.Millisecond, "the elected manager publishes its version")
}

// runManager runs Setup as cmd/savepoint-manager does by default: in
// namespace, as its ServiceAccount under only the rights of manifests/rbac,
// with its own certificates and leader election; tlsOpts configure the
// webhook server's TLS. It returns the probes' address.
func runManager(t *testing.T, env *controlplane.Env, tlsOpts []func(*tls.Config), now func() time.Time) string {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}))
	_, errOut, err := env.RunKubectl(ctx, "apply", "-n", namespace, "-k", filepath.Join(controlplane.RepoRoot(t), "manifests", "rbac"))
	require.NoError(t, err, errOut)
	sa := rest.CopyConfig(env.Config)
	sa.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + namespace + ":savepoint-manager",
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"},
	}

	probes := freeAddress(t)
	certDir := t.TempDir()
	wh := env.Env.WebhookInstallOptions
	mgr, err := ctrl.NewManager(sa, ctrl.Options{
		Scheme:                        env.Scheme,
		Metrics:                       metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress:        probes,
		WebhookServer:                 ctrlwebhook.NewServer(ctrlwebhook.Options{Host: wh.LocalServingHost, Port: wh.LocalServingPort, CertDir: certDir, TLSOpts: tlsOpts}),
		LeaderElection:                true,
		LeaderElectionID:              manager.LeaderElectionID,
		LeaderElectionNamespace:       namespace,
		LeaderElectionReleaseOnCancel: true,
	})
	require.NoError(t, err)
	runCtx, stop := context.WithCancel(ctx)
	require.NoError(t, manager.Setup(runCtx, mgr, manager.Config{
		Namespace:      namespace,
		ServiceAccount: "savepoint-manager",
		// A second run in one process (go test -count) sets them up again.
		Controllers: controller.Options{SkipNameValidation: true, Endpoints: egress.LocalOnly(), AllowRestURLAnnotation: true},
		CertRotation: &webhook.CertOptions{
			SecretName: "savepoint-manager-webhook-cert", ServiceName: "savepoint-manager-webhook", CertDir: certDir,
			ExtraDNSNames:  []string{"localhost"},
			MutatingConfig: controlplane.MutatingWebhookConfiguration, ValidatingConfig: controlplane.ValidatingWebhookConfiguration,
		},
		Now: now,
	}))
	done := make(chan error, 1)
	go func() { done <- mgr.Start(runCtx) }()
	t.Cleanup(func() {
		stop()
		assert.NoError(t, <-done)
	})
	return probes
}

// freeAddress returns a 127.0.0.1 address no one listens on.
func freeAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}

// probe returns the status of a GET of path on the probes' address, 0 if
// none answers.
func probe(address, path string) int {
	resp, err := http.Get("http://" + address + path)
	if err != nil {
		return 0
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}
