package main_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/flinkharness"
)

// TestDeployment runs the savepoint-manager binary as manifests/default's
// Deployment runs it: the container's args and env, the image's entrypoint
// and user, a read-only root with only the declared volumes writable, no
// capabilities, and its ServiceAccount's token with the rendered RBAC. It
// must answer admission, take a savepoint of a session-mode application on
// a real Flink, and deploy that application from an http:// jar, which it
// keeps in its jar cache volume.
func TestDeployment(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("runs the manager confined as in its pod (a mount namespace, a read-only root, another user): needs root on Linux")
	}
	env := controlplane.Start(t, controlplane.Options{})
	ctx := context.Background()
	pod := newManagerPod(t, env)
	pod.install(t, env)
	// The flags the Deployment does not have: the API server here reaches
	// the webhook at localhost, not at the Service's name; Flink and the
	// jar server listen on loopback, not at Services of the namespace.
	pod.start(t, env, "--cert-extra-dns-names=localhost", "--allow-loopback-endpoints", "--allow-endpoint=127.0.0.1")
	pod.waitProbe(t, pod.container.ReadinessProbe, 2*time.Minute)
	pod.waitProbe(t, pod.container.LivenessProbe, 10*time.Second)
	pod.assertConfined(t)

	ns := env.Namespace(t)
	// The manager injects its CA into the webhook configurations once it
	// is ready; the API server then trusts the webhook. Only the webhook
	// words this denial.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		ghost := &cmfv1.Savepoint{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "probe"}, Spec: cmfv1.SavepointSpec{Application: "ghost"}}
		err := env.Client.Create(ctx, ghost, client.DryRunAll)
		if assert.Error(c, err) {
			assert.Contains(c, err.Error(), `spec.application "ghost" does not exist in namespace `+ns)
		}
	}, 30*time.Second, 100*time.Millisecond, "admission answered by the manager's webhook")

	metrics := fmt.Sprintf("http://127.0.0.1:%d/metrics", pod.hostPort(t, intstr.FromString("metrics")))
	resp, err := http.Get(metrics)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), "controller_runtime_reconcile_total")
	assert.Contains(t, string(body), "process_cpu_seconds_total", "the process metrics read /proc")

	cluster := flinkharness.Start(ctx, t, flinkharness.Options{SavepointDir: t.TempDir()})
	var downloads atomic.Int32
	jars := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/jobs/orders.jar" {
			http.NotFound(w, r)
			return
		}
		downloads.Add(1)
		http.ServeFile(w, r, cluster.JarPath)
	}))
	t.Cleanup(jars.Close)

	require.NoError(t, env.Client.Create(ctx, &cmfv1.ComputePool{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pool"}, Spec: cmfv1.ComputePoolSpec{RestURL: cluster.RESTURL},
	}))
	app := &cmfv1.FlinkApplication{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orders"},
		Spec: cmfv1.FlinkApplicationSpec{ComputePoolName: "pool", Job: &cmfv1.JobSpec{
			JarURI: jars.URL + "/jobs/orders.jar", EntryClass: flinkharness.StatefulJobEntryClass,
			Args: []string{"--job-name", "orders"}, Parallelism: ptr.To[int32](1), UpgradeMode: cmfv1.UpgradeSavepoint,
		}},
	}
	require.NoError(t, env.Client.Create(ctx, app))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.NoError(c, env.Client.Get(ctx, client.ObjectKeyFromObject(app), app))
		assert.Equal(c, "RUNNING", app.Status.LifecycleState, "error %q, conditions %+v", app.Status.Error, app.Status.Conditions)
		assert.Equal(c, "RUNNING", app.Status.JobStatus.State)
	}, 2*time.Minute, 100*time.Millisecond, "the application deployed from its http:// jar runs on the pool")
	want := fileSHA256(t, cluster.JarPath)
	require.NotNil(t, app.Status.Session)
	assert.Equal(t, want, app.Status.Session.JarSHA256, "the uploaded jar's checksum")
	assert.Positive(t, downloads.Load(), "the manager downloaded the jar")

	// The jar is in the jar cache volume, as the manager's root shows it.
	cacheDir := flagValue(t, pod.container.Args, "--jar-cache-dir")
	cached, err := filepath.Glob(filepath.Join(fmt.Sprintf("/proc/%d/root", pod.pid), cacheDir, "*"))
	require.NoError(t, err)
	require.Len(t, cached, 1, "one jar, no partial download, in %s", cacheDir)
	assert.Equal(t, want, fileSHA256(t, cached[0]))

	// A Savepoint without a name: the mutating webhook names and labels it.
	sp := &cmfv1.Savepoint{ObjectMeta: metav1.ObjectMeta{Namespace: ns}, Spec: cmfv1.SavepointSpec{Application: "orders"}}
	require.NoError(t, env.Client.Create(ctx, sp))
	assert.True(t, strings.HasPrefix(sp.Name, "orders-"), "named by the webhook: %q", sp.Name)
	assert.Equal(t, "orders", sp.Labels[cmfv1.ApplicationLabel], "labelled by the webhook")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.NoError(c, env.Client.Get(ctx, client.ObjectKeyFromObject(sp), sp))
		assert.Equal(c, cmfv1.StateCompleted, sp.Status.State, "error %q", sp.Status.Error)
	}, time.Minute, 100*time.Millisecond, "savepoint %s of the running job", sp.Name)
	assert.Equal(t, app.Status.JobStatus.JobID, sp.Status.JobID)
	assert.FileExists(t, filepath.Join(flinkharness.LocalPath(sp.Status.Path), "_metadata"), "the savepoint's data, written by Flink")

	assert.NotContains(t, pod.logs.String(), "read-only file system", "the manager wrote nowhere but its volumes")
}

// flagValue is the value of --name=value among args.
func flagValue(t *testing.T, args []string, name string) string {
	t.Helper()
	for _, arg := range args {
		if value, ok := strings.CutPrefix(arg, name+"="); ok {
			return value
		}
	}
	require.Failf(t, "no such flag", "%s in %v", name, args)
	return ""
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
