package plugin_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/version"
	"github.com/kubectl-savepoint/kubectl-savepoint/plugin"
)

// TestVersion: `kubectl savepoint version` shows the client's build, the
// API server's, and what the manager published, to a user with no rights
// but those manifests/rbac gives everyone; when the manager's version
// cannot be read it says why in one line and still succeeds.
func TestVersion(t *testing.T) {
	env := controlplane.Start(t, controlplane.Options{})
	ctx := context.Background()
	for _, ns := range []string{"savepoint-system", "flink-system"} {
		require.NoError(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	}
	_, errOut, err := env.RunKubectl(ctx, "apply", "-n", "savepoint-system", "-k", filepath.Join(controlplane.RepoRoot(t), "manifests", "rbac"))
	require.NoError(t, err, errOut)
	jane, err := env.Env.AddUser(envtest.User{Name: "jane"}, nil)
	require.NoError(t, err)
	kubeconfig, err := jane.KubeConfig()
	require.NoError(t, err)
	janeKubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(janeKubeconfig, kubeconfig, 0o600))

	run := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		cmd := plugin.NewCmdSavepoint(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
		cmd.SetArgs(append([]string{"version", "--kubeconfig", janeKubeconfig}, args...))
		cmd.SetOut(&out)
		cmd.SetErr(&errOut)
		require.NoError(t, cmd.Execute(), errOut.String())
		assert.Empty(t, errOut.String())
		return out.String()
	}
	client := "Client Version: " + version.Get().String() + "\n"

	assert.Equal(t, client+"Server Version: v1.37.2\n"+
		"Manager Version: unknown (no ConfigMap savepoint-manager-version in namespace savepoint-system: is the manager running there? --manager-namespace names another)\n",
		run(), "no manager has published its version")

	started := time.Date(2026, 11, 25, 7, 54, 30, 0, time.UTC)
	published := version.Published{
		Info:      version.Info{Version: "v0.1.0", Commit: "abc1234", GoVersion: "go1.26.0", Platform: "linux/arm64"},
		StartTime: started,
	}
	for _, ns := range []string{"savepoint-system", "flink-system"} {
		require.NoError(t, env.Client.Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: version.ConfigMapName},
			Data:       published.Data(),
		}))
	}
	assert.Equal(t, client+"Server Version: v1.37.2\n"+
		"Manager Version: v0.1.0 (commit abc1234, go1.26.0, linux/arm64), started 2026-11-25T07:54:30Z\n",
		run(), "every user may read the manager's version")

	assert.Equal(t, client+"Server Version: v1.37.2\n"+
		"Manager Version: unknown (you may not read ConfigMap flink-system/savepoint-manager-version: manifests/rbac's Role savepoint-manager-version-reader lets every user read it)\n",
		run("--manager-namespace", "flink-system"), "the reader Role is bound in the manager's namespace only")

	assert.Equal(t, client, run("--client"))
}
