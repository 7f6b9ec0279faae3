package webhook

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/open-policy-agent/cert-controller/pkg/rotator"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// CertOptions configure the webhook's own certificates: a CA and a serving
// certificate kept in a Secret, written to the webhook server's cert folder,
// rotated before they expire, and injected as caBundle into the webhook
// configurations. No cert-manager needed (manifests/cert-manager
// uses it instead).
type CertOptions struct {
	// Namespace and SecretName hold the CA and the serving certificate.
	Namespace, SecretName string
	// ServiceName is the webhook Service; the certificate is for
	// <service>.<namespace>.svc.
	ServiceName string
	// ExtraDNSNames are further names the serving certificate is valid for,
	// e.g. "localhost" for a webhook the API server reaches by URL instead of
	// through the Service. cert-controller issues DNS names only: a URL with
	// an IP address cannot be verified.
	ExtraDNSNames []string
	// CertDir is the webhook server's cert folder; the manager writes
	// tls.crt and tls.key there itself, so it may be an emptyDir.
	CertDir string
	// MutatingConfig and ValidatingConfig name the webhook configurations
	// whose caBundle is kept current.
	MutatingConfig, ValidatingConfig string
	// CADuration and CertDuration are the lifetimes; default 10 years and 1 year.
	CADuration, CertDuration time.Duration
	// RenewBefore is how long before it expires a certificate (the CA or the
	// serving one) is replaced; default 90 days.
	RenewBefore time.Duration
	// CheckInterval is how often expiry is checked; default 12 hours.
	CheckInterval time.Duration
}

// AddCertRotation adds the certificate rotation to mgr and returns a channel
// closed once the certificates are in place: register the webhook handlers
// after it (the webhook server starts on the first handler registration).
// It creates the (empty) Secret now if it does not exist: cert-controller
// fills a Secret but does not create one.
func AddCertRotation(ctx context.Context, mgr manager.Manager, o CertOptions) (<-chan struct{}, error) {
	if o.Namespace == "" || o.SecretName == "" || o.ServiceName == "" || o.CertDir == "" {
		return nil, fmt.Errorf("certificate rotation needs the namespace, secret, service and cert folder")
	}
	key := types.NamespacedName{Namespace: o.Namespace, Name: o.SecretName}
	if err := createSecret(ctx, mgr.GetClient(), key); err != nil {
		return nil, err
	}
	secrets, err := cache.New(mgr.GetConfig(), cache.Options{
		Scheme: mgr.GetScheme(),
		Mapper: mgr.GetRESTMapper(),
		ByObject: map[client.Object]cache.ByObject{&corev1.Secret{}: {
			Namespaces: map[string]cache.Config{key.Namespace: {}},
			Field:      fields.OneTermEqualSelector("metadata.name", key.Name),
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("watch Secret %s: %w", key, err)
	}
	if err := mgr.Add(&certFiles{secrets: secrets, key: key, dir: o.CertDir}); err != nil {
		return nil, err
	}

	ready := make(chan struct{})
	err = rotator.AddRotator(mgr, &rotator.CertRotator{
		SecretKey: key,
		// One rotator per Secret: controller names are unique in a process.
		ControllerName: "cert-rotator-" + key.Name,
		CertDir:        o.CertDir,
		CAName:         "savepoint-manager-ca",
		CAOrganization: "kubectl-savepoint",
		DNSName:        fmt.Sprintf("%s.%s.svc", o.ServiceName, o.Namespace),
		ExtraDNSNames: append([]string{fmt.Sprintf("%s.%s.svc.cluster.local", o.ServiceName, o.Namespace)},
			o.ExtraDNSNames...),
		IsReady:                ready,
		CaCertDuration:         o.CADuration,
		ServerCertDuration:     o.CertDuration,
		LookaheadInterval:      o.RenewBefore,
		RotationCheckFrequency: o.CheckInterval,
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

// createSecret creates the empty Secret cert-controller fills; one made by
// another replica or by hand is kept as it is.
func createSecret(ctx context.Context, c client.Client, key types.NamespacedName) error {
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name,
			Labels: map[string]string{"app.kubernetes.io/name": "savepoint-manager"}},
		Type: corev1.SecretTypeOpaque,
	}
	if err := c.Create(ctx, secret); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create the webhook certificate Secret %s: %w", key, err)
	}
	return nil
}

// certFiles writes the serving certificate and key from the Secret into the
// webhook server's cert folder whenever they change: what a Secret volume
// would do, without the kubelet's sync delay of up to a minute, during
// which the webhook would still serve a certificate the caBundle no longer
// trusts. The webhook server's certificate watcher picks the files up.
type certFiles struct {
	secrets cache.Cache
	key     types.NamespacedName
	dir     string
}

// NeedLeaderElection is false: every replica serves the webhook.
func (f *certFiles) NeedLeaderElection() bool { return false }

// Start watches the Secret until ctx ends.
func (f *certFiles) Start(ctx context.Context) error {
	stopped := make(chan error, 1)
	go func() { stopped <- f.secrets.Start(ctx) }()
	informer, err := f.secrets.GetInformer(ctx, &corev1.Secret{})
	if err != nil {
		return fmt.Errorf("watch Secret %s: %w", f.key, err)
	}
	log := logf.FromContext(ctx).WithName("cert-files").WithValues("secret", f.key.String(), "dir", f.dir)
	write := func(obj any) {
		secret, ok := obj.(*corev1.Secret)
		if !ok || secret.Namespace != f.key.Namespace || secret.Name != f.key.Name {
			return
		}
		if err := f.write(secret.Data[corev1.TLSCertKey], secret.Data[corev1.TLSPrivateKeyKey]); err != nil {
			log.Error(err, "write the webhook's serving certificate")
		}
	}
	if _, err := informer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    write,
		UpdateFunc: func(_, obj any) { write(obj) },
	}); err != nil {
		return fmt.Errorf("watch Secret %s: %w", f.key, err)
	}
	return <-stopped
}

// write replaces tls.key, then tls.crt, each atomically (a rename), when
// they differ: the certificate watcher reloads on the second and never
// reads half a file.
func (f *certFiles) write(cert, key []byte) error {
	if len(cert) == 0 || len(key) == 0 {
		return nil // not issued yet
	}
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return err
	}
	for _, file := range []struct {
		name string
		data []byte
	}{{corev1.TLSPrivateKeyKey, key}, {corev1.TLSCertKey, cert}} {
		path := filepath.Join(f.dir, file.name)
		if current, err := os.ReadFile(path); err == nil && bytes.Equal(current, file.data) {
			continue
		}
		tmp, err := os.CreateTemp(f.dir, "."+file.name+"-*")
		if err != nil {
			return err
		}
		_, err = tmp.Write(file.data)
		if closeErr := tmp.Close(); err == nil {
			err = closeErr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), path)
		}
		if err != nil {
			_ = os.Remove(tmp.Name())
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return nil
}
