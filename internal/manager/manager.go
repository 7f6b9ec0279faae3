// Package manager sets up everything the savepoint-manager process runs on
// one controller-runtime manager: the cache indexes the webhook and the
// controllers share, the controllers, the admission webhook (behind its
// certificates when the manager makes them itself), the health and
// readiness checks, and the published version. cmd/savepoint-manager, the
// playground (through that binary) and the integration tests all call
// Setup, so the wiring they run is the wiring that ships.
package manager

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"

	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/index"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/version"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/webhook"
)

// LeaderElectionID names the Lease, in the manager's namespace, through
// which the replicas elect the one that runs the controllers.
const LeaderElectionID = "savepoint-manager.cmf.confluent.io"

// Config is what the manager runs with; cmd/savepoint-manager fills it from
// its flags.
type Config struct {
	// Namespace is the manager's own namespace: it holds the version
	// ConfigMap, and is the default of Webhook.ClaimNamespace and
	// CertRotation.Namespace. Required.
	Namespace string
	// ServiceAccount is the manager's service account in Namespace; unless
	// Webhook.ManagerUser is set, the webhook knows the manager's own
	// requests by its user name. Empty: no request is the manager's.
	ServiceAccount string
	// Controllers configure the reconcilers.
	Controllers controller.Options
	// Webhook configures the admission handlers.
	Webhook webhook.Options
	// CertRotation, when set, makes and rotates the webhook's certificates
	// and keeps the webhook configurations' caBundle current; the webhook
	// serves only once they are in place. Nil: the certificates are
	// provided in the webhook server's cert folder (the cert-manager
	// overlay, or a test's control plane).
	CertRotation *webhook.CertOptions
	// Now returns the time; default time.Now. It dates the published start.
	Now func() time.Time
}

// withDefaults fills the fields that follow from others and checks the
// required ones.
func (c Config) withDefaults() (Config, error) {
	if c.Namespace == "" {
		return c, errors.New("the manager's namespace is required")
	}
	if c.Webhook.ClaimNamespace == "" {
		c.Webhook.ClaimNamespace = c.Namespace
	}
	if c.Webhook.Endpoints == nil {
		// Admission checks the URLs users write against the allow-list the
		// controllers call through, so that a refusal comes at once, as a
		// denial, not later as a condition.
		c.Webhook.Endpoints = &webhook.EndpointRules{Policy: c.Controllers.Endpoints, AllowRestURLAnnotation: c.Controllers.AllowRestURLAnnotation}
	}
	if c.Webhook.ManagerUser == "" && c.ServiceAccount != "" {
		c.Webhook.ManagerUser = "system:serviceaccount:" + c.Namespace + ":" + c.ServiceAccount
	}
	if c.CertRotation != nil && c.CertRotation.Namespace == "" {
		rotation := *c.CertRotation
		rotation.Namespace = c.Namespace
		c.CertRotation = &rotation
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}

// Setup adds to mgr, before it starts: the indexes, the controllers, the
// webhook (at once, or once CertRotation has put its certificates in
// place), a liveness check "healthz", a readiness check "webhook" that
// passes once the webhook serves, and the publisher of the version. It logs
// the build.
func Setup(ctx context.Context, mgr ctrl.Manager, cfg Config) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	build := version.Get()
	mgr.GetLogger().Info("savepoint-manager build", "version", build.Version, "commit", build.Commit, "go", build.GoVersion, "platform", build.Platform)

	if err := index.Add(ctx, mgr.GetFieldIndexer()); err != nil {
		return fmt.Errorf("add the cache indexes: %w", err)
	}
	if err := controller.Setup(mgr, cfg.Controllers); err != nil {
		return fmt.Errorf("set up the controllers: %w", err)
	}
	served, err := setupWebhook(ctx, mgr, cfg)
	if err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("webhook", func(req *http.Request) error {
		select {
		case <-served:
			return mgr.GetWebhookServer().StartedChecker()(req)
		default:
			return errors.New("waiting for the webhook's certificates")
		}
	}); err != nil {
		return err
	}
	return mgr.Add(&versionPublisher{
		client: mgr.GetClient(), live: mgr.GetAPIReader(), namespace: cfg.Namespace,
		published: version.Published{Info: build, StartTime: cfg.Now()},
	})
}

// setupWebhook registers the admission handlers, and returns a channel
// closed once they are. Without CertRotation that is now; with it, once the
// certificates are in the cert folder and in every caBundle: the webhook
// server starts on the first registration, and must not start before
// it has a certificate to serve.
func setupWebhook(ctx context.Context, mgr ctrl.Manager, cfg Config) (<-chan struct{}, error) {
	served := make(chan struct{})
	if cfg.CertRotation == nil {
		if err := webhook.Setup(ctx, mgr, cfg.Webhook); err != nil {
			return nil, fmt.Errorf("set up the webhook: %w", err)
		}
		close(served)
		return served, nil
	}
	certsReady, err := webhook.AddCertRotation(ctx, mgr, *cfg.CertRotation)
	if err != nil {
		return nil, fmt.Errorf("set up the webhook's certificate rotation: %w", err)
	}
	err = mgr.Add(&webhookAfterCerts{certsReady: certsReady, served: served, setup: func(ctx context.Context) error {
		return webhook.Setup(ctx, mgr, cfg.Webhook)
	}})
	return served, err
}

// webhookAfterCerts registers the admission handlers once the certificates
// are ready. A runnable rather than a goroutine, so that a failed
// registration stops the manager with its error.
type webhookAfterCerts struct {
	certsReady <-chan struct{}
	served     chan struct{}
	setup      func(context.Context) error
}

// NeedLeaderElection is false: every replica serves the webhook.
func (w *webhookAfterCerts) NeedLeaderElection() bool { return false }

// Start waits for the certificates, registers the handlers and returns.
func (w *webhookAfterCerts) Start(ctx context.Context) error {
	select {
	case <-w.certsReady:
	case <-ctx.Done():
		return nil
	}
	if err := w.setup(ctx); err != nil {
		return fmt.Errorf("set up the webhook: %w", err)
	}
	close(w.served)
	return nil
}
