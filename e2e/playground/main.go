// Command playground runs kubectl-savepoint locally, for real: a control
// plane (kube-apiserver and etcd, its data kept under .cache/playground, and
// kube-controller-manager for namespace deletion, garbage collection and
// ClusterRole aggregation), the CRDs and webhook configurations, the manager (webhook and controllers)
// serving locally, a real Flink session cluster with its SQL Gateway as the
// ComputePool "local", a demo FlinkApplication and a demo Statement whose
// jobs run there. It prints what to paste, then runs until Ctrl-C.
//
//	make dev   # or: go run ./e2e/playground
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/rules"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/flinkharness"
	savepointwebhook "github.com/kubectl-savepoint/kubectl-savepoint/internal/webhook"
)

const (
	managerNamespace = "savepoint-system"
	demoNamespace    = "default"
)

func main() {
	dir := flag.String("dir", "", "Folder for the playground's state (default: .cache/playground in the repository).")
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.WarnLevel)))
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := controlplane.FindRepoRoot()
	if err != nil {
		return err
	}
	if dir == "" {
		dir = filepath.Join(root, ".cache", "playground")
	}
	if err := os.MkdirAll(filepath.Join(dir, "etcd"), 0o755); err != nil {
		return err
	}
	step := func(format string, args ...any) { fmt.Fprintf(os.Stderr, "playground: "+format+"\n", args...) }

	step("building the control plane (cached after the first run)")
	assets, err := controlplane.BuildAssets(root)
	if err != nil {
		return err
	}
	step("starting kube-apiserver and etcd (state in %s)", dir)
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join(root, "manifests", "crd")},
		ErrorIfCRDPathMissing: true,
		Scheme:                controlplane.NewScheme(),
		WebhookInstallOptions: envtest.WebhookInstallOptions{Paths: []string{filepath.Join(root, "manifests", "webhook")}},
		ControlPlane:          envtest.ControlPlane{Etcd: &envtest.Etcd{DataDir: filepath.Join(dir, "etcd")}},
	}
	cfg, err := env.Start()
	if err != nil {
		return fmt.Errorf("start the control plane: %w", err)
	}
	defer func() {
		step("stopping the control plane")
		_ = env.Stop()
	}()
	admin, err := env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return err
	}
	kubeconfig, err := admin.KubeConfig()
	if err != nil {
		return err
	}
	kubeconfigPath := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfigPath, kubeconfig, 0o600); err != nil {
		return err
	}
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		return err
	}
	cmLog := filepath.Join(dir, "kube-controller-manager.log")
	step("starting kube-controller-manager (namespace deletion, garbage collection, ClusterRole aggregation; log in %s)", cmLog)
	cm, err := controlplane.StartControllerManager(assets, kubeconfigPath, cmLog)
	if err != nil {
		return err
	}
	defer func() {
		step("stopping kube-controller-manager")
		if err := cm.Stop(); err != nil {
			step("%v", err)
		}
	}()
	readyCtx, cancelReady := context.WithTimeout(ctx, 90*time.Second)
	defer cancelReady()
	if err := cm.WaitReady(readyCtx, c); err != nil {
		return fmt.Errorf("%w (log in %s)", err, cmLog)
	}
	if err := ensure(ctx, c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: managerNamespace}}); err != nil {
		return err
	}

	step("starting the manager (webhook on %s:%d, controllers)", env.WebhookInstallOptions.LocalServingHost, env.WebhookInstallOptions.LocalServingPort)
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:  env.Scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		WebhookServer: webhook.NewServer(webhook.Options{
			Host: env.WebhookInstallOptions.LocalServingHost, Port: env.WebhookInstallOptions.LocalServingPort,
			CertDir: env.WebhookInstallOptions.LocalServingCertDir,
		}),
	})
	if err != nil {
		return err
	}
	if err := rules.AddIndexes(ctx, mgr.GetFieldIndexer()); err != nil {
		return err
	}
	if err := savepointwebhook.Setup(ctx, mgr, savepointwebhook.Options{ClaimNamespace: managerNamespace}); err != nil {
		return err
	}
	if err := controller.Setup(mgr, controller.Options{}); err != nil {
		return err
	}
	mgrCtx, stopMgr := context.WithCancel(ctx)
	mgrDone := make(chan error, 1)
	go func() { mgrDone <- mgr.Start(mgrCtx) }()
	defer func() {
		stopMgr()
		<-mgrDone
	}()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		return errors.New("the manager's cache did not sync")
	}

	step("starting Flink with its SQL Gateway (the first run builds it with Maven)")
	cluster, err := flinkharness.StartProcess(ctx, flinkharness.Options{
		SQLGateway: true, SavepointDir: filepath.Join(dir, "savepoints"),
		WorkDir: filepath.Join(dir, "flink"), Logf: step,
	})
	if err != nil {
		return err
	}
	defer func() {
		step("stopping Flink")
		_ = cluster.Stop()
	}()

	step("creating ComputePool local, FlinkApplication demo and Statement demo-sql; the manager runs their jobs")
	if err := demoObjects(ctx, c, cluster); err != nil {
		return err
	}
	if err := waitRunning(ctx, c, cluster.RESTURL, step); err != nil {
		return err
	}

	fmt.Printf(`
The playground runs. In another shell:

  export KUBECONFIG=%s
  export PATH=%s:%s:$PATH   # kubectl-savepoint (run make build first) and kubectl
  kubectl savepoint create -a demo --wait
  kubectl savepoint create -s demo-sql --wait
  kubectl savepoint list

Flink's dashboard: %s   SQL Gateway: %s
Ctrl-C stops everything; the next run keeps the resources (savepoint data in %s).
playground ready
`, kubeconfigPath, filepath.Join(root, "bin"), assets, cluster.RESTURL, cluster.SQLGatewayURL, filepath.Join(dir, "savepoints"))

	select {
	case <-ctx.Done():
	case err := <-mgrDone:
		return fmt.Errorf("the manager stopped: %w", err)
	case <-cluster.Exited():
		return fmt.Errorf("the Flink cluster stopped:\n%s", cluster.OutputTail(20))
	}
	step("stopping")
	return nil
}

// demoStatement is the demo Statement's SQL: its tables, then the job.
const demoStatement = `CREATE TEMPORARY TABLE clicks (region STRING, n BIGINT)
  WITH ('connector' = 'datagen', 'rows-per-second' = '10', 'fields.region.length' = '1');
CREATE TEMPORARY TABLE clicks_per_region (region STRING, total BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO clicks_per_region SELECT region, SUM(n) FROM clicks GROUP BY region;`

// demoObjects creates (or, on a later run, updates) the ComputePool, the
// application and the statement. The manager runs their jobs on the pool;
// on a later run, with a new Flink, it redeploys them from their latest
// savepoints.
func demoObjects(ctx context.Context, c client.Client, cluster *flinkharness.Cluster) error {
	pool := &cmfv1.ComputePool{ObjectMeta: metav1.ObjectMeta{Namespace: demoNamespace, Name: "local"}}
	if _, err := controllerutil.CreateOrUpdate(ctx, c, pool, func() error {
		pool.Spec = cmfv1.ComputePoolSpec{RestURL: cluster.RESTURL, SQLGatewayURL: cluster.SQLGatewayURL}
		return nil
	}); err != nil {
		return fmt.Errorf("compute pool: %w", err)
	}
	app := &cmfv1.FlinkApplication{ObjectMeta: metav1.ObjectMeta{Namespace: demoNamespace, Name: "demo"}}
	if _, err := controllerutil.CreateOrUpdate(ctx, c, app, func() error {
		app.Spec.ComputePoolName = "local"
		if app.Spec.Job == nil {
			app.Spec.Job = &cmfv1.JobSpec{UpgradeMode: cmfv1.UpgradeSavepoint}
		}
		app.Spec.Job.JarURI = "file://" + cluster.JarPath
		app.Spec.Job.EntryClass = flinkharness.StatefulJobEntryClass
		app.Spec.Job.Args = []string{"--job-name", "demo"}
		return nil
	}); err != nil {
		return fmt.Errorf("application: %w", err)
	}
	stmt := &cmfv1.Statement{ObjectMeta: metav1.ObjectMeta{Namespace: demoNamespace, Name: "demo-sql"}}
	if _, err := controllerutil.CreateOrUpdate(ctx, c, stmt, func() error {
		stmt.Spec.Statement = demoStatement
		stmt.Spec.ComputePoolName = "local"
		return nil
	}); err != nil {
		return fmt.Errorf("statement: %w", err)
	}
	return nil
}

// waitRunning waits until the manager runs both demo jobs.
func waitRunning(ctx context.Context, c client.Client, restURL string, step func(string, ...any)) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	fc, err := flink.New(restURL, flink.Options{})
	if err != nil {
		return err
	}
	for {
		app, stmt := &cmfv1.FlinkApplication{}, &cmfv1.Statement{}
		appErr := c.Get(ctx, client.ObjectKey{Namespace: demoNamespace, Name: "demo"}, app)
		stmtErr := c.Get(ctx, client.ObjectKey{Namespace: demoNamespace, Name: "demo-sql"}, stmt)
		// Asked of this run's Flink: the status may still tell of the last run's.
		if appErr == nil && stmtErr == nil && runs(ctx, fc, app.Status.JobStatus.JobID) && runs(ctx, fc, stmt.Status.JobStatus.JobID) &&
			app.Status.LifecycleState == "RUNNING" && stmt.Status.Phase == "RUNNING" {
			step("demo job %s and demo-sql job %s run", app.Status.JobStatus.JobID, stmt.Status.JobStatus.JobID)
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the demo jobs did not start: application %q (%s), statement %q (%s); see kubectl describe fapp demo / fstmt demo-sql",
				app.Status.LifecycleState, app.Status.Error, stmt.Status.Phase, stmt.Status.Error)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// runs reports whether the job runs on the cluster.
func runs(ctx context.Context, fc *flink.Client, jobID string) bool {
	if jobID == "" {
		return false
	}
	state, err := fc.JobState(ctx, jobID)
	return err == nil && state == "RUNNING"
}

func ensure(ctx context.Context, c client.Client, obj client.Object) error {
	if err := c.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}
