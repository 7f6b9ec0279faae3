package policy

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdtesting"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdutil"
)

// token is the run request made at now.
const token = "2026-11-25T10:00:00Z"

// takes is the manager carrying out a run request: it creates the
// savepoints (labelled with the policy, annotated with the request), then
// records the request in the policy's status.
func takes(request string, savepoints ...*cmfv1.Savepoint) cmdtesting.Change {
	return func(c client.Client) error {
		ctx := context.Background()
		for _, sp := range savepoints {
			if err := c.Create(ctx, sp); err != nil {
				return err
			}
		}
		p := &cmfv1.SavepointPolicy{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "nightly"}, p); err != nil {
			return err
		}
		p.Status.LastRunRequest = request
		return c.Status().Update(ctx, p)
	}
}

func periodic(name, policy, request string, spec cmfv1.SavepointSpec) *cmfv1.Savepoint {
	spec.FormatType = cmfv1.FormatNative
	return &cmfv1.Savepoint{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, Name: name, CreationTimestamp: metav1.NewTime(now),
			Labels:      map[string]string{cmfv1.PolicyLabel: policy},
			Annotations: map[string]string{cmfv1.RunRequestAnnotation: request},
		},
		Spec:   spec,
		Status: cmfv1.SavepointStatus{State: cmfv1.StateTriggerPending, Origin: cmfv1.OriginPeriodic},
	}
}

func TestRun(t *testing.T) {
	earlier := periodic("nightly-orders-earlier", "nightly", "2026-11-20T08:00:00.000000001Z", cmfv1.SavepointSpec{Application: "orders"})
	other := periodic("other-orders", "other", token, cmfv1.SavepointSpec{Application: "orders"})
	tests := []struct {
		name    string
		args    []string
		changes []cmdtesting.Change

		wantOut        string
		wantTable      [][]string // instead of wantOut, after the first line
		wantErrOut     []string
		wantErr        string
		wantAnnotation string // the policy's run-request after
	}{{
		name:           "a request, not waited for",
		args:           []string{"nightly"},
		wantOut:        "savepointpolicy/nightly run requested (cmf.confluent.io/run-request=" + token + ")\n",
		wantAnnotation: token,
	}, {
		name: "--wait: until carried out, then the savepoints of this request only",
		args: []string{"nightly", "--wait"},
		changes: []cmdtesting.Change{takes(token,
			periodic("nightly-orders-1", "nightly", token, cmfv1.SavepointSpec{Application: "orders"}),
			periodic("nightly-clicks-1", "nightly", token, cmfv1.SavepointSpec{Statement: "clicks"}),
		)},
		wantTable: [][]string{
			{"NAME", "STATE", "PARENT", "ORIGIN", "FORMAT", "PATH", "AGE"},
			{"nightly-clicks-1", "TRIGGER_PENDING", "statement/clicks", "PERIODIC", "NATIVE", "<none>", "0s"},
			{"nightly-orders-1", "TRIGGER_PENDING", "application/orders", "PERIODIC", "NATIVE", "<none>", "0s"},
		},
		wantErrOut:     []string{"run request carried out"},
		wantAnnotation: token,
	}, {
		name:           "--wait: the manager took none",
		args:           []string{"nightly", "--wait"},
		changes:        []cmdtesting.Change{takes(token)},
		wantOut:        "savepointpolicy/nightly run requested (cmf.confluent.io/run-request=" + token + ")\n",
		wantErrOut:     []string{"run request carried out", "The manager took no savepoints for this request: see why with kubectl savepoint policy describe nightly"},
		wantAnnotation: token,
	}, {
		name:           "--wait: an earlier request carried out is not this one",
		args:           []string{"nightly", "--wait", "--timeout", "100ms"},
		changes:        []cmdtesting.Change{takes("2026-11-20T08:00:00.000000001Z")},
		wantOut:        "savepointpolicy/nightly run requested (cmf.confluent.io/run-request=" + token + ")\n",
		wantErr:        "savepointpolicy nightly has not carried out run request " + token + " after 100ms: wait longer with --timeout, or look with kubectl savepoint policy describe nightly",
		wantAnnotation: token,
	}, {
		name:           "a client dry run requests nothing",
		args:           []string{"nightly", "--dry-run"},
		wantOut:        "savepointpolicy/nightly run requested (dry run) (cmf.confluent.io/run-request=" + token + ")\n",
		wantAnnotation: "",
	}, {
		name:           "a server dry run requests nothing",
		args:           []string{"nightly", "--dry-run=server"},
		wantOut:        "savepointpolicy/nightly run requested (server dry run) (cmf.confluent.io/run-request=" + token + ")\n",
		wantAnnotation: "",
	}, {
		name:    "--wait with a dry run",
		args:    []string{"nightly", "--wait", "--dry-run"},
		wantErr: "--wait and --dry-run: a dry run requests nothing to wait for; drop one",
	}, {
		name:    "no such policy",
		args:    []string{"ghost"},
		wantErr: "savepointpolicy ghost not found in namespace team-a: list them with kubectl savepoint policy list",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := cmdtesting.NewFactory(ns, append(policies(), earlier, other)...)
			f.Later(t, tt.changes...)
			streams, _, out, errOut := genericiooptions.NewTestIOStreams()
			o := &RunOptions{Timeout: time.Minute, DryRun: "none", Output: cmdutil.NewOutput(), IOStreams: streams, now: func() time.Time { return now }}
			err := cmdtesting.Execute(newRunCmd(f, o), streams, tt.args...)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			if tt.wantTable != nil {
				lines := table(out.String())
				assert.Equal(t, []string{"savepointpolicy/nightly run requested (cmf.confluent.io/run-request=" + token + ")"}, lines[0])
				assert.Equal(t, tt.wantTable, lines[1:])
			} else {
				assert.Equal(t, tt.wantOut, out.String())
			}
			assert.Equal(t, tt.wantErrOut, cmdtesting.Lines(errOut.String()))
			p := &cmfv1.SavepointPolicy{}
			if err := f.Fake.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "nightly"}, p); err == nil {
				assert.Equal(t, tt.wantAnnotation, p.Annotations[cmfv1.RunRequestAnnotation])
			}
		})
	}
}
