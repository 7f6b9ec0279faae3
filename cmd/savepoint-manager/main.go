// Command savepoint-manager is the webhook server and the controllers of
// kubectl-savepoint in one process. It only wires flags to packages.
package main

import (
	"flag"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/controller"
	"github.com/kubectl-savepoint/kubectl-savepoint/rules"
	savepointwebhook "github.com/kubectl-savepoint/kubectl-savepoint/webhook"
)

func main() {
	var (
		webhookPort      = flag.Int("webhook-port", 9443, "Port the admission webhook serves TLS on.")
		certDir          = flag.String("cert-dir", "/tmp/k8s-webhook-server/serving-certs", "Folder with the webhook's tls.crt and tls.key.")
		metricsAddr      = flag.String("metrics-bind-address", ":8080", "Address the /metrics endpoint binds to; 0 turns it off.")
		probeAddr        = flag.String("health-probe-bind-address", ":8081", "Address the /healthz and /readyz probes bind to.")
		leaderElect      = flag.Bool("leader-elect", true, "Elect one active controller among replicas; every replica serves the webhook.")
		restURLTemplate  = flag.String("rest-url-template", controller.DefaultRestURLTemplate, "Where a parent's JobManager REST API is when neither its cmf.confluent.io/rest-url annotation nor a ComputePool says; {name} and {namespace} are replaced.")
		managerNamespace = flag.String("namespace", os.Getenv("POD_NAMESPACE"), "The manager's namespace: it holds the leader-election Lease and the DetachedSavepoint name claims (default $POD_NAMESPACE).")
	)
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))

	if err := run(*webhookPort, *certDir, *metricsAddr, *probeAddr, *leaderElect, *managerNamespace, *restURLTemplate); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(webhookPort int, certDir, metricsAddr, probeAddr string, leaderElect bool, namespace, restURLTemplate string) error {
	if namespace == "" {
		return fmt.Errorf("--namespace is required (or set POD_NAMESPACE): the manager's own namespace")
	}
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(cmfv1.AddToScheme(scheme))

	config, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("reach the cluster: %w (set --kubeconfig or run in a pod)", err)
	}
	mgr, err := ctrl.NewManager(config, ctrl.Options{
		Scheme:                  scheme,
		WebhookServer:           webhook.NewServer(webhook.Options{Port: webhookPort, CertDir: certDir}),
		Metrics:                 metricsserver.Options{BindAddress: metricsAddr},
		HealthProbeBindAddress:  probeAddr,
		LeaderElection:          leaderElect,
		LeaderElectionID:        "savepoint-manager.cmf.confluent.io",
		LeaderElectionNamespace: namespace,
		// A stopping leader hands over at once instead of after the lease expires.
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return fmt.Errorf("create manager: %w", err)
	}
	ctx := ctrl.SetupSignalHandler()
	if err := rules.AddIndexes(ctx, mgr.GetFieldIndexer()); err != nil {
		return err
	}
	if err := savepointwebhook.Setup(ctx, mgr, savepointwebhook.Options{ClaimNamespace: namespace}); err != nil {
		return fmt.Errorf("set up the webhook: %w", err)
	}
	if err := controller.Setup(mgr, controller.Options{RestURLTemplate: restURLTemplate}); err != nil {
		return fmt.Errorf("set up the controllers: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("webhook", mgr.GetWebhookServer().StartedChecker()); err != nil {
		return err
	}
	return mgr.Start(ctx)
}
