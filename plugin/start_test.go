package plugin_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/flinkharness"
)

// testStartGuard runs `start` against applications whose status says what
// their job does, as the manager writes it (no Flink Kubernetes Operator
// runs here); the savepoints --savepoint-first takes are real, taken by the
// controller from the harness's Flink.
func (s *system) testStartGuard(t *testing.T) {
	running := cmfv1.JobStatus{JobID: s.flink.JobID, State: "RUNNING"}
	const from = "file:///savepoints/before-the-migration"
	tests := []struct {
		name string
		// triggerRefused puts a proxy in front of the harness's Flink that
		// answers every savepoint trigger 400.
		triggerRefused bool
		job            cmfv1.JobStatus
		lifecycle      string
		args           []string
		// answer is typed on a terminal; "" runs without one.
		answer string

		wantErr      string
		wantOut      []string
		wantErrOut   []string
		quiet        bool // nothing on stderr
		redeployed   bool
		savepointNow cmfv1.SavepointState // the state of the savepoint taken first; "" none taken
	}{{
		name: "running, no terminal: refused, nothing written",
		job:  running, args: []string{"--path", from},
		wantErr:    "not redeployed: application {app} runs job " + s.flink.JobID + " and there is no terminal to confirm on: pass --yes to discard its state, or --savepoint-first to keep it in a savepoint first",
		wantErrOut: []string{"application {app} runs job " + s.flink.JobID + ": redeploying from " + from + " discards the state it built since then (its age unknown). Take a savepoint first with --savepoint-first, or pass --yes.\n"},
	}, {
		name: "running as the session mode says it (lifecycleState RUNNING): refused",
		job:  cmfv1.JobStatus{JobID: s.flink.JobID}, lifecycle: "RUNNING", args: []string{"--path", from},
		wantErr: "there is no terminal to confirm on",
	}, {
		name: "running, --yes: redeployed without a word",
		job:  running, args: []string{"--path", from, "--yes"},
		quiet: true, redeployed: true,
	}, {
		name: "running, on a terminal, answered n: refused",
		job:  running, args: []string{"--path", from}, answer: "n\n",
		wantErr:    "not redeployed: confirm with y, or pass --yes or --savepoint-first",
		wantErrOut: []string{"discards the state it built since then", "or pass --yes.\nRedeploy anyway? [y/N] "},
	}, {
		name: "running, on a terminal, answered y: redeployed",
		job:  running, args: []string{"--path", from}, answer: "y\n",
		wantErrOut: []string{"Redeploy anyway? [y/N] "},
		redeployed: true,
	}, {
		name: "running, --dry-run=server: told, not asked, nothing kept",
		job:  running, args: []string{"--path", from, "--dry-run=server"},
		wantOut:    []string{"(server dry run)"},
		wantErrOut: []string{"discards the state it built since then"},
	}, {
		name: "suspended: no question",
		job:  cmfv1.JobStatus{JobID: s.flink.JobID, State: "FINISHED"}, lifecycle: "SUSPENDED", args: []string{"--path", from},
		quiet: true, redeployed: true,
	}, {
		name: "failed: no question",
		job:  cmfv1.JobStatus{JobID: s.flink.JobID, State: "FAILED"}, lifecycle: "FAILED", args: []string{"--path", from},
		quiet: true, redeployed: true,
	}, {
		name:  "no job yet: no question",
		args:  []string{"--path", from},
		quiet: true, redeployed: true,
	}, {
		name: "--savepoint-first: a savepoint of the running job, then the redeploy without a question",
		job:  running, args: []string{"--path", from, "--savepoint-first"},
		wantOut:    []string{" created\n", " taken first at file:"},
		wantErrOut: []string{"COMPLETED  file:"},
		redeployed: true, savepointNow: cmfv1.StateCompleted,
	}, {
		name:           "--savepoint-first, the savepoint FAILED: no redeploy",
		triggerRefused: true, // Flink refuses the trigger as malformed: FAILED at once
		job:            running, args: []string{"--path", from, "--savepoint-first"},
		wantErr:      "is FAILED: ",
		savepointNow: cmfv1.StateFailed,
	}, {
		name: "--savepoint-first, the job is gone (savepoint ABANDONED): no redeploy",
		job:  cmfv1.JobStatus{JobID: "0123456789abcdef0123456789abcdef", State: "RUNNING"}, args: []string{"--path", from, "--savepoint-first"},
		wantErr:      "is ABANDONED: ",
		savepointNow: cmfv1.StateAbandoned,
	}, {
		name:       "--savepoint-first, no job: nothing to take, redeployed",
		args:       []string{"--path", from, "--savepoint-first"},
		wantErrOut: []string{"application {app} runs no job: no savepoint to take first\n"},
		redeployed: true,
	}}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			name := fmt.Sprintf("guarded-%d", i)
			restURL := s.flink.RESTURL
			if tt.triggerRefused {
				proxy := flinkharness.NewFaultProxy(t, s.flink.RESTURL)
				proxy.Fail(http.MethodPost, `^/jobs/[^/]+/savepoints$`, http.StatusBadRequest, -1)
				restURL = proxy.URL
			}
			app := &cmfv1.FlinkApplication{
				ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: name, Annotations: map[string]string{cmfv1.RestURLAnnotation: restURL}},
				Spec:       cmfv1.FlinkApplicationSpec{Job: &cmfv1.JobSpec{JarURI: "local:///job.jar"}},
			}
			require.NoError(t, s.env.Client.Create(ctx, app))
			if tt.job != (cmfv1.JobStatus{}) || tt.lifecycle != "" {
				require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
					if err := s.env.Client.Get(ctx, client.ObjectKeyFromObject(app), app); err != nil {
						return err
					}
					app.Status.JobStatus, app.Status.LifecycleState = tt.job, tt.lifecycle
					return s.env.Client.Status().Update(ctx, app)
				}))
			}

			var in io.Reader = strings.NewReader("")
			if tt.answer != "" {
				tty, keyboard := openTerminal(t)
				_, err := io.WriteString(keyboard, tt.answer)
				require.NoError(t, err)
				in = tty
			}
			out, errOut, err := s.runIn(in, append([]string{"start", "-a", name}, tt.args...)...)
			t.Logf("$ kubectl savepoint start -a %s %s\n%s%s(error: %v)", name, strings.Join(tt.args, " "), out, errOut, err)
			expand := func(s string) string { return strings.ReplaceAll(s, "{app}", name) }
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), expand(tt.wantErr))
				assert.NotContains(t, err.Error(), "\n")
			} else {
				require.NoError(t, err, errOut)
			}
			for _, want := range tt.wantOut {
				assert.Contains(t, out, expand(want))
			}
			for _, want := range tt.wantErrOut {
				assert.Contains(t, errOut, expand(want))
			}
			if tt.quiet {
				assert.Empty(t, errOut)
			}

			require.NoError(t, s.env.Client.Get(ctx, client.ObjectKeyFromObject(app), app))
			if tt.redeployed {
				require.NotNil(t, app.Spec.Job.SavepointRedeployNonce)
				assert.Equal(t, int64(1), *app.Spec.Job.SavepointRedeployNonce)
				assert.Equal(t, from, app.Spec.Job.StartFromSavepoint.InitialSavepointPath, "redeployed from the savepoint asked for, not from the one taken first")
				assert.Contains(t, out, "flinkapplication/"+name+" redeploying from path "+from+" (savepointRedeployNonce 1)")
			} else {
				assert.Nil(t, app.Spec.Job.SavepointRedeployNonce, "nonce unchanged")
				assert.Nil(t, app.Spec.Job.StartFromSavepoint)
				assert.NotContains(t, out, "(savepointRedeployNonce 1)\n", "no redeploy said done (a dry run says it would)")
			}

			var taken cmfv1.SavepointList
			require.NoError(t, s.env.Client.List(ctx, &taken, client.InNamespace(s.ns), client.MatchingLabels{cmfv1.ApplicationLabel: name}))
			if tt.savepointNow == "" {
				assert.Empty(t, taken.Items, "no savepoint taken")
				return
			}
			require.Len(t, taken.Items, 1)
			sp := taken.Items[0]
			assert.Equal(t, tt.savepointNow, sp.Status.State)
			if tt.savepointNow == cmfv1.StateCompleted {
				assert.Contains(t, out, "savepoint/"+sp.Name+" taken first at "+sp.Status.Path+"\n")
				assert.DirExists(t, flinkharness.LocalPath(sp.Status.Path))
				assert.Less(t, strings.Index(out, " taken first at "), strings.Index(out, " redeploying from "), "the savepoint first, then the redeploy")
			} else {
				assert.Contains(t, err.Error(), "not redeployed: savepoint "+sp.Name+" is "+string(tt.savepointNow)+": ")
			}
		})
	}
}
