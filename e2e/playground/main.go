// Command playground runs kubectl-savepoint locally, for real: a control
// plane (kube-apiserver and etcd, its data kept under .cache/playground, and
// kube-controller-manager for namespace deletion, garbage collection and
// ClusterRole aggregation) with the CRDs, the webhook configurations and
// manifests/rbac, the savepoint-manager binary that `make build` builds
// (run as its service account, with the flags a user passes, its log
// streamed here), a real Flink session cluster with its SQL Gateway as the
// ComputePool "local", and a demo FlinkApplication and a demo Statement
// whose jobs run there. It prints what to paste, then runs until Ctrl-C.
//
//	make dev   # or: make build && go run ./e2e/playground
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap/zapcore"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/flinkharness"
)

const (
	managerNamespace      = "savepoint-system"
	managerServiceAccount = "savepoint-manager"
	demoNamespace         = "default"
)

func main() {
	dir := flag.String("dir", "", "Folder for the playground's state (default: .cache/playground in the repository).")
	managerBinary := flag.String("manager-binary", "", "The savepoint-manager binary to run (default: bin/savepoint-manager in the repository, which `make build` builds).")
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.WarnLevel)))
	if err := run(*dir, *managerBinary); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(dir, managerBinary string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := controlplane.FindRepoRoot()
	if err != nil {
		return err
	}
	if dir == "" {
		dir = filepath.Join(root, ".cache", "playground")
	}
	if managerBinary == "" {
		managerBinary = filepath.Join(root, "bin", "savepoint-manager")
	}
	// Now, not after minutes of starting the rest.
	if _, err := os.Stat(managerBinary); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no savepoint-manager binary at %s: run `make build` first (`make dev` does), or name one with --manager-binary", managerBinary)
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
	// The webhook configurations as a cluster gets them from
	// manifests/webhook (named savepoint-manager-mutating and -validating,
	// the manager's defaults and the ones its role may write), reaching
	// the manager at https://localhost:<port>/<path>.
	webhooks, err := controlplane.RenderWebhooks(assets, root, dir)
	if err != nil {
		return err
	}
	step("starting kube-apiserver and etcd (state in %s)", dir)
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join(root, "manifests", "crd")},
		ErrorIfCRDPathMissing: true,
		Scheme:                controlplane.NewScheme(),
		WebhookInstallOptions: envtest.WebhookInstallOptions{
			Paths: []string{webhooks},
			// The manager's own serving certificate names DNS names only.
			LocalServingHostExternalName: "localhost",
		},
		ControlPlane: envtest.ControlPlane{Etcd: &envtest.Etcd{DataDir: filepath.Join(dir, "etcd")}},
	}
	cfg, err := env.Start()
	if err != nil {
		return fmt.Errorf("start the control plane: %w", err)
	}
	defer func() {
		step("stopping the control plane")
		_ = env.Stop()
	}()
	kubeconfigPath := filepath.Join(dir, "kubeconfig")
	if err := writeKubeconfig(env, envtest.User{Name: "admin", Groups: []string{"system:masters"}}, kubeconfigPath); err != nil {
		return err
	}
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		return err
	}
	if err := removeUnshippedWebhooks(ctx, c); err != nil {
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
	step("applying manifests/rbac: the manager's rights, the users' roles")
	apply := exec.CommandContext(ctx, filepath.Join(assets, "kubectl"), "--kubeconfig", kubeconfigPath,
		"apply", "--server-side", "--force-conflicts", "-n", managerNamespace, "-k", filepath.Join(root, "manifests", "rbac"))
	if out, err := apply.CombinedOutput(); err != nil {
		return fmt.Errorf("kubectl apply -k manifests/rbac: %w\n%s", err, out)
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
	// Before the manager starts: on a later run it finds the pool at this
	// run's Flink at once, and the jobs of the last run gone with theirs.
	step("creating ComputePool local")
	if err := demoPool(ctx, c, cluster); err != nil {
		return err
	}

	managerKubeconfig := filepath.Join(dir, "savepoint-manager.kubeconfig")
	// Its service account's user name: the webhook knows the manager's own
	// requests by it, and manifests/rbac grants it the manager's rights.
	if err := writeKubeconfig(env, envtest.User{
		Name:   "system:serviceaccount:" + managerNamespace + ":" + managerServiceAccount,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + managerNamespace},
	}, managerKubeconfig); err != nil {
		return err
	}
	args := managerArgs(dir, managerKubeconfig, filepath.Dir(cluster.JarPath), env.WebhookInstallOptions.LocalServingPort)
	step("starting the manager: %s %s", managerBinary, strings.Join(args, " "))
	mgr, err := startManager(managerBinary, args, os.Stderr, "savepoint-manager: ")
	if err != nil {
		return err
	}
	defer func() {
		step("stopping the manager")
		if err := mgr.stop(); err != nil {
			step("the manager: %v", err)
		}
	}()
	if err := waitAdmission(ctx, c, mgr); err != nil {
		return err
	}

	step("creating FlinkApplication demo, Statement demo-sql and SavepointPolicy hourly; the manager runs their jobs")
	if err := demoParents(ctx, c, cluster); err != nil {
		return err
	}
	if err := waitRunning(ctx, c, cluster.RESTURL, mgr, step); err != nil {
		return err
	}

	fmt.Printf(`
The playground runs. In another shell:

  export KUBECONFIG=%s
  export PATH=%s:%s:$PATH   # kubectl-savepoint (run make build first) and kubectl
  kubectl savepoint create -a demo --wait
  kubectl savepoint create -s demo-sql --wait
  kubectl savepoint list
  kubectl savepoint version

Flink's dashboard: %s   SQL Gateway: %s
The manager is %s (pid %d); its log is the lines above marked savepoint-manager:.
Ctrl-C stops everything; the next run keeps the resources (savepoint data in %s).
playground ready
`, kubeconfigPath, filepath.Join(root, "bin"), assets, cluster.RESTURL, cluster.SQLGatewayURL, managerBinary, mgr.cmd.Process.Pid, filepath.Join(dir, "savepoints"))

	select {
	case <-ctx.Done():
	case <-mgr.Exited():
		return fmt.Errorf("the manager stopped: %v (its log is above)", mgr.Err())
	case <-cluster.Exited():
		return fmt.Errorf("the Flink cluster stopped:\n%s", cluster.OutputTail(20))
	}
	step("stopping")
	return nil
}

// managerArgs are the flags a user passes to run the manager outside a
// pod against the playground's control plane.
func managerArgs(dir, kubeconfig, jarDir string, webhookPort int) []string {
	return []string{
		"--kubeconfig=" + kubeconfig,
		"--namespace=" + managerNamespace,
		"--service-account=" + managerServiceAccount,
		// The manager makes its own certificates (--cert-rotation, the
		// default), kept in a Secret across runs; the API server calls the
		// webhook at https://localhost:<port>.
		"--webhook-port=" + strconv.Itoa(webhookPort),
		"--cert-dir=" + filepath.Join(dir, "webhook-certs"),
		"--cert-extra-dns-names=localhost",
		"--jar-cache-dir=" + filepath.Join(dir, "jars"),
		// Everything runs on this machine: the pool's Flink listens on
		// loopback and the demo application's jar is a local file.
		"--allow-loopback-endpoints",
		"--allow-endpoint=127.0.0.1,localhost",
		"--jar-dir=" + jarDir,
		// Off: fixed ports would clash with a second playground (its test
		// runs one while `make dev` may run another).
		"--metrics-bind-address=0",
		"--health-probe-bind-address=0",
		"--zap-encoder=console",
	}
}

// writeKubeconfig writes a kubeconfig of a new user of the control plane.
func writeKubeconfig(env *envtest.Environment, user envtest.User, path string) error {
	u, err := env.AddUser(user, nil)
	if err != nil {
		return fmt.Errorf("user %s: %w", user.Name, err)
	}
	kubeconfig, err := u.KubeConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig of %s: %w", user.Name, err)
	}
	return os.WriteFile(path, kubeconfig, 0o600)
}

// waitAdmission waits until the API server reaches the manager's webhook,
// trusting its certificate: a dry-run Savepoint of an application that
// does not exist is denied by the webhook itself. The manager first makes
// its CA and serving certificate (kept in a Secret across runs) and puts
// the CA into the webhook configurations.
func waitAdmission(ctx context.Context, c client.Client, mgr *managerProcess) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	probe := &cmfv1.Savepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: demoNamespace, Name: "playground-admission-probe"},
		Spec:       cmfv1.SavepointSpec{Application: "playground-admission-probe"},
	}
	var err error
	for {
		err = c.Create(ctx, probe.DeepCopy(), client.DryRunAll)
		if err != nil && strings.Contains(err.Error(), "denied the request") {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the API server does not reach the manager's webhook: %v", err)
		case <-mgr.Exited():
			return fmt.Errorf("the manager exited: %v (its log is above)", mgr.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// demoStatement is the demo Statement's SQL: its tables, then the job.
const demoStatement = `CREATE TEMPORARY TABLE clicks (region STRING, n BIGINT)
  WITH ('connector' = 'datagen', 'rows-per-second' = '10', 'fields.region.length' = '1');
CREATE TEMPORARY TABLE clicks_per_region (region STRING, total BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO clicks_per_region SELECT region, SUM(n) FROM clicks GROUP BY region;`

// demoPool creates (or, on a later run, points at this run's Flink) the
// ComputePool local.
func demoPool(ctx context.Context, c client.Client, cluster *flinkharness.Cluster) error {
	pool := &cmfv1.ComputePool{ObjectMeta: metav1.ObjectMeta{Namespace: demoNamespace, Name: "local"}}
	if _, err := controllerutil.CreateOrUpdate(ctx, c, pool, func() error {
		pool.Spec = cmfv1.ComputePoolSpec{RestURL: cluster.RESTURL, SQLGatewayURL: cluster.SQLGatewayURL}
		return nil
	}); err != nil {
		return fmt.Errorf("compute pool: %w", err)
	}
	return nil
}

// demoParents creates (or, on a later run, updates) the application and
// the statement; the webhook admits them. The manager runs their jobs on
// the pool; on a later run, with a new Flink, it deploys them again from
// their latest savepoints.
func demoParents(ctx context.Context, c client.Client, cluster *flinkharness.Cluster) error {
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
	// The namespace's default SavepointPolicy: a savepoint of each demo job
	// every hour, spread over 5 minutes, the newest 5 of them kept.
	policy := &cmfv1.SavepointPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: demoNamespace, Name: "hourly"}}
	if _, err := controllerutil.CreateOrUpdate(ctx, c, policy, func() error {
		policy.Spec.Schedule = "@hourly"
		policy.Spec.Jitter = &metav1.Duration{Duration: 5 * time.Minute}
		policy.Spec.Retention = &cmfv1.Retention{KeepLast: ptr.To[int32](5)}
		return nil
	}); err != nil {
		return fmt.Errorf("savepoint policy: %w", err)
	}
	return nil
}

// waitRunning waits until the manager runs both demo jobs.
func waitRunning(ctx context.Context, c client.Client, restURL string, mgr *managerProcess, step func(string, ...any)) error {
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
		case <-mgr.Exited():
			return fmt.Errorf("the manager exited: %v (its log is above)", mgr.Err())
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

// removeUnshippedWebhooks deletes the webhook configurations a playground
// before this one kept in its state under the names controller-gen gives
// them: they would still call a manager at that run's port, and fail
// every request they intercept.
func removeUnshippedWebhooks(ctx context.Context, c client.Client) error {
	for _, obj := range []client.Object{
		&admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "mutating-webhook-configuration"}},
		&admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "validating-webhook-configuration"}},
	} {
		if err := c.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete the webhook configuration %s of an earlier playground: %w", obj.GetName(), err)
		}
	}
	return nil
}

func ensure(ctx context.Context, c client.Client, obj client.Object) error {
	if err := c.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}
