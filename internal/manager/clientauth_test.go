package manager_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/webhook"
)

// TestWebhookClientCertificates: where the API server presents a client
// certificate to webhooks (its --admission-control-config-file) and the
// manager requires one of that CA (--webhook-client-ca-file,
// webhook.RequireClientCertificates), the manager gets ready and admission
// works through the API server, while a client without such a certificate
// (any pod that reaches the webhook's port) gets no answer at all: the TLS
// handshake fails before an AdmissionReview is read, so nothing is looked
// up or claimed for it.
func TestWebhookClientCertificates(t *testing.T) {
	env := controlplane.Start(t, controlplane.Options{Webhooks: true, ShippedWebhooks: true, WebhookHost: "localhost", WebhookClientAuth: true})
	ctx := context.Background()
	requireClientCerts, err := webhook.RequireClientCertificates(env.WebhookClientCA)
	require.NoError(t, err)
	probes := runManager(t, env, []func(*tls.Config){requireClientCerts}, time.Now)
	require.Eventually(t, func() bool { return probe(probes, "/readyz") == http.StatusOK }, time.Minute, 20*time.Millisecond, "ready, with client certificates required")

	ns := env.Namespace(t)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		ghost := &cmfv1.Savepoint{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "probe"}, Spec: cmfv1.SavepointSpec{Application: "ghost"}}
		err := env.Client.Create(ctx, ghost, client.DryRunAll)
		if assert.Error(c, err) {
			assert.Contains(c, err.Error(), `spec.application "ghost" does not exist in namespace `+ns)
		}
	}, 30*time.Second, 50*time.Millisecond, "admission answered by the webhook, through the API server's client certificate")

	secret := &corev1.Secret{}
	require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "savepoint-manager-webhook-cert"}, secret))
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(secret.Data["ca.crt"]))
	wh := env.Env.WebhookInstallOptions
	url := "https://" + net.JoinHostPort("localhost", strconv.Itoa(wh.LocalServingPort)) + webhook.ValidateDetachedPath
	// A DetachedSavepoint create: its handler claims the name with a Lease.
	review := []byte(fmt.Sprintf(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","operation":"CREATE",`+
		`"kind":{"group":"cmf.confluent.io","version":"v1","kind":"DetachedSavepoint"},"resource":{"group":"cmf.confluent.io","version":"v1","resource":"detachedsavepoints"},`+
		`"namespace":%q,"name":"anonymous","userInfo":{"username":"anyone"},"object":{"apiVersion":"cmf.confluent.io/v1","kind":"DetachedSavepoint",`+
		`"metadata":{"name":"anonymous","namespace":%q},"spec":{"path":"s3://b/any"}}}}`, ns, ns))
	for _, tc := range []struct {
		name  string
		certs []tls.Certificate
	}{
		{"no client certificate", nil},
		{"a client certificate of another CA", []tls.Certificate{selfSignedClient(t)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			poster := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
				TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost", Certificates: tc.certs, MinVersion: tls.VersionTLS12},
			}}
			resp, err := poster.Post(url, "application/json", bytes.NewReader(review))
			if err == nil {
				_ = resp.Body.Close()
			}
			require.Error(t, err, "no answer without the API server's certificate")
			assert.Contains(t, err.Error(), "certificate", "refused in the TLS handshake")
		})
	}
	err = env.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "dsp.anonymous"}, &coordinationv1.Lease{})
	assert.True(t, apierrors.IsNotFound(err), "nothing was claimed for an anonymous review: %v", err)
}

// selfSignedClient is a client certificate no CA of the cluster signed.
func selfSignedClient(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kube-apiserver"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, key.Public(), key)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
