package wait

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdtesting"
)

const ns = "team-a"

func savepoint(status cmfv1.SavepointStatus) *cmfv1.Savepoint {
	return &cmfv1.Savepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sp"},
		Spec:       cmfv1.SavepointSpec{Application: "orders"},
		Status:     status,
	}
}

// becomes is the manager writing the savepoint's status.
func becomes(status cmfv1.SavepointStatus) cmdtesting.Change {
	return cmdtesting.SavepointBecomes(client.ObjectKey{Namespace: ns, Name: "sp"}, status)
}

func TestCompleteValidate(t *testing.T) {
	tests := []struct {
		forState string
		want     cmfv1.SavepointState
		wantErr  string
	}{
		{forState: "COMPLETED", want: cmfv1.StateCompleted},
		{forState: "in_progress", want: cmfv1.StateInProgress},
		{forState: "Abandoned", want: cmfv1.StateAbandoned},
		{forState: "done", wantErr: `--for "done": use TRIGGER_PENDING, IN_PROGRESS, COMPLETED, FAILED or ABANDONED`},
	}
	for _, tt := range tests {
		t.Run(tt.forState, func(t *testing.T) {
			streams, _, _, _ := genericiooptions.NewTestIOStreams()
			o := NewOptions(streams)
			o.For = tt.forState
			require.NoError(t, o.Complete(cmdtesting.NewFactory(ns), nil, []string{"sp"}))
			assert.Equal(t, "sp", o.Name)
			err := o.Validate()
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, o.want)
		})
	}
}

func TestRun(t *testing.T) {
	completed := cmfv1.SavepointStatus{State: cmfv1.StateCompleted, Path: "s3://flink/savepoints/savepoint-1"}
	tests := []struct {
		name    string
		sp      *cmfv1.Savepoint
		changes []cmdtesting.Change
		args    []string

		wantOut    string
		wantErrOut []string // progress lines, without the elapsed time
		wantErr    string
	}{{
		name:       "already COMPLETED",
		sp:         savepoint(completed),
		args:       []string{"sp"},
		wantOut:    "savepoint/sp COMPLETED\n",
		wantErrOut: []string{"COMPLETED  s3://flink/savepoints/savepoint-1"},
	}, {
		name:       "until the state asked for",
		sp:         savepoint(cmfv1.SavepointStatus{}),
		changes:    []cmdtesting.Change{becomes(cmfv1.SavepointStatus{State: cmfv1.StateInProgress})},
		args:       []string{"sp", "--for", "in_progress"},
		wantOut:    "savepoint/sp IN_PROGRESS\n",
		wantErrOut: []string{"TRIGGER_PENDING", "IN_PROGRESS"},
	}, {
		name:       "an end other than the one asked for is an error",
		sp:         savepoint(cmfv1.SavepointStatus{State: cmfv1.StateInProgress}),
		changes:    []cmdtesting.Change{becomes(cmfv1.SavepointStatus{State: cmfv1.StateFailed, Failures: 3, Error: "checkpoint coordinator is shut down"})},
		args:       []string{"sp"},
		wantErrOut: []string{"IN_PROGRESS", "FAILED  (failures: 3) checkpoint coordinator is shut down"},
		wantErr:    "savepoint sp ended FAILED, not COMPLETED: checkpoint coordinator is shut down",
	}, {
		name:       "a timeout says how to wait longer",
		sp:         savepoint(cmfv1.SavepointStatus{State: cmfv1.StateInProgress}),
		args:       []string{"sp", "--timeout", "200ms"},
		wantErrOut: []string{"IN_PROGRESS"},
		wantErr:    "savepoint sp still IN_PROGRESS after 200ms: wait longer with --timeout, or look with kubectl savepoint describe sp",
	}, {
		name:    "no such savepoint",
		args:    []string{"ghost"},
		wantErr: `savepoints.cmf.confluent.io "ghost" not found`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var objs []client.Object
			if tt.sp != nil {
				objs = append(objs, tt.sp)
			}
			f := cmdtesting.NewFactory(ns, objs...)
			f.Later(t, tt.changes...)
			streams, _, out, errOut := genericiooptions.NewTestIOStreams()
			err := cmdtesting.Execute(NewCmd(f, streams), streams, tt.args...)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.wantOut, out.String())
			assert.Equal(t, tt.wantErrOut, cmdtesting.Lines(errOut.String()))
		})
	}
}
