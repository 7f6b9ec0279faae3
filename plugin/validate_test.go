package plugin_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-savepoint/kubectl-savepoint/plugin"
)

// TestValidation: bad input is refused with one line naming the flag and the
// way out, before any cluster is reached (the kubeconfig names none that
// answers).
func TestValidation(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
contexts: [{name: c, context: {cluster: c, user: u, namespace: team-a}}]
current-context: c
users: [{name: u, user: {token: t}}]
`), 0o600))
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"create"}, "name the parent with --application NAME or --statement NAME"},
		{[]string{"create", "-a", "x", "-s", "y"}, "--application and --statement name two parents: give one"},
		{[]string{"create", "-a", "x", "--format", "aligned"}, `--format "ALIGNED": use CANONICAL or NATIVE`},
		{[]string{"create", "-a", "x", "--backoff-limit", "-3"}, "--backoff-limit -3: use -1 (retry until it succeeds), 0 (no retry) or more"},
		{[]string{"create", "-a", "x", "--dry-run=maybe"}, `--dry-run="maybe": use "client", "server" or "none"`},
		{[]string{"create", "-a", "x", "-o", "toml"}, `unable to match a printer suitable for the output format "toml"`},
		{[]string{"create", "a", "b", "-a", "x"}, "accepts at most 1 arg(s), received 2"},
		{[]string{"list", "--detached", "-a", "x"}, "--detached savepoints have no parent: drop --application/--statement"},
		{[]string{"list", "-o", "custom-columns=NAME"}, `-o custom-columns: "NAME" is not NAME:JSONPATH`},
		{[]string{"list", "--chunk-size", "-1"}, "--chunk-size must be 0 or more"},
		{[]string{"delete", "x", "--force", "--detached"}, "--force is for attached savepoints"},
		{[]string{"import", "x"}, "--path is required: the exact, complete location of the savepoint"},
		{[]string{"start", "-a", "x"}, "name the savepoint with exactly one of --savepoint NAME, --uid UID or --path PATH"},
		{[]string{"start", "-a", "x", "--savepoint", "a", "--uid", "b"}, "exactly one of --savepoint NAME, --uid UID or --path PATH"},
		{[]string{"start", "-s", "x", "--path", "s3://x"}, "--path is for applications"},
		{[]string{"wait", "x", "--for", "done"}, `--for "done": use TRIGGER_PENDING, IN_PROGRESS, COMPLETED, FAILED or ABANDONED`},
		{[]string{"abandon"}, "requires at least 1 arg(s), only received 0"},
		{[]string{"list", "--origin", "nightly"}, `--origin "NIGHTLY": use MANUAL, PERIODIC, UPGRADE, SUSPEND, IMPORTED`},
		{[]string{"policy", "create", "p", "--schedule", "0 25 * * *"}, `--schedule "0 25 * * *": `},
		{[]string{"policy", "create", "p"}, "the policy would do nothing: give --schedule"},
		{[]string{"policy", "create", "p", "--schedule", "@daily", "--blackout", "0 9 * * 1-5"}, `--blackout "0 9 * * 1-5": write CRON/DURATION`},
		{[]string{"policy", "create", "p", "--keep-last", "2", "--retain-origin", "MANUAL"}, "--retain-origin MANUAL: a policy never deletes MANUAL or IMPORTED savepoints"},
		{[]string{"policy", "run", "p", "--wait", "--dry-run"}, "--wait and --dry-run: a dry run requests nothing to wait for; drop one"},
		{[]string{"policy", "suspend"}, "requires at least 1 arg(s), only received 0"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			cmd := plugin.NewCmdSavepoint(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
			cmd.SetArgs(append(tt.args, "--kubeconfig", kubeconfig))
			cmd.SetOut(&out)
			cmd.SetErr(&errOut)
			err := cmd.Execute()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "\n", "one line")
			assert.Empty(t, out.String(), "nothing printed as if it worked")
		})
	}
}
