package plugin_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/egress"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/manager"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/flinkharness"
	"github.com/kubectl-savepoint/kubectl-savepoint/plugin"
)

// system is everything the plugin talks to, for real: the API server with
// the webhook, the controller, and a Flink running application orders.
type system struct {
	env   *controlplane.Env
	ns    string
	flink *flinkharness.Cluster
}

func start(t *testing.T) *system {
	ctx := context.Background()
	env := controlplane.Start(t, controlplane.Options{Webhooks: true})
	require.NoError(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "savepoint-system"}}))
	_, _ = env.StartManager(t, func(ctx context.Context, mgr ctrl.Manager) error {
		return manager.Setup(ctx, mgr, manager.Config{Namespace: "savepoint-system", Controllers: controller.Options{SkipNameValidation: true, Endpoints: egress.LocalOnly(), AllowRestURLAnnotation: true}})
	})
	// A default savepoint directory, for savepoints taken without --path
	// (start --savepoint-first takes one as `create -a APP` does).
	cluster := flinkharness.Start(ctx, t, flinkharness.Options{JobName: "orders", SavepointDir: t.TempDir()})
	s := &system{env: env, flink: cluster, ns: env.Namespace(t)}
	for _, app := range []string{"orders", "payments"} {
		require.NoError(t, env.Client.Create(ctx, &cmfv1.FlinkApplication{
			ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: app, Annotations: map[string]string{cmfv1.RestURLAnnotation: cluster.RESTURL}},
			Spec:       cmfv1.FlinkApplicationSpec{Job: &cmfv1.JobSpec{JarURI: "local:///job.jar"}},
		}))
	}
	stmt := &cmfv1.Statement{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "clicks", Annotations: map[string]string{cmfv1.RestURLAnnotation: cluster.RESTURL}},
		Spec:       cmfv1.StatementSpec{Statement: "INSERT INTO s SELECT 1", ComputePoolName: "pool"},
	}
	require.NoError(t, env.Client.Create(ctx, stmt))
	// All three run the harness's job: their status names it, as the
	// manager's session or operator mode does for a job it runs (here the
	// pool does not exist and the operator is not installed, so the manager
	// only adds conditions beside it). The manager finds a parent's job by
	// that ID only, never by its name.
	for _, parent := range []cmfv1.Parent{
		&cmfv1.FlinkApplication{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "orders"}},
		&cmfv1.FlinkApplication{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "payments"}},
		&cmfv1.Statement{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "clicks"}},
	} {
		env.RecordJob(t, parent, cluster.JobID)
	}
	return s
}

// run runs `kubectl savepoint args...` in-process, as a user types it, with
// stdin as the answer to any question (not on a terminal).
func (s *system) run(stdin string, args ...string) (string, string, error) {
	return s.runIn(strings.NewReader(stdin), args...)
}

// runIn runs `kubectl savepoint args...` reading its standard input from in.
func (s *system) runIn(in io.Reader, args ...string) (string, string, error) {
	var out, errOut bytes.Buffer
	cmd := plugin.NewCmdSavepoint(genericiooptions.IOStreams{In: in, Out: &out, ErrOut: &errOut})
	cmd.SetArgs(append([]string{"--kubeconfig", s.env.Kubeconfig, "-n", s.ns}, args...))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

func TestCommands(t *testing.T) {
	s := start(t)
	dir := t.TempDir()

	// create --wait shows progress and ends COMPLETED.
	out, errOut, err := s.run("", "create", "first", "-a", "orders", "--path", dir, "--wait")
	require.NoError(t, err, errOut)
	assert.Equal(t, "savepoint/first created\n", out)
	assert.Contains(t, errOut, "TRIGGER_PENDING")
	assert.Contains(t, errOut, "COMPLETED  file:"+dir)

	t.Run("create: errors are one line naming the way out", func(t *testing.T) {
		tests := []struct {
			args []string
			want string
		}{
			{[]string{"create", "-a", "ghost"}, `spec.application "ghost" does not exist in namespace ` + s.ns + `: create the FlinkApplication first`},
			{[]string{"create", "-a", "orders", "--format", "aligned"}, `--format "ALIGNED": use CANONICAL or NATIVE`},
			{[]string{"create"}, "name the parent with --application NAME or --statement NAME"},
			{[]string{"create", "-a", "orders", "-s", "clicks"}, "--application and --statement name two parents: give one"},
			{[]string{"create", "-a", "orders", "--backoff-limit", "-2"}, "--backoff-limit -2: use -1"},
		}
		for _, tt := range tests {
			_, _, err := s.run("", tt.args...)
			require.Error(t, err, tt.args)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "\n")
		}
	})

	t.Run("create --dry-run=client prints the manifest", func(t *testing.T) {
		out, _, err := s.run("", "create", "dry", "-a", "orders", "--dry-run=client", "-o", "yaml")
		require.NoError(t, err)
		assert.Contains(t, out, "kind: Savepoint")
		assert.Contains(t, out, "application: orders")
		err = s.env.Client.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: "dry"}, &cmfv1.Savepoint{})
		assert.Error(t, err, "nothing created")
	})

	t.Run("list", func(t *testing.T) {
		_, errOut, err := s.run("", "create", "of-statement", "-s", "clicks", "--path", dir, "--wait")
		require.NoError(t, err, errOut)
		out, _, err := s.run("", "list")
		require.NoError(t, err)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		require.Len(t, lines, 3)
		assert.Equal(t, []string{"NAME", "STATE", "PARENT", "ORIGIN", "FORMAT", "PATH", "AGE"}, strings.Fields(lines[0]))
		assert.Equal(t, []string{"first", "COMPLETED", "application/orders", "MANUAL", "CANONICAL"}, strings.Fields(lines[1])[:5])

		out, _, err = s.run("", "list", "--origin", "manual", "-o", "name")
		require.NoError(t, err)
		assert.Equal(t, "savepoint.cmf.confluent.io/first\nsavepoint.cmf.confluent.io/of-statement\n", out)
		out, errOut, err = s.run("", "list", "--origin", "PERIODIC,UPGRADE")
		require.NoError(t, err)
		assert.Empty(t, out)
		assert.Equal(t, "No savepoints found in namespace "+s.ns+" of origin PERIODIC, UPGRADE.\n", errOut)

		out, _, err = s.run("", "list", "-a", "orders", "-o", "name")
		require.NoError(t, err)
		assert.Equal(t, "savepoint.cmf.confluent.io/first\n", out)

		out, _, err = s.run("", "get", "-s", "clicks", "-o", "jsonpath={.items[*].status.state}")
		require.NoError(t, err)
		assert.Equal(t, "COMPLETED", out)

		out, _, err = s.run("", "list", "-o", "wide", "--chunk-size", "1")
		require.NoError(t, err)
		assert.Contains(t, out, "FAILURES")
		assert.Contains(t, out, "MANUAL")
		assert.Len(t, strings.Split(strings.TrimSpace(out), "\n"), 3, "pages of one are all fetched")
	})

	t.Run("detach: a statement's savepoint is refused; an application's is kept", func(t *testing.T) {
		_, _, err := s.run("", "detach", "of-statement")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "Savepoints attached to a Statement cannot be detached")

		out, errOut, err := s.run("", "detach", "first", "--name", "kept-"+s.ns)
		require.NoError(t, err, errOut)
		assert.Contains(t, out, "savepoint/first detached as detachedsavepoint/kept-"+s.ns)
		out, _, err = s.run("", "list", "--detached")
		require.NoError(t, err)
		assert.Contains(t, out, "kept-"+s.ns)
		assert.Contains(t, out, "<detached>")
	})

	t.Run("import, and the parent delete the webhook refuses", func(t *testing.T) {
		out, _, err := s.run("", "import", "imported-"+s.ns, "--path", "file:///savepoints/elsewhere")
		require.NoError(t, err)
		assert.Equal(t, "detachedsavepoint/imported-"+s.ns+" imported\n", out)

		err = s.env.Client.Delete(context.Background(), &cmfv1.Statement{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "clicks"}})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "Statement clicks cannot be deleted while 1 savepoint(s) are attached (of-statement)")
	})

	t.Run("delete disposes; --force asks, then keeps the data", func(t *testing.T) {
		_, errOut, err := s.run("", "create", "doomed", "-a", "payments", "--path", dir, "--wait")
		require.NoError(t, err, errOut)
		sp := &cmfv1.Savepoint{}
		require.NoError(t, s.env.Client.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: "doomed"}, sp))
		out, errOut, err := s.run("", "delete", "doomed", "--wait")
		require.NoError(t, err, errOut)
		assert.Contains(t, out, "savepoint/doomed deleted; disposing its data at "+sp.Status.Path)
		assert.NoDirExists(t, flinkharness.LocalPath(sp.Status.Path))

		_, errOut, err = s.run("", "create", "orphan", "-a", "payments", "--path", dir, "--wait")
		require.NoError(t, err, errOut)
		_, errOut, err = s.run("n\n", "delete", "orphan", "--force")
		require.Error(t, err)
		assert.Contains(t, errOut, "stays in storage, orphaned. Continue? [y/N]")
		assert.Contains(t, err.Error(), "not deleted: confirm with y, or pass --yes")

		require.NoError(t, s.env.Client.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: "orphan"}, sp))
		out, errOut, err = s.run("", "delete", "orphan", "--force", "--yes", "--wait")
		require.NoError(t, err, errOut)
		assert.Contains(t, out, "its data at "+sp.Status.Path+" is kept, orphaned")
		assert.DirExists(t, flinkharness.LocalPath(sp.Status.Path))

		_, _, err = s.run("", "delete", "ghost")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "1 of 1 not deleted: ghost")
	})

	t.Run("describe shows status, events and the restore command", func(t *testing.T) {
		out, _, err := s.run("", "describe", "of-statement")
		require.NoError(t, err)
		for _, want := range []string{
			"Parent:", "Statement clicks", "State:", "COMPLETED", "Ready=True  Completed", "Triggered",
			"kubectl savepoint start --statement clicks --savepoint of-statement",
		} {
			assert.Contains(t, out, want)
		}
		out, _, err = s.run("", "describe", "--detached", "kept-"+s.ns)
		require.NoError(t, err)
		assert.Contains(t, out, "Savepoint "+s.ns+"/first of FlinkApplication orders")
		_, _, err = s.run("", "describe", "ghost")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "ghost not found in namespace "+s.ns+": list them with kubectl savepoint list")
	})

	t.Run("start redeploys from a savepoint by bumping the nonce", func(t *testing.T) {
		// clicks and payments run a job: --yes says its state may go.
		out, errOut, err := s.run("", "start", "-s", "clicks", "--savepoint", "of-statement", "--yes")
		require.NoError(t, err, errOut)
		assert.Equal(t, "statement/clicks redeploying from savepoint of-statement (savepointRedeployNonce 1)\n", out)
		assert.Empty(t, errOut, "--yes: no question, no warning")
		out, _, err = s.run("", "start", "-s", "clicks", "--savepoint", "of-statement", "-y")
		require.NoError(t, err)
		assert.Contains(t, out, "(savepointRedeployNonce 2)", "the same savepoint again still redeploys")

		out, errOut, err = s.run("", "start", "-a", "payments", "--savepoint", "kept-"+s.ns, "--allow-non-restored-state", "--yes")
		require.NoError(t, err, errOut)
		assert.Contains(t, out, "flinkapplication/payments redeploying from savepoint kept-"+s.ns)
		app := &cmfv1.FlinkApplication{}
		require.NoError(t, s.env.Client.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: "payments"}, app))
		assert.Equal(t, "kept-"+s.ns, app.Spec.Job.StartFromSavepoint.SavepointName)
		assert.True(t, *app.Spec.Job.StartFromSavepoint.AllowNonRestoredState)

		// A start point the webhook would refuse is refused before any question.
		_, errOut, err = s.run("", "start", "-s", "clicks", "--savepoint", "kept-"+s.ns)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "a Statement starts only from its own attached Savepoints")
		assert.Empty(t, errOut)
		_, _, err = s.run("", "start", "-s", "clicks", "--path", "s3://x")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "--path is for applications")
	})

	t.Run("start names the savepoint a running job would go back to, and its age", func(t *testing.T) {
		sp := &cmfv1.Savepoint{}
		require.NoError(t, s.env.Client.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: "of-statement"}, sp))
		require.NotNil(t, sp.Status.ResultTimestamp)
		dsp := &cmfv1.DetachedSavepoint{}
		require.NoError(t, s.env.Client.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: "kept-" + s.ns}, dsp))
		attached := []string{
			"statement clicks runs job " + s.flink.JobID + ": redeploying from savepoint of-statement at " + sp.Status.Path +
				" discards the state it built since then (taken " + sp.Status.ResultTimestamp.UTC().Format(time.RFC3339) + ", ",
			" ago). Take a savepoint first with --savepoint-first, or pass --yes.\n",
		}
		detached := []string{
			"application payments runs job " + s.flink.JobID + ": redeploying from detached savepoint " + dsp.Name + " at " + dsp.Spec.Path +
				" discards the state it built since then (its age unknown; registered ",
			" ago). Take a savepoint first with --savepoint-first, or pass --yes.\n",
		}
		tests := []struct {
			args []string
			want []string
		}{
			{[]string{"-s", "clicks", "--savepoint", "of-statement"}, attached},
			{[]string{"-s", "clicks", "--uid", string(sp.UID)}, attached},
			{[]string{"-a", "payments", "--savepoint", dsp.Name}, detached},
			{[]string{"-a", "payments", "--uid", string(dsp.UID)}, detached},
			{[]string{"-a", "payments", "--path", "s3://flink/savepoints/savepoint-1a2b3c"}, []string{
				"application payments runs job " + s.flink.JobID + ": redeploying from s3://flink/savepoints/savepoint-1a2b3c discards the state it built since then (its age unknown). Take a savepoint first with --savepoint-first, or pass --yes.\n",
			}},
		}
		for _, tt := range tests {
			_, errOut, err := s.run("", append([]string{"start"}, tt.args...)...)
			require.Error(t, err, tt.args)
			assert.Contains(t, err.Error(), "runs job "+s.flink.JobID+" and there is no terminal to confirm on: pass --yes to discard its state, or --savepoint-first to keep it in a savepoint first", tt.args)
			for _, want := range tt.want {
				assert.Contains(t, errOut, want, tt.args)
			}
			assert.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %s", errOut)
		}
	})

	t.Run("start asks before a redeploy discards a running job's state", s.testStartGuard)

	t.Run("completion names savepoints and parents", func(t *testing.T) {
		out, _, err := s.run("", "__complete", "describe", "of-")
		require.NoError(t, err)
		assert.Contains(t, out, "of-statement\n")
		out, _, err = s.run("", "__complete", "create", "--application", "pay")
		require.NoError(t, err)
		assert.Contains(t, out, "payments\n")
	})

	t.Run("--dry-run on every command that writes changes nothing", func(t *testing.T) {
		before := &cmfv1.SavepointList{}
		require.NoError(t, s.env.Client.List(context.Background(), before, client.InNamespace(s.ns)))
		for _, args := range [][]string{
			{"create", "-a", "orders", "--dry-run=server"},
			{"delete", "of-statement", "--dry-run=server"},
			{"delete", "of-statement", "--dry-run"},
			{"abandon", "wait-me", "--dry-run=server"},
			{"import", "dry-" + s.ns, "--path", "s3://x", "--dry-run=server"},
			{"start", "-a", "orders", "--path", "s3://x", "--dry-run=server"},
		} {
			out, errOut, err := s.run("", args...)
			if args[0] == "abandon" {
				require.Error(t, err) // no such savepoint: the dry run still checks
				continue
			}
			if args[0] == "delete" && args[2] == "--dry-run=server" {
				// clicks starts from it (start above): the dry run meets the
				// restore-point guard as a real delete would.
				require.Error(t, err)
				assert.Contains(t, errOut, "Statement clicks starts from it (spec.startFromSavepoint)")
				continue
			}
			require.NoError(t, err, "%v: %s", args, errOut)
			assert.Contains(t, out, "dry run", args)
		}
		after := &cmfv1.SavepointList{}
		require.NoError(t, s.env.Client.List(context.Background(), after, client.InNamespace(s.ns)))
		assert.Len(t, after.Items, len(before.Items))
		err := s.env.Client.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: "dry-" + s.ns}, &cmfv1.DetachedSavepoint{})
		assert.Error(t, err, "nothing imported")
		_, _, err = s.run("", "create", "-a", "ghost", "--dry-run=server")
		require.Error(t, err, "a server dry run meets the webhook")
		assert.Contains(t, err.Error(), `spec.application "ghost" does not exist`)
	})

	t.Run("wait and abandon", func(t *testing.T) {
		out, _, err := s.run("", "wait", "of-statement", "--for", "completed", "--timeout", "10s")
		require.NoError(t, err)
		assert.Equal(t, "savepoint/of-statement COMPLETED\n", out)
		_, _, err = s.run("", "abandon", "of-statement")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "savepoint of-statement is already COMPLETED: nothing to abandon")
		_, _, err = s.run("", "wait", "of-statement", "--for", "done")
		require.Error(t, err)
		assert.Contains(t, err.Error(), `--for "done": use TRIGGER_PENDING`)
	})

	// Last: with the policy controller running, the policies it creates take
	// savepoints of this namespace's parents.
	t.Run("policy: create, list, describe, suspend, resume, run request", s.testPolicy)
}

// TestThroughKubectl proves plugin discovery: the built binary on PATH is
// found and run by the real kubectl.
func TestThroughKubectl(t *testing.T) {
	env := controlplane.Start(t, controlplane.Options{})
	bin := t.TempDir()
	root := controlplane.RepoRoot(t)
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "kubectl-savepoint"), "./cmd/kubectl-savepoint")
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))

	kubectl := func(args ...string) string {
		cmd := exec.Command(env.Kubectl, append(args, "--kubeconfig", env.Kubeconfig)...)
		cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "kubectl %s: %s", strings.Join(args, " "), out)
		return string(out)
	}
	assert.Contains(t, kubectl("plugin", "list"), filepath.Join(bin, "kubectl-savepoint"))
	assert.Contains(t, kubectl("savepoint", "version"), "Server Version: v1.37.2")

	ns := env.Namespace(t)
	// No webhook here: the CRD's own defaults and rules hold.
	assert.Equal(t, "savepoint/sp created\n", kubectl("savepoint", "create", "sp", "-a", "orders", "-n", ns))
	listed := kubectl("savepoint", "list", "-n", ns)
	assert.Contains(t, listed, "application/orders")
	assert.Contains(t, listed, "CANONICAL")
}
