// Command savepoint-manager is the webhook server and the controllers of
// kubectl-savepoint in one process. It only wires flags to packages.
package main

import (
	"cmp"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/endpoint"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/retention"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/egress"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/manager"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/version"
	savepointwebhook "github.com/kubectl-savepoint/kubectl-savepoint/internal/webhook"
)

// flags are the manager's command line.
type flags struct {
	webhookPort      int
	certDir          string
	metricsAddr      string
	probeAddr        string
	leaderElect      bool
	namespace        string
	restURLTemplate  string
	certRotation     bool
	certSecret       string
	webhookService   string
	mutatingConfig   string
	validatingConfig string
	serviceAccount   string
	bulkDeletePolicy string
	retentionNS      string
	jarCacheDir      string
	jarDir           string
	maxJarBytes      int64
	allowEndpoints   listFlag
	allowLoopback    bool
	allowAnnotation  bool
	disposable       listFlag
	certDNSNames     string
	webhookClientCA  string
	workers          int
	reconcileTimeout time.Duration
	version          bool
}

func main() {
	var f flags
	flag.IntVar(&f.webhookPort, "webhook-port", 9443, "Port the admission webhook serves TLS on.")
	flag.StringVar(&f.certDir, "cert-dir", "/tmp/k8s-webhook-server/serving-certs", "Folder with the webhook's tls.crt and tls.key.")
	flag.StringVar(&f.metricsAddr, "metrics-bind-address", ":8080", "Address the /metrics endpoint binds to; 0 turns it off.")
	flag.StringVar(&f.probeAddr, "health-probe-bind-address", ":8081", "Address the /healthz and /readyz probes bind to.")
	flag.BoolVar(&f.leaderElect, "leader-elect", true, "Elect one active controller among replicas; every replica serves the webhook.")
	flag.StringVar(&f.namespace, "namespace", os.Getenv("POD_NAMESPACE"), "The manager's namespace: it holds the leader-election Lease, the DetachedSavepoint name claims and the webhook certificate Secret (default $POD_NAMESPACE).")
	flag.StringVar(&f.restURLTemplate, "rest-url-template", endpoint.DefaultRestURLTemplate, "Where a parent's JobManager REST API is when neither its cmf.confluent.io/rest-url annotation nor a ComputePool says; {name} and {namespace} are replaced.")
	flag.BoolVar(&f.certRotation, "cert-rotation", true, "Create and rotate the webhook's CA and serving certificate in a Secret and keep the webhook configurations' caBundle current; false when cert-manager provides them.")
	flag.StringVar(&f.certSecret, "cert-secret", "savepoint-manager-webhook-cert", "The Secret holding the webhook's certificates (with --cert-rotation).")
	flag.StringVar(&f.webhookService, "webhook-service", "savepoint-manager-webhook", "The webhook's Service, named in its certificate (with --cert-rotation).")
	flag.StringVar(&f.mutatingConfig, "mutating-webhook-configuration", "savepoint-manager-mutating", "The MutatingWebhookConfiguration whose caBundle is kept current.")
	flag.StringVar(&f.validatingConfig, "validating-webhook-configuration", "savepoint-manager-validating", "The ValidatingWebhookConfiguration whose caBundle is kept current.")
	flag.StringVar(&f.serviceAccount, "service-account", "savepoint-manager", "The manager's service account: its own changes to savepoints need no rights on their parents.")
	flag.StringVar(&f.bulkDeletePolicy, "bulk-delete-policy", string(retention.BulkDetach), "What becomes of a COMPLETED attached savepoint's data when it is deleted with its namespace or with the CRDs, which no user asked for: detach (keep the data as a DetachedSavepoint in --retention-namespace), keep (keep the data, record its path in an event and the log) or dispose.")
	flag.StringVar(&f.retentionNS, "retention-namespace", "", "Where --bulk-delete-policy=detach keeps the DetachedSavepoints of savepoints deleted in bulk (default: --namespace).")
	flag.StringVar(&f.jarCacheDir, "jar-cache-dir", filepath.Join(os.TempDir(), "savepoint-manager-jars"), "Folder the jobs' http(s) jars are downloaded to before they are uploaded to a compute pool; it must be writable (in a pod with a read-only root filesystem, a volume). Made at the first download; until then it need not exist.")
	flag.StringVar(&f.jarDir, "jar-dir", "", "The one folder file:// jar URIs are read from (with its subfolders; a link out of it is refused); empty refuses file:// jars. A jar URI is what a namespace user writes, read with the manager's own file system: never name a folder holding anything but jars.")
	flag.Int64Var(&f.maxJarBytes, "max-jar-bytes", 512<<20, "The largest jar the manager reads or downloads.")
	flag.Var(&f.allowEndpoints, "allow-endpoint", "An endpoint the manager may call for a namespace (repeat it, or separate with commas): a host (flink.example.com), a host glob (*.svc; * is one or more labels), an IP or CIDR (10.0.0.0/8), each optionally with :port; {namespace} is replaced by the namespace of the object whose URL it is. It governs pools' REST and SQL Gateway URLs, the rest-url template and annotation, and http(s) jar downloads. Default: *.{namespace}.svc,*.{namespace}.svc.cluster.local. Link-local and cloud metadata addresses are always refused.")
	flag.BoolVar(&f.allowLoopback, "allow-loopback-endpoints", false, "Allow loopback endpoints (127.0.0.0/8, ::1, localhost), where the manager's own ports are: only for a local playground.")
	flag.BoolVar(&f.allowAnnotation, "allow-rest-url-annotation", false, "Honour the cmf.confluent.io/rest-url annotation on FlinkApplications and Statements (still within --allow-endpoint); without it, a parent that has one is told to remove it.")
	flag.Var(&f.disposable, "disposable-prefix", "A location (repeat it, or separate with commas) under which the data of a savepoint adopted from a FlinkStateSnapshot or a FlinkDeployment's status may be disposed, besides each cluster's own savepoint directory, e.g. s3://flink-savepoints/.")
	flag.StringVar(&f.certDNSNames, "cert-extra-dns-names", "", "Comma-separated further DNS names the self-issued serving certificate is valid for (with --cert-rotation), for an API server that reaches the webhook by URL instead of through --webhook-service, e.g. localhost.")
	flag.StringVar(&f.webhookClientCA, "webhook-client-ca-file", "", "PEM file of the CA that signs the client certificate the API server presents to the webhook (its --admission-control-config-file); when set, the webhook completes TLS only with a client holding such a certificate. Read at start.")
	flag.IntVar(&f.workers, "max-concurrent-reconciles", 8, "How many objects each controller works on at once (one object is never worked on twice at once). Savepoints behind a JobManager that does not answer take no worker while they wait (its circuit breaker answers for it), so a few workers serve many tenants; raise it for many slow JobManagers.")
	flag.DurationVar(&f.reconcileTimeout, "reconcile-timeout", time.Minute, "The longest one reconcile of a savepoint, a pool or a parent's finalizer may take (a session-mode parent's, which may upload a jar, has 15 minutes); one that takes longer is tried again.")
	flag.BoolVar(&f.version, "version", false, "Print the manager's version and exit.")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	if f.version {
		fmt.Println(version.Get())
		return
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))

	if err := run(f); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(f flags) error {
	if f.namespace == "" {
		return fmt.Errorf("--namespace is required (or set POD_NAMESPACE): the manager's own namespace")
	}
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(cmfv1.AddToScheme(scheme))

	config, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("reach the cluster: %w (set --kubeconfig or run in a pod)", err)
	}
	webhookOpts := webhook.Options{Port: f.webhookPort, CertDir: f.certDir}
	if f.webhookClientCA != "" {
		requireClientCerts, err := savepointwebhook.RequireClientCertificates(f.webhookClientCA)
		if err != nil {
			return err
		}
		webhookOpts.TLSOpts = append(webhookOpts.TLSOpts, requireClientCerts)
	}
	mgr, err := ctrl.NewManager(config, ctrl.Options{
		Scheme: scheme,
		// Nothing reads managedFields: the cache keeps none (about half of
		// a small object's size).
		Cache:                   cache.Options{DefaultTransform: cache.TransformStripManagedFields()},
		WebhookServer:           webhook.NewServer(webhookOpts),
		Metrics:                 metricsserver.Options{BindAddress: f.metricsAddr},
		HealthProbeBindAddress:  f.probeAddr,
		LeaderElection:          f.leaderElect,
		LeaderElectionID:        manager.LeaderElectionID,
		LeaderElectionNamespace: f.namespace,
		// A stopping leader hands over at once instead of after the lease expires.
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return fmt.Errorf("create manager: %w", err)
	}
	entries := f.allowEndpoints.values
	if len(entries) == 0 {
		entries = egress.DefaultEntries()
	}
	endpoints, err := egress.Parse(entries, egress.Options{AllowLoopback: f.allowLoopback})
	if err != nil {
		return fmt.Errorf("--allow-endpoint: %w", err)
	}
	cfg := manager.Config{
		Namespace:      f.namespace,
		ServiceAccount: f.serviceAccount,
		Controllers: controller.Options{
			RestURLTemplate:         f.restURLTemplate,
			JarCacheDir:             f.jarCacheDir,
			JarDir:                  f.jarDir,
			MaxJarBytes:             f.maxJarBytes,
			Endpoints:               endpoints,
			AllowRestURLAnnotation:  f.allowAnnotation,
			DisposablePrefixes:      f.disposable.values,
			BulkDeletePolicy:        retention.BulkDeletePolicy(f.bulkDeletePolicy),
			RetentionNamespace:      cmp.Or(f.retentionNS, f.namespace),
			MaxConcurrentReconciles: f.workers,
			ReconcileTimeout:        f.reconcileTimeout,
		},
	}
	if f.certRotation {
		cfg.CertRotation = &savepointwebhook.CertOptions{
			SecretName: f.certSecret, ServiceName: f.webhookService, CertDir: f.certDir,
			ExtraDNSNames:  splitList(f.certDNSNames),
			MutatingConfig: f.mutatingConfig, ValidatingConfig: f.validatingConfig,
		}
	}
	ctx := ctrl.SetupSignalHandler()
	if err := manager.Setup(ctx, mgr, cfg); err != nil {
		return err
	}
	return mgr.Start(ctx)
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(value string) []string {
	var items []string
	for item := range strings.SplitSeq(value, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}

// listFlag is a flag that may be repeated, each value a comma-separated list.
type listFlag struct{ values []string }

func (l *listFlag) String() string { return strings.Join(l.values, ",") }

func (l *listFlag) Set(v string) error {
	l.values = append(l.values, splitList(v)...)
	return nil
}
