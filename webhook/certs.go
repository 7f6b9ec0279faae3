package webhook

import (
	"fmt"
	"time"

	"github.com/open-policy-agent/cert-controller/pkg/rotator"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// CertOptions configure the webhook's own certificates: a CA and a serving
// certificate kept in a Secret, written to the webhook server's cert folder,
// rotated before they expire, and injected as caBundle into the webhook
// configurations. No cert-manager needed (manifests/overlays/cert-manager
// uses it instead).
type CertOptions struct {
	// Namespace and SecretName hold the CA and the serving certificate.
	Namespace, SecretName string
	// ServiceName is the webhook Service; the certificate is for
	// <service>.<namespace>.svc.
	ServiceName string
	// CertDir is the webhook server's cert folder.
	CertDir string
	// MutatingConfig and ValidatingConfig name the webhook configurations
	// whose caBundle is kept current.
	MutatingConfig, ValidatingConfig string
	// CADuration and CertDuration are the lifetimes; default 10 years and 1 year.
	CADuration, CertDuration time.Duration
}

// AddCertRotation adds the certificate rotation to mgr and returns a channel
// closed once the certificates are in place: register the webhook handlers
// after it (the webhook server starts on the first handler registration).
func AddCertRotation(mgr manager.Manager, o CertOptions) (<-chan struct{}, error) {
	if o.Namespace == "" || o.SecretName == "" || o.ServiceName == "" || o.CertDir == "" {
		return nil, fmt.Errorf("certificate rotation needs the namespace, secret, service and cert folder")
	}
	ready := make(chan struct{})
	err := rotator.AddRotator(mgr, &rotator.CertRotator{
		SecretKey:          types.NamespacedName{Namespace: o.Namespace, Name: o.SecretName},
		CertDir:            o.CertDir,
		CAName:             "savepoint-manager-ca",
		CAOrganization:     "kubectl-savepoint",
		DNSName:            fmt.Sprintf("%s.%s.svc", o.ServiceName, o.Namespace),
		ExtraDNSNames:      []string{fmt.Sprintf("%s.%s.svc.cluster.local", o.ServiceName, o.Namespace)},
		IsReady:            ready,
		CaCertDuration:     o.CADuration,
		ServerCertDuration: o.CertDuration,
		// Every replica serves the webhook, so every replica keeps its
		// files current; the Secret is shared.
		RequireLeaderElection: false,
		Webhooks: []rotator.WebhookInfo{
			{Name: o.MutatingConfig, Type: rotator.Mutating},
			{Name: o.ValidatingConfig, Type: rotator.Validating},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("set up certificate rotation: %w", err)
	}
	return ready, nil
}
