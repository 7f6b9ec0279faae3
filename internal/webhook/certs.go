package webhook

import (
	"context"
	"fmt"
	"sync"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"
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
	// through the Service. The certificate names DNS names only: a URL with
	// an IP address cannot be verified.
	ExtraDNSNames []string
	// CertDir is the webhook server's cert folder; the manager writes
	// tls.crt and tls.key there itself, so it may be an emptyDir.
	CertDir string
	// MutatingConfig and ValidatingConfig name the webhook configurations
	// whose caBundle is kept current.
	MutatingConfig, ValidatingConfig string
	// CADuration and CertDuration are the lifetimes; default 10 years and 1
	// year. A serving certificate ends with its CA at the latest.
	CADuration, CertDuration time.Duration
	// RenewBefore is how long before it expires a certificate (the CA or the
	// serving one) is replaced; default 90 days. A CA renewal takes three
	// checks, so it must be at least three CheckIntervals.
	RenewBefore time.Duration
	// CheckInterval is how often expiry is checked; default 12 hours. It is
	// also how long the API servers and the other replicas are given to
	// catch up before the next step of a CA renewal.
	CheckInterval time.Duration
}

// withDefaults fills the unset lifetimes and checks that a renewal fits in
// them.
func (o CertOptions) withDefaults() (CertOptions, error) {
	if o.Namespace == "" || o.SecretName == "" || o.ServiceName == "" || o.CertDir == "" {
		return o, fmt.Errorf("certificate rotation needs the namespace, secret, service and cert folder")
	}
	if o.MutatingConfig == "" || o.ValidatingConfig == "" {
		return o, fmt.Errorf("certificate rotation needs the names of the webhook configurations")
	}
	const day = 24 * time.Hour
	for _, d := range []struct {
		value *time.Duration
		def   time.Duration
	}{{&o.CADuration, 3650 * day}, {&o.CertDuration, 365 * day}, {&o.RenewBefore, 90 * day}, {&o.CheckInterval, 12 * time.Hour}} {
		if *d.value <= 0 {
			*d.value = d.def
		}
	}
	if o.RenewBefore >= o.CADuration || o.RenewBefore >= o.CertDuration {
		return o, fmt.Errorf("certificates renewed %s before they expire must live longer than that (CA %s, serving %s)", o.RenewBefore, o.CADuration, o.CertDuration)
	}
	if o.RenewBefore < 3*o.CheckInterval {
		return o, fmt.Errorf("certificates renewed %s before they expire need a check at least every %s, not every %s", o.RenewBefore, o.RenewBefore/3, o.CheckInterval)
	}
	return o, nil
}

// dnsNames are the names the serving certificate is for.
func (o CertOptions) dnsNames() []string {
	service := fmt.Sprintf("%s.%s.svc", o.ServiceName, o.Namespace)
	return append([]string{service, service + ".cluster.local"}, o.ExtraDNSNames...)
}

// AddCertRotation adds the certificate rotation to mgr and returns a channel
// closed once the certificates are in place, in the cert folder and in every
// caBundle: register the webhook handlers after it (the webhook server
// starts on the first handler registration, and its certificate watcher
// then follows the files). Every replica runs it; they share the Secret.
func AddCertRotation(ctx context.Context, mgr manager.Manager, o CertOptions) (<-chan struct{}, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	key := types.NamespacedName{Namespace: o.Namespace, Name: o.SecretName}
	// Now rather than at the first check: a manager that may not create
	// it fails at start.
	if err := createSecret(ctx, mgr.GetClient(), key); err != nil {
		return nil, err
	}
	watches, err := cache.New(mgr.GetConfig(), cache.Options{
		Scheme: mgr.GetScheme(),
		Mapper: mgr.GetRESTMapper(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {
				Namespaces: map[string]cache.Config{key.Namespace: {}},
				Field:      fields.OneTermEqualSelector("metadata.name", key.Name),
			},
			&admissionregistrationv1.MutatingWebhookConfiguration{}:   {Field: fields.OneTermEqualSelector("metadata.name", o.MutatingConfig)},
			&admissionregistrationv1.ValidatingWebhookConfiguration{}: {Field: fields.OneTermEqualSelector("metadata.name", o.ValidatingConfig)},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("watch Secret %s and the webhook configurations: %w", key, err)
	}
	r := &certRotation{
		opts:    o,
		key:     key,
		api:     mgr.GetAPIReader(),
		writer:  mgr.GetClient(),
		watches: watches,
		files:   &certFiles{dir: o.CertDir},
		now:     time.Now,
		kicks:   make(chan struct{}, 1),
		ready:   make(chan struct{}),
	}
	if err := mgr.Add(r); err != nil {
		return nil, err
	}
	return r.ready, nil
}

// createSecret creates the empty Secret the rotation fills; one made by
// another replica or by hand is kept as it is.
func createSecret(ctx context.Context, c client.Writer, key types.NamespacedName) error {
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

// certRotation keeps the Secret's CAs and serving certificate current, the
// caBundle of every webhook equal to the Secret's bundle, and the
// replica's cert folder equal to the Secret's serving certificate. A CA
// renewal takes three checks, a check interval apart: a new CA joins the
// bundle; once every caBundle has carried it for a check interval, it
// signs the serving certificate; once that has been served for a check
// interval, the old CA leaves the bundle. So a connection never meets a
// certificate whose CA the API server does not trust yet, or no longer.
type certRotation struct {
	opts CertOptions
	key  types.NamespacedName
	// api reads from the API server itself, not from a cache: a caBundle
	// is read back as the API servers hold it, and the Secret as the
	// other replicas last wrote it.
	api    client.Reader
	writer client.Writer
	// watches follow the Secret (into the cert folder) and the webhook
	// configurations (a caBundle changed by someone else is put back).
	watches cache.Cache
	files   *certFiles
	now     func() time.Time
	// kicks asks for a check before the next tick.
	kicks chan struct{}
	ready chan struct{}
	// readyOnce closes ready.
	readyOnce sync.Once
	// trusted: since when every caBundle carries the signing CA; served:
	// since when the cert folder holds the Secret's serving certificate.
	trusted, served sighting
}

// NeedLeaderElection is false: every replica serves the webhook, so every
// replica keeps its files current; the Secret is shared.
func (r *certRotation) NeedLeaderElection() bool { return false }

// Start checks at once, every check interval, whenever the Secret or a
// webhook configuration changes, and when a waiting step is due, until ctx
// ends. A check that fails is tried again sooner, up to a minute apart.
func (r *certRotation) Start(ctx context.Context) error {
	log := logf.FromContext(ctx).WithName("cert-rotation").WithValues("secret", r.key.String())
	ctx = logf.IntoContext(ctx, log)
	stopped := make(chan error, 1)
	go func() { stopped <- r.watches.Start(ctx) }()
	if err := r.watch(ctx); err != nil {
		if ctx.Err() != nil {
			return <-stopped
		}
		return err
	}
	tick := time.NewTicker(r.opts.CheckInterval)
	defer tick.Stop()
	var backoff time.Duration
	for {
		var again <-chan time.Time
		if err := r.check(ctx); err != nil && ctx.Err() == nil {
			backoff = min(max(2*backoff, 250*time.Millisecond), time.Minute)
			log.Error(err, "certificate rotation check failed", "retryIn", backoff)
			again = time.After(backoff)
		} else {
			backoff = 0
		}
		var step <-chan time.Time
		if at := r.nextStep(); !at.IsZero() {
			step = time.After(at.Sub(r.now()))
		}
		select {
		case <-ctx.Done():
			return <-stopped
		case err := <-stopped:
			if ctx.Err() != nil {
				return err
			}
			return fmt.Errorf("watch Secret %s and the webhook configurations: %w", r.key, err)
		case <-tick.C:
		case <-r.kicks:
		case <-again:
		case <-step:
		}
	}
}

// nextStep is when a step that waits for the API servers or the other
// replicas to catch up may be taken: a check interval after this replica
// saw the signing CA in every caBundle, or the serving certificate in its
// files; zero if both are past. A check then, rather than at the next
// tick, keeps each step of a CA renewal one check interval apart.
func (r *certRotation) nextStep() time.Time {
	var next time.Time
	now := r.now()
	for _, s := range []sighting{r.trusted, r.served} {
		if at := s.since.Add(r.opts.CheckInterval); !s.since.IsZero() && at.After(now) && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	return next
}

// watch writes the Secret's serving certificate into the cert folder as
// it changes, and asks for a check on every change of the Secret or a
// webhook configuration.
func (r *certRotation) watch(ctx context.Context) error {
	log := logf.FromContext(ctx).WithValues("dir", r.files.dir)
	kick := func(any) {
		select {
		case r.kicks <- struct{}{}:
		default:
		}
	}
	secretChanged := func(obj any) {
		if secret, ok := obj.(*corev1.Secret); ok {
			if err := r.files.write(secret.Data[corev1.TLSCertKey], secret.Data[corev1.TLSPrivateKeyKey]); err != nil {
				log.Error(err, "write the webhook's serving certificate")
			}
		}
		kick(obj)
	}
	for obj, changed := range map[client.Object]func(any){
		&corev1.Secret{}: secretChanged,
		&admissionregistrationv1.MutatingWebhookConfiguration{}:   kick,
		&admissionregistrationv1.ValidatingWebhookConfiguration{}: kick,
	} {
		informer, err := r.watches.GetInformer(ctx, obj)
		if err != nil {
			return fmt.Errorf("watch %T: %w", obj, err)
		}
		if _, err := informer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc:    changed,
			UpdateFunc: func(_, obj any) { changed(obj) },
			DeleteFunc: kick,
		}); err != nil {
			return fmt.Errorf("watch %T: %w", obj, err)
		}
	}
	return nil
}

// check takes the rotation one step further where one is due, reading the
// Secret again when another replica wrote it first.
func (r *certRotation) check(ctx context.Context) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error { return r.checkOnce(ctx) })
}

// checkOnce makes a new CA when the signing one is due, publishes the
// bundle, issues a serving certificate when due, drops the CAs no longer
// needed, and closes ready once all is in place. Every write of the Secret
// carries the resourceVersion read: two replicas never overwrite each
// other's new CA or certificate.
func (r *certRotation) checkOnce(ctx context.Context) error {
	log := logf.FromContext(ctx)
	now := r.now()
	secret, err := r.readSecret(ctx)
	if err != nil {
		return err
	}
	certs := parseSecretCerts(secret.Data)

	if caDue(certs.signer, now, r.opts.RenewBefore) {
		ca, err := newCA(now, r.opts.CADuration)
		if err != nil {
			return err
		}
		keyPEM, err := encodeKey(ca.key)
		if err != nil {
			return err
		}
		bundle := withCA(prunedBundle(certs, time.Time{}, now, r.opts.CheckInterval), ca.cert)
		if err := r.updateSecret(ctx, secret, map[string][]byte{caBundleKey: encodeBundle(bundle), caKeyKey: keyPEM}); err != nil {
			return err
		}
		certs.bundle, certs.signer = bundle, ca
		log.Info("made a new CA; it signs once every caBundle has carried it for a check interval",
			"ca", ca.cert.Subject.CommonName, "notAfter", ca.cert.NotAfter, "bundle", len(bundle))
	}

	carried, err := r.publish(ctx, certs.bundle, certs.inUse(), now)
	if err != nil {
		return err
	}
	if !carried {
		r.trusted.forget()
	}
	// From the read-back, not from the start of a check that may have
	// been slow: the API servers' caches follow the write.
	trustedSince := r.trusted.see(certs.signer.cert, r.now())

	if servingDue(certs, r.opts.dnsNames(), trustedSince, now, r.opts) {
		certPEM, keyPEM, err := issueServing(certs.signer, r.opts.dnsNames(), now, r.opts.CertDuration)
		if err != nil {
			return err
		}
		if err := r.updateSecret(ctx, secret, map[string][]byte{corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: keyPEM}); err != nil {
			return err
		}
		log.Info("issued a serving certificate", "ca", certs.signer.cert.Subject.CommonName)
		return nil // the files follow the Secret, and ask for the next check
	}

	if !r.files.hold(secret.Data[corev1.TLSCertKey], secret.Data[corev1.TLSPrivateKeyKey]) {
		r.served.forget()
		return nil // the Secret's watch writes them, and asks for the next check
	}
	servedSince := r.served.see(certs.serving, r.now())

	if kept := prunedBundle(certs, servedSince, now, r.opts.CheckInterval); len(kept) < len(certs.bundle) {
		if err := r.updateSecret(ctx, secret, map[string][]byte{caBundleKey: encodeBundle(kept)}); err != nil {
			return err
		}
		if _, err := r.publish(ctx, kept, certs.inUse(), now); err != nil {
			return err
		}
		log.Info("dropped the CAs no longer needed from the caBundle", "dropped", len(certs.bundle)-len(kept), "bundle", len(kept))
	}
	r.readyOnce.Do(func() {
		log.Info("the webhook's certificates are in place")
		close(r.ready)
	})
	return nil
}

// readSecret reads the Secret from the API server, creating it again if
// it was deleted.
func (r *certRotation) readSecret(ctx context.Context) (*corev1.Secret, error) {
	secret := &corev1.Secret{}
	err := r.api.Get(ctx, r.key, secret)
	if apierrors.IsNotFound(err) {
		if err := createSecret(ctx, r.writer, r.key); err != nil {
			return nil, err
		}
		err = r.api.Get(ctx, r.key, secret)
	}
	if err != nil {
		return nil, fmt.Errorf("read the webhook certificate Secret %s: %w", r.key, err)
	}
	return secret, nil
}

// updateSecret writes data into the Secret, as of the resourceVersion it
// was read at: a conflict means another replica wrote first.
func (r *certRotation) updateSecret(ctx context.Context, secret *corev1.Secret, data map[string][]byte) error {
	if secret.Data == nil {
		secret.Data = map[string][]byte{}
	}
	for k, v := range data {
		secret.Data[k] = v
	}
	if err := r.writer.Update(ctx, secret); err != nil {
		return fmt.Errorf("write the webhook certificate Secret %s: %w", r.key, err)
	}
	return nil
}
