package controlplane

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// controllers are the kube-controller-manager controllers a control plane
// without nodes needs: without them a deleted namespace stays Terminating,
// ownerReferences are never followed, and view, edit and admin grant nothing
// of what is labelled to aggregate into them. The project's data safety
// depends on all three, so the tests must see them happen.
var controllers = []string{"namespace-controller", "garbage-collector-controller", "clusterrole-aggregation-controller"}

// ControllerManager is a running kube-controller-manager.
type ControllerManager struct {
	// LogPath is the file its standard output and error go to.
	LogPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	err     error // how it exited, once exited is closed
}

// StartControllerManager runs the kube-controller-manager of assets against
// the API server that kubeconfig reaches as an administrator, with its log
// in logPath. It returns once the process runs; WaitReady waits for its
// controllers.
func StartControllerManager(assets, kubeconfig, logPath string) (*ControllerManager, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("kube-controller-manager log: %w", err)
	}
	cmd := exec.Command(filepath.Join(assets, "kube-controller-manager"),
		"--kubeconfig="+kubeconfig,
		"--controllers="+strings.Join(controllers, ","),
		"--leader-elect=false",
		"--secure-port=0", // nothing to serve: readiness is seen in the API server
	)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return nil, fmt.Errorf("start kube-controller-manager from %s (e2e/tools/build.sh builds it): %w", assets, err)
	}
	m := &ControllerManager{LogPath: logPath, cmd: cmd, exited: make(chan struct{})}
	go func() {
		m.err = cmd.Wait()
		_ = log.Close()
		close(m.exited)
	}()
	return m, nil
}

// WaitReady waits until the controllers work: the aggregation controller
// has filled view, edit and admin (Aggregated), and the garbage collector,
// which collects nothing before it has listed every resource, has deleted a
// canary whose owner never existed. (The namespace controller starts with
// them; it always waits 5 s after a namespace's deletion before emptying it.)
func (m *ControllerManager) WaitReady(ctx context.Context, c client.Client) error {
	canary := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Namespace: metav1.NamespaceSystem, Name: "controlplane-gc-canary",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "controlplane-gc-canary-owner", UID: "never-existed"}},
	}}
	if err := c.Create(ctx, canary); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create the garbage collector's canary: %w", err)
	}
	var last error
	err := wait.PollUntilContextCancel(ctx, 20*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		select {
		case <-m.exited:
			return false, fmt.Errorf("kube-controller-manager exited (%v):\n%s", m.err, m.LogTail(20, false))
		default:
		}
		if last = Aggregated(ctx, c); last != nil {
			return false, nil
		}
		err := c.Get(ctx, client.ObjectKeyFromObject(canary), &corev1.ConfigMap{})
		switch {
		case apierrors.IsNotFound(err):
			return true, nil
		case err != nil:
			last = err
		default:
			last = fmt.Errorf("the garbage collector has not deleted configmap %s/%s, whose owner never existed", canary.Namespace, canary.Name)
		}
		return false, nil
	})
	if err != nil && last != nil {
		return fmt.Errorf("kube-controller-manager not ready: %w: %v", err, last)
	}
	return err
}

// Stop stops it (SIGTERM; SIGKILL after 10 s) and waits until it has exited.
func (m *ControllerManager) Stop() error {
	select {
	case <-m.exited:
		return nil
	default:
	}
	if err := m.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop kube-controller-manager: %w", err)
	}
	select {
	case <-m.exited:
		return nil
	case <-time.After(10 * time.Second):
	}
	_ = m.cmd.Process.Kill()
	<-m.exited
	return fmt.Errorf("kube-controller-manager did not stop within 10s of SIGTERM; killed")
}

// LogTail returns the last n lines of its log; with problemsOnly, of its
// warnings and errors only (klog's W, E and F lines).
func (m *ControllerManager) LogTail(n int, problemsOnly bool) string {
	data, err := os.ReadFile(m.LogPath)
	if err != nil {
		return err.Error()
	}
	var lines []string
	for line := range strings.Lines(string(data)) {
		if !problemsOnly || strings.IndexAny(line[:1], "WEF") == 0 {
			lines = append(lines, strings.TrimRight(line, "\n"))
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// runControllerManager starts kube-controller-manager for t and returns once
// its controllers work. It is stopped when t ends, before the API server
// (whose cleanup was registered first); if t failed, its warnings and errors
// are shown.
func runControllerManager(t testing.TB, assets, kubeconfig string, c client.Client) *ControllerManager {
	t.Helper()
	m, err := StartControllerManager(assets, kubeconfig, filepath.Join(t.TempDir(), "kube-controller-manager.log"))
	require.NoError(t, err)
	t.Cleanup(func() {
		if err := m.Stop(); err != nil {
			t.Log(err)
		}
		if !t.Failed() {
			return
		}
		if problems := m.LogTail(40, true); problems != "" {
			t.Logf("kube-controller-manager's warnings and errors, the last ones:\n%s", problems)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	require.NoError(t, m.WaitReady(ctx, c))
	return m
}
