package webhook_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/webhook"
)

// The webhook configurations envtest installs from manifests/webhook.
const (
	mutatingConfig   = "mutating-webhook-configuration"
	validatingConfig = "validating-webhook-configuration"
)

// certHarness is a control plane whose webhook configurations reach the
// manager at https://localhost:<port>: the serving certificate names DNS
// names only, and envtest's URLs name 127.0.0.1, which no such certificate
// covers.
type certHarness struct {
	env  *controlplane.Env
	addr string // host:port the manager serves the webhook on
	// ns is where the admission probes are sent; it also names the
	// Secrets, so that each run (go test -count) starts without one.
	ns string
}

// TestCertRotation: the manager makes its own CA and serving certificate
// (as cmd/savepoint-manager does with --cert-rotation), the API server
// trusts them through the injected caBundle, and admission keeps answering,
// without a single failure, while they are renewed again and again.
func TestCertRotation(t *testing.T) {
	env := controlplane.Start(t, controlplane.Options{Webhooks: true})
	ctx := context.Background()
	require.NoError(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: claimNamespace}}))
	h := &certHarness{env: env, ns: env.Namespace(t)}
	h.addr = h.pointWebhooksAtLocalhost(t)

	t.Run("bootstrap: the Secret is filled, caBundle injected, the webhook answers over TLS", h.testBootstrap)

	tests := []struct {
		name string
		opts webhook.CertOptions
		// renewals is how many times the serving certificate, and with
		// caRenewed the CA (and so the caBundle) too, is renewed.
		renewals  int
		caRenewed bool
		// replicas besides the one serving share the Secret: they race
		// it for every renewal and write their own cert folder.
		replicas int
	}{
		{
			name:     "the serving certificate is renewed before it expires",
			opts:     webhook.CertOptions{CertDuration: 6 * time.Second, RenewBefore: 4 * time.Second, CheckInterval: 250 * time.Millisecond},
			renewals: 3,
		},
		{
			name:     "the CA is renewed before it expires, four times in a row, by two replicas",
			opts:     webhook.CertOptions{CADuration: 6 * time.Second, RenewBefore: 4 * time.Second, CheckInterval: 250 * time.Millisecond},
			renewals: 4, caRenewed: true, replicas: 1,
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.SecretName = h.ns + "-rotation-" + strconv.Itoa(i)
			h.testRotation(t, tt.opts, tt.renewals, tt.caRenewed, tt.replicas)
		})
	}
}

func (h *certHarness) testBootstrap(t *testing.T) {
	ctx := context.Background()
	opts := webhook.CertOptions{SecretName: h.ns + "-bootstrap"}
	err := h.env.Client.Get(ctx, types.NamespacedName{Namespace: claimNamespace, Name: opts.SecretName}, &corev1.Secret{})
	require.True(t, apierrors.IsNotFound(err), "the manager makes the Secret: %v", err)
	stop := h.startManager(t, &opts)
	defer stop()

	secret := h.secret(t, opts.SecretName)
	for _, key := range []string{"ca.crt", "ca.key", "tls.crt", "tls.key"} {
		assert.NotEmpty(t, secret.Data[key], "Secret %s has %s", opts.SecretName, key)
	}
	serving := parseCert(t, secret.Data["tls.crt"])
	assert.ElementsMatch(t, []string{
		"savepoint-manager-webhook.savepoint-system.svc", "savepoint-manager-webhook.savepoint-system.svc.cluster.local", "localhost",
	}, serving.DNSNames)
	assert.WithinDuration(t, time.Now().Add(365*24*time.Hour), serving.NotAfter, 2*time.Hour, "default lifetime: 1 year")
	assert.WithinDuration(t, time.Now().Add(10*365*24*time.Hour), parseCert(t, secret.Data["ca.crt"]).NotAfter, 2*time.Hour, "default CA lifetime: 10 years")
	for name, bundle := range h.caBundles(t) {
		assert.Equal(t, string(secret.Data["ca.crt"]), string(bundle), "caBundle of %s", name)
	}
	served := h.servedCert(t, secret.Data["ca.crt"])
	assert.Equal(t, serving.Raw, served.Raw, "the webhook serves the Secret's certificate")

	// Only the webhook itself words this denial: the API server reached it
	// over TLS, trusting the injected CA.
	err = h.admissionProbe(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `spec.application "ghost" does not exist in namespace `+h.ns)
}

func (h *certHarness) testRotation(t *testing.T, opts webhook.CertOptions, renewals int, caRenewed bool, replicas int) {
	ctx := context.Background()
	stop := h.startManager(t, &opts)
	defer stop()
	certDirs := []string{opts.CertDir}
	for range replicas {
		certDirs = append(certDirs, h.startReplica(t, opts))
	}
	first := h.secret(t, opts.SecretName)
	firstBundles := h.caBundles(t)

	// Probe every 50 ms while the certificates turn over: admission
	// through the API server, whose connections to the webhook outlive a
	// renewal, and a new TLS connection verified with the caBundle the API
	// server holds, as its next connection would be.
	probeCtx, stopProbes := context.WithCancel(ctx)
	p := &rotationProbes{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.probe(probeCtx, p)
	}()
	seen := map[string]bool{}
	seenCAs := map[string]bool{}
	see := func(secret *corev1.Secret) {
		seen[string(secret.Data["tls.crt"])] = true
		for _, ca := range parseBundle(t, secret.Data["ca.crt"]) {
			seenCAs[string(ca.Raw)] = true
		}
	}
	see(first)
	renewed := func() bool {
		return len(seen) > renewals && (!caRenewed || len(seenCAs) > renewals)
	}
	deadline := time.Now().Add(40 * time.Second)
	for !renewed() && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		see(h.secret(t, opts.SecretName))
	}
	stopProbes()
	<-done

	t.Logf("%d serving certificates and %d CAs issued; admission: %d answered by the webhook, %d failed; new TLS connections: %d verified, %d failed",
		len(seen), len(seenCAs), p.answered, len(p.failed), p.handshakes, len(p.handshakeFailed))
	require.Greater(t, len(seen), renewals, "the serving certificate was renewed %d times", renewals)
	assert.Empty(t, p.failed, "admission requests that the webhook did not answer")
	assert.Empty(t, p.handshakeFailed, "new TLS connections the API server could not have made")
	assert.Greater(t, p.answered, 20)
	assert.Greater(t, p.handshakes, 20)

	last := h.secret(t, opts.SecretName)
	assert.NotEqual(t, first.Data["tls.crt"], last.Data["tls.crt"], "a new serving certificate")
	if caRenewed {
		assert.Greater(t, len(seenCAs), renewals, "the CA was renewed %d times", renewals)
	} else {
		assert.Equal(t, first.Data["ca.crt"], last.Data["ca.crt"], "the CA is kept")
		assert.Len(t, seenCAs, 1)
	}
	// The caBundle follows the Secret's bundle, which ends up with the
	// signing CA alone (an old one leaves once nothing it signed is
	// served), every replica's files hold the Secret's certificate, and
	// the webhook serves it, verified with that CA.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		secret := h.secret(c, opts.SecretName)
		assert.Len(c, parseBundle(c, secret.Data["ca.crt"]), 1, "CAs in the Secret's bundle")
		for name, bundle := range h.caBundles(c) {
			assert.Equal(c, string(secret.Data["ca.crt"]), string(bundle), "caBundle of %s", name)
		}
		for _, dir := range certDirs {
			files, err := os.ReadFile(filepath.Join(dir, "tls.crt"))
			if assert.NoError(c, err) {
				assert.Equal(c, string(secret.Data["tls.crt"]), string(files), "tls.crt in %s", dir)
			}
		}
		served, err := dialWebhook(h.addr, secret.Data["ca.crt"])
		if assert.NoError(c, err) {
			assert.Equal(c, parseCert(c, secret.Data["tls.crt"]).Raw, served.Raw, "the webhook serves the Secret's certificate")
		}
	}, 10*time.Second, 100*time.Millisecond)
	for name, bundle := range h.caBundles(t) {
		if caRenewed {
			assert.NotEqual(t, string(firstBundles[name]), string(bundle), "caBundle of %s changed with the CA", name)
		} else {
			assert.Equal(t, string(firstBundles[name]), string(bundle), "caBundle of %s kept with the CA", name)
		}
	}
}

// rotationProbes is what the probes saw.
type rotationProbes struct {
	answered, handshakes    int
	failed, handshakeFailed []string
}

// probe sends an admission probe and opens a new TLS connection to the
// webhook every 50 ms until ctx ends.
func (h *certHarness) probe(ctx context.Context, p *rotationProbes) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		err := h.admissionProbe(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && strings.Contains(err.Error(), `spec.application "ghost" does not exist`):
			p.answered++
		default:
			p.failed = append(p.failed, time.Now().Format("15:04:05.000")+" "+errString(err))
		}

		mutating := &admissionregistrationv1.MutatingWebhookConfiguration{}
		if err := h.env.Client.Get(ctx, types.NamespacedName{Name: mutatingConfig}, mutating); err != nil {
			continue
		}
		if _, err := dialWebhook(h.addr, mutating.Webhooks[0].ClientConfig.CABundle); err != nil {
			p.handshakeFailed = append(p.handshakeFailed, time.Now().Format("15:04:05.000")+" "+err.Error())
		} else {
			p.handshakes++
		}
	}
}

// startManager runs a manager with the webhook behind cert rotation, the
// way cmd/savepoint-manager wires it, and returns once the webhook answers.
func (h *certHarness) startManager(t *testing.T, opts *webhook.CertOptions) func() {
	t.Helper()
	opts.Namespace = claimNamespace
	opts.ServiceName = "savepoint-manager-webhook"
	opts.ExtraDNSNames = []string{"localhost"}
	opts.CertDir = t.TempDir()
	opts.MutatingConfig, opts.ValidatingConfig = mutatingConfig, validatingConfig
	wh := h.env.Env.WebhookInstallOptions
	certsReady := make(chan struct{})
	_, stop := h.env.StartManager(t, func(ctx context.Context, mgr ctrl.Manager) error {
		ready, err := webhook.AddCertRotation(ctx, mgr, *opts)
		if err != nil {
			return err
		}
		go func() {
			select {
			case <-ready:
				assert.NoError(t, webhook.Setup(ctx, mgr, webhook.Options{ClaimNamespace: claimNamespace, ManagerUser: managerUser}))
				close(certsReady)
			case <-ctx.Done():
			}
		}()
		return nil
	}, func(o *ctrl.Options) {
		o.WebhookServer = serverAfter{
			Server: ctrlwebhook.NewServer(ctrlwebhook.Options{Host: wh.LocalServingHost, Port: wh.LocalServingPort, CertDir: opts.CertDir}),
			ready:  certsReady,
		}
	})
	return stop
}

// startReplica runs another manager with the same certificate rotation
// and its own cert folder, as a second replica would, without a webhook
// server: the API server reaches only the first. It returns the folder.
func (h *certHarness) startReplica(t *testing.T, opts webhook.CertOptions) string {
	t.Helper()
	opts.CertDir = t.TempDir()
	h.env.StartManager(t, func(ctx context.Context, mgr ctrl.Manager) error {
		_, err := webhook.AddCertRotation(ctx, mgr, opts)
		return err
	}, controlplane.WithoutWebhook)
	return opts.CertDir
}

// serverAfter starts the webhook server only once its certificates exist,
// as cmd/savepoint-manager does by registering the handlers then:
// StartManager asks for the server (which starts it) before that.
type serverAfter struct {
	ctrlwebhook.Server
	ready <-chan struct{}
}

func (s serverAfter) Start(ctx context.Context) error {
	select {
	case <-s.ready:
		return s.Server.Start(ctx)
	case <-ctx.Done():
		return nil
	}
}

// pointWebhooksAtLocalhost rewrites the webhook URLs from 127.0.0.1 to
// localhost and returns the address the manager must serve on.
func (h *certHarness) pointWebhooksAtLocalhost(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	port := strconv.Itoa(h.env.Env.WebhookInstallOptions.LocalServingPort)
	toLocalhost := func(cc *admissionregistrationv1.WebhookClientConfig) {
		require.NotNil(t, cc.URL)
		u, err := url.Parse(*cc.URL)
		require.NoError(t, err)
		u.Host = net.JoinHostPort("localhost", port)
		cc.URL = ptr.To(u.String())
	}
	mutating := &admissionregistrationv1.MutatingWebhookConfiguration{}
	require.NoError(t, h.env.Client.Get(ctx, types.NamespacedName{Name: mutatingConfig}, mutating))
	for i := range mutating.Webhooks {
		toLocalhost(&mutating.Webhooks[i].ClientConfig)
	}
	require.NoError(t, h.env.Client.Update(ctx, mutating))
	validating := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	require.NoError(t, h.env.Client.Get(ctx, types.NamespacedName{Name: validatingConfig}, validating))
	for i := range validating.Webhooks {
		toLocalhost(&validating.Webhooks[i].ClientConfig)
	}
	require.NoError(t, h.env.Client.Update(ctx, validating))
	return net.JoinHostPort(h.env.Env.WebhookInstallOptions.LocalServingHost, port)
}

// caBundles returns the caBundle of every webhook, by configuration and
// webhook name.
func (h *certHarness) caBundles(t require.TestingT) map[string][]byte {
	ctx := context.Background()
	bundles := map[string][]byte{}
	mutating := &admissionregistrationv1.MutatingWebhookConfiguration{}
	require.NoError(t, h.env.Client.Get(ctx, types.NamespacedName{Name: mutatingConfig}, mutating))
	for _, wh := range mutating.Webhooks {
		bundles[mutatingConfig+"/"+wh.Name] = wh.ClientConfig.CABundle
	}
	validating := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	require.NoError(t, h.env.Client.Get(ctx, types.NamespacedName{Name: validatingConfig}, validating))
	for _, wh := range validating.Webhooks {
		bundles[validatingConfig+"/"+wh.Name] = wh.ClientConfig.CABundle
	}
	require.Len(t, bundles, 7, "two mutating webhooks and five validating ones")
	return bundles
}

func (h *certHarness) secret(t require.TestingT, name string) *corev1.Secret {
	secret := &corev1.Secret{}
	require.NoError(t, h.env.Client.Get(context.Background(), types.NamespacedName{Namespace: claimNamespace, Name: name}, secret))
	return secret
}

// admissionProbe asks the API server to create, in a dry run, a Savepoint
// whose parent does not exist: the webhook denies it with its own words.
func (h *certHarness) admissionProbe(ctx context.Context) error {
	sp := &cmfv1.Savepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: "probe"},
		Spec:       cmfv1.SavepointSpec{Application: "ghost"},
	}
	return h.env.Client.Create(ctx, sp, client.DryRunAll)
}

// servedCert is the certificate the webhook serves, verified with ca for
// the name the API server dials.
func (h *certHarness) servedCert(t *testing.T, ca []byte) *x509.Certificate {
	t.Helper()
	cert, err := dialWebhook(h.addr, ca)
	require.NoError(t, err)
	return cert
}

func dialWebhook(addr string, ca []byte) (*x509.Certificate, error) {
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca)
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS12})
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close() }()
	return conn.ConnectionState().PeerCertificates[0], nil
}

// parseBundle returns the certificates of a PEM bundle.
func parseBundle(t require.TestingT, data []byte) []*x509.Certificate {
	var certs []*x509.Certificate
	for {
		block, rest := pem.Decode(data)
		if block == nil {
			return certs
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		require.NoError(t, err)
		certs, data = append(certs, cert), rest
	}
}

func parseCert(t require.TestingT, data []byte) *x509.Certificate {
	block, _ := pem.Decode(data)
	require.NotNil(t, block, "PEM certificate")
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	return cert
}

func errString(err error) string {
	if err == nil {
		return "admitted: the webhook was not asked"
	}
	return err.Error()
}
