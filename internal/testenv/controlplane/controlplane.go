// Package controlplane starts a real kube-apiserver and etcd for integration
// tests, through controller-runtime's envtest, with the project's CRDs
// installed, and beside them kube-controller-manager with the controllers a
// cluster without nodes still runs: namespace deletion, garbage collection
// and ClusterRole aggregation. The binaries are built from the Go module
// proxy by e2e/tools/build.sh (cached under .cache/controlplane), so nothing
// is downloaded and nothing is mocked.
package controlplane

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

// Env is a running control plane with the project's CRDs installed.
type Env struct {
	// Config reaches the API server as an administrator.
	Config *rest.Config
	// Client is an administrator's client that knows the project's kinds.
	Client client.Client
	// Scheme holds the built-in kinds and the project's.
	Scheme *runtime.Scheme
	// Kubeconfig is the path of an administrator's kubeconfig file, for kubectl.
	Kubeconfig string
	// Kubectl is the path of the kubectl built with the control plane.
	Kubectl string
	// Env is envtest's environment, for users and webhook options.
	Env *envtest.Environment
	// ControllerManager deletes namespaces, collects garbage and aggregates
	// ClusterRoles.
	ControllerManager *ControllerManager
	// WebhookClientCA is the PEM file of the CA that signs the client
	// certificate kube-apiserver presents to webhooks
	// (Options.WebhookClientAuth); empty otherwise.
	WebhookClientCA string
	// webhooks: the webhook configurations are installed (Options.Webhooks).
	webhooks bool
}

// Options changes how the control plane starts.
type Options struct {
	// Webhooks registers the webhook configurations of manifests/webhook,
	// pointed at a server the test runs (see StartManager).
	Webhooks bool
	// ExtraCRDDirs are installed beside the project's CRDs (e.g. the Flink
	// Kubernetes Operator's).
	ExtraCRDDirs []string
	// ShippedWebhooks installs them (with Webhooks) as a cluster gets them
	// (RenderWebhooks): under the names the manager's role may write, with
	// their namespaceSelector. Otherwise as controller-gen generates them.
	ShippedWebhooks bool
	// WebhookClientAuth has kube-apiserver present a client certificate to
	// the webhooks (its admission configuration), signed by the CA in
	// Env.WebhookClientCA, as a cluster admin configures it for the
	// webhook's client-certificate verification.
	WebhookClientAuth bool
	// WebhookHost is the host the webhook configurations' URLs name; the
	// server still listens on 127.0.0.1. Default 127.0.0.1; a manager that
	// makes its own certificate, which names DNS names only, needs one,
	// e.g. localhost.
	WebhookHost string
}

// Start starts a control plane for t and stops it when t ends, whether the
// test passed or not. It returns once kube-controller-manager's controllers
// work (WaitReady), so no test races them.
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs a real control plane; run it with `make test`")
	}
	root := RepoRoot(t)
	assets := Assets(t)

	scheme := NewScheme()
	var webhooks envtest.WebhookInstallOptions
	if opts.Webhooks {
		webhooks.Paths = []string{filepath.Join(root, "manifests", "webhook")}
		if opts.ShippedWebhooks {
			rendered, err := RenderWebhooks(assets, root, t.TempDir())
			require.NoError(t, err)
			webhooks.Paths = []string{rendered}
		}
		webhooks.LocalServingHostExternalName = opts.WebhookHost
	}
	te := &envtest.Environment{
		BinaryAssetsDirectory:    assets,
		CRDDirectoryPaths:        append([]string{filepath.Join(root, "manifests", "crd")}, opts.ExtraCRDDirs...),
		ErrorIfCRDPathMissing:    true,
		Scheme:                   scheme,
		WebhookInstallOptions:    webhooks,
		ControlPlaneStartTimeout: 90 * time.Second,
		ControlPlaneStopTimeout:  30 * time.Second,
	}
	var clientCA string
	if opts.WebhookClientAuth {
		var err error
		clientCA, err = configureWebhookClientAuth(te, t.TempDir())
		require.NoError(t, err)
	}
	cfg, err := te.Start()
	require.NoError(t, err, "start kube-apiserver and etcd from %s", assets)
	t.Cleanup(func() {
		if err := te.Stop(); err != nil {
			t.Logf("stop control plane: %v", err)
		}
	})

	c, err := client.New(cfg, client.Options{Scheme: scheme})
	require.NoError(t, err)

	admin, err := te.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	require.NoError(t, err)
	kubeconfig, err := admin.KubeConfig()
	require.NoError(t, err)
	kubeconfigPath := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(kubeconfigPath, kubeconfig, 0o600))

	return &Env{
		Config:            cfg,
		Client:            c,
		Scheme:            scheme,
		Kubeconfig:        kubeconfigPath,
		Kubectl:           filepath.Join(assets, "kubectl"),
		Env:               te,
		ControllerManager: runControllerManager(t, assets, kubeconfigPath, c),
		WebhookClientCA:   clientCA,
		webhooks:          opts.Webhooks,
	}
}

// Connect reaches a control plane that another process of the same test
// run started (Start), through that control plane's administrator
// kubeconfig: a fuzz target's workers, which must not each start one (see
// FuzzAdmission). Nothing is started or stopped here; the process that
// started it stops it.
func Connect(t testing.TB, kubeconfig string) *Env {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	require.NoError(t, err, "read the control plane's kubeconfig %s", kubeconfig)
	scheme := NewScheme()
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	require.NoError(t, err)
	return &Env{Config: cfg, Client: c, Scheme: scheme, Kubeconfig: kubeconfig, Kubectl: filepath.Join(Assets(t), "kubectl")}
}

// NewScheme returns a scheme with the built-in kinds and the project's.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(cmfv1.AddToScheme(s))
	return s
}

// Namespace creates a namespace with a unique name for t.
func (e *Env) Namespace(t testing.TB) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "test-"}}
	require.NoError(t, e.Client.Create(context.Background(), ns))
	return ns.Name
}

// RunKubectl runs the control plane's kubectl with an administrator's
// kubeconfig and returns its standard output, standard error and error.
func (e *Env) RunKubectl(ctx context.Context, args ...string) (string, string, error) {
	cmd := exec.CommandContext(ctx, e.Kubectl, append([]string{"--kubeconfig", e.Kubeconfig}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// Assets returns the folder with kube-apiserver, kube-controller-manager,
// etcd and kubectl: the one KUBEBUILDER_ASSETS names, else the cached build
// of e2e/tools (built now if missing; concurrent callers wait for one build).
func Assets(t testing.TB) string {
	t.Helper()
	dir, err := BuildAssets(RepoRoot(t))
	require.NoError(t, err)
	return dir
}

// BuildAssets is Assets for a program: root is the repository's folder.
func BuildAssets(root string) (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	cmd := exec.Command("bash", filepath.Join(root, "e2e", "tools", "build.sh"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("build the control plane with e2e/tools/build.sh: %w: %s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1], nil
}

// RepoRoot returns the folder of the project's go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	root, err := FindRepoRoot()
	require.NoError(t, err)
	return root
}

// FindRepoRoot walks up from the working directory to the project's go.mod.
func FindRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(data, []byte("module github.com/kubectl-savepoint/kubectl-savepoint\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of github.com/kubectl-savepoint/kubectl-savepoint above the working directory")
		}
		dir = parent
	}
}

// RunKubectlStdin is RunKubectl with stdin as the command's standard input.
func (e *Env) RunKubectlStdin(ctx context.Context, stdin string, args ...string) (string, string, error) {
	cmd := exec.CommandContext(ctx, e.Kubectl, append([]string{"--kubeconfig", e.Kubeconfig}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}
