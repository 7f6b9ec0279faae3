package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
)

// TestPlayground starts the playground as `make dev` does, takes one
// savepoint through the plugin, asks which manager runs, deletes a
// namespace, and stops it with Ctrl-C.
func TestPlayground(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole playground; run it with `make test`")
	}
	root := controlplane.RepoRoot(t)
	bin := t.TempDir()
	// The binaries `make build` builds, stamped as it stamps them, and the
	// playground, which runs the manager from here (--manager-binary): a
	// fresh clone needs no `make build` first.
	ldflags := "-X github.com/kubectl-savepoint/kubectl-savepoint/internal/version.Version=" + testVersion
	for pkg, name := range map[string]string{"./e2e/playground": "playground", "./cmd/kubectl-savepoint": "kubectl-savepoint", "./cmd/savepoint-manager": "savepoint-manager"} {
		build := exec.Command("go", "build", "-ldflags", ldflags, "-o", filepath.Join(bin, name), pkg)
		build.Dir = root
		out, err := build.CombinedOutput()
		require.NoError(t, err, string(out))
	}
	state := t.TempDir()
	kubeconfig, path := startPlayground(t, bin, state, root)
	env := append(os.Environ(), "KUBECONFIG="+kubeconfig, "PATH="+bin+":"+path+":"+os.Getenv("PATH"))
	run := func(name string, args ...string) string {
		cmd := exec.Command(filepath.Join(bin, name), args...)
		if name == "kubectl" {
			cmd = exec.Command(filepath.Join(path, "kubectl"), args...)
		}
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		return string(out)
	}
	out := run("kubectl-savepoint", "create", "-a", "demo", "--wait")
	assert.Contains(t, out, "COMPLETED  file:"+filepath.Join(state, "savepoints"))
	saved := run("kubectl", "get", "savepoints", "-n", "default", "-l", "cmf.confluent.io/application=demo", "-o", "jsonpath={.items[0].status.path}")
	require.NotEmpty(t, saved)
	out = run("kubectl-savepoint", "create", "-s", "demo-sql", "--wait")
	assert.Contains(t, out, "COMPLETED")
	// The manager that runs is the binary built above.
	out = run("kubectl-savepoint", "version")
	assert.Contains(t, out, "Client Version: "+testVersion+" ")
	assert.Contains(t, out, "Manager Version: "+testVersion+" ")
	// kube-controller-manager runs beside the API server: a deleted
	// namespace is emptied and goes away (kubectl waits until it has).
	run("kubectl", "create", "namespace", "scratch")
	run("kubectl", "delete", "namespace", "scratch", "--timeout=60s")
	assert.FileExists(t, filepath.Join(state, "kube-controller-manager.log"))
	stopPlayground(t)

	// A second run keeps the resources; the new Flink runs the demo jobs
	// again, the application from the savepoint of the first run.
	kubeconfig, path = startPlayground(t, bin, state, root)
	env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "PATH="+bin+":"+path+":"+os.Getenv("PATH"))
	assert.Equal(t, saved, run("kubectl", "get", "fapp", "demo", "-n", "default", "-o", "jsonpath={.status.jobStatus.restoredFrom}"),
		"the demo application continued from the first run's savepoint")
	assert.Equal(t, "RUNNING", run("kubectl", "get", "fstmt", "demo-sql", "-n", "default", "-o", "jsonpath={.status.phase}"))

	// Through kubectl, as a user would: redeploy from that savepoint and wait
	// (the job runs and there is no terminal to ask on: --yes).
	name := run("kubectl", "get", "savepoints", "-n", "default", "-l", "cmf.confluent.io/application=demo", "-o", "jsonpath={.items[0].metadata.name}")
	out = run("kubectl", "savepoint", "start", "-a", "demo", "--savepoint", name, "--yes", "--wait")
	assert.Contains(t, out, "flinkapplication/demo redeploying from savepoint "+name)
	assert.Contains(t, out, "restored from "+saved)
	stopPlayground(t)
}

// testVersion is stamped into the binaries the test builds.
const testVersion = "v0.0.0-playground.test"

var playground *exec.Cmd

// startPlayground starts the playground and returns the KUBECONFIG and the
// kubectl folder it printed.
func startPlayground(t *testing.T, bin, state, root string) (string, string) {
	t.Helper()
	pg := exec.Command(filepath.Join(bin, "playground"), "--dir", state, "--manager-binary", filepath.Join(bin, "savepoint-manager"))
	pg.Dir = root
	pg.Stderr = os.Stderr
	stdout, err := pg.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, pg.Start())
	t.Cleanup(func() { _ = pg.Process.Kill() })
	playground = pg
	ready := make(chan []string, 1)
	go func() {
		var lines []string
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			lines = append(lines, scanner.Text())
			if scanner.Text() == "playground ready" {
				ready <- lines
			}
		}
	}()
	var printed []string
	select {
	case printed = <-ready:
	case <-time.After(5 * time.Minute):
		t.Fatal("the playground did not print 'playground ready' within 5 minutes")
	}
	var kubeconfig, path string
	for _, line := range printed {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "export KUBECONFIG="); ok {
			kubeconfig = v
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "export PATH="); ok {
			path, _, _ = strings.Cut(v, ":$PATH")
		}
	}
	require.NotEmpty(t, kubeconfig)
	require.NotEmpty(t, path, "the printed PATH line names kubectl's folder")
	path = path[strings.LastIndex(path, ":")+1:]
	return kubeconfig, path
}

// stopPlayground presses Ctrl-C.
func stopPlayground(t *testing.T) {
	t.Helper()
	require.NoError(t, playground.Process.Signal(syscall.SIGINT))
	done := make(chan error, 1)
	go func() { done <- playground.Wait() }()
	select {
	case err := <-done:
		assert.NoError(t, err, "Ctrl-C stops the playground cleanly")
	case <-time.After(time.Minute):
		t.Fatal("the playground did not stop within a minute of Ctrl-C")
	}
}
