package controlplane

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Shipped names of the webhook configurations: manifests/webhook's
// kustomization gives them to controller-gen's configurations, the manager
// keeps their caBundle by default, and its role may write these alone.
const (
	MutatingWebhookConfiguration   = "savepoint-manager-mutating"
	ValidatingWebhookConfiguration = "savepoint-manager-validating"
)

// RenderWebhooks writes the webhook configurations as a cluster gets them,
// rendered by manifests/webhook's kustomization with the control plane's
// kubectl (so under their shipped names, with their namespaceSelector),
// into dir, and returns the file, for envtest's WebhookInstallOptions.Paths:
// envtest points them at the test's server as it does the generated ones.
func RenderWebhooks(assets, root, dir string) (string, error) {
	out, err := exec.Command(filepath.Join(assets, "kubectl"), "kustomize", filepath.Join(root, "manifests", "webhook")).Output()
	if err != nil {
		if exit, ok := err.(*exec.ExitError); ok {
			err = fmt.Errorf("%w: %s", err, exit.Stderr)
		}
		return "", fmt.Errorf("kubectl kustomize manifests/webhook: %w", err)
	}
	file := filepath.Join(dir, "webhooks.yaml")
	return file, os.WriteFile(file, out, 0o600)
}

// configureWebhookClientAuth makes a CA and a client certificate it signs
// in dir, and has kube-apiserver present that certificate to every
// admission webhook, as a cluster admin does for client-certificate
// verification: --admission-control-config-file, whose webhook plugins
// name a kubeconfig with the certificate for the default user "*" (any
// webhook host). It returns the CA's PEM file, for the webhook server.
func configureWebhookClientAuth(te *envtest.Environment, dir string) (string, error) {
	ca, caKey, _, err := newCertificate(&x509.Certificate{
		Subject: pkix.Name{CommonName: "webhook-client-ca"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign,
	}, nil, nil)
	if err != nil {
		return "", err
	}
	client, _, clientKey, err := newCertificate(&x509.Certificate{
		Subject: pkix.Name{CommonName: "kube-apiserver"}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, ca, caKey)
	if err != nil {
		return "", err
	}
	files := map[string][]byte{
		"ca.crt":     pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}),
		"client.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: client.Raw}),
		"client.key": clientKey,
		"webhook-kubeconfig.yaml": []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
users:
- name: "*"
  user:
    client-certificate: %s
    client-key: %s
`, filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key"))),
	}
	var plugins strings.Builder
	for _, plugin := range []string{"ValidatingAdmissionWebhook", "MutatingAdmissionWebhook"} {
		fmt.Fprintf(&plugins, `- name: %s
  configuration:
    apiVersion: apiserver.config.k8s.io/v1
    kind: WebhookAdmissionConfiguration
    kubeConfigFile: %s
`, plugin, filepath.Join(dir, "webhook-kubeconfig.yaml"))
	}
	files["admission.yaml"] = []byte("apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n" + plugins.String())
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return "", err
		}
	}
	te.ControlPlane.GetAPIServer().Configure().Set("admission-control-config-file", filepath.Join(dir, "admission.yaml"))
	return filepath.Join(dir, "ca.crt"), nil
}

// newCertificate signs template with parent's key (itself when parent is
// nil) for a new P-256 key, and returns it with the key and the key's PEM.
func newCertificate(template, parent *x509.Certificate, parentKey crypto.Signer) (*x509.Certificate, crypto.Signer, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return nil, nil, nil, err
	}
	template.SerialNumber = serial
	template.NotBefore, template.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	if parent == nil {
		parent, parentKey = template, key
	}
	der, err := x509.CreateCertificate(rand.Reader, template, parent, key.Public(), parentKey)
	if err != nil {
		return nil, nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, nil, err
	}
	return cert, key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
}
