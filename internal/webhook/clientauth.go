package webhook

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// RequireClientCertificates returns an option of the webhook server's TLS
// configuration under which it completes a connection only for a client
// that presents a certificate signed by a CA of caFile (PEM), read now.
// That client is the API server, where the cluster lets it present one
// (kube-apiserver --admission-control-config-file naming a kubeconfig with
// the certificate for the webhook's Service): without it, anyone who
// reaches the webhook's port can post an AdmissionReview and have the
// manager look up and answer it. A new CA needs a restart of the manager;
// new certificates of the same CA do not.
func RequireClientCertificates(caFile string) (func(*tls.Config), error) {
	data, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read the webhook's client CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("the webhook's client CA %s holds no PEM certificate", caFile)
	}
	return func(c *tls.Config) {
		c.ClientCAs = pool
		c.ClientAuth = tls.RequireAndVerifyClientCert
	}, nil
}
