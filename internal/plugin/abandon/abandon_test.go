package abandon

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdtesting"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdutil"
)

const ns = "team-a"

func savepoint(name string, state cmfv1.SavepointState) *cmfv1.Savepoint {
	return &cmfv1.Savepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       cmfv1.SavepointSpec{Application: "orders"},
		Status:     cmfv1.SavepointStatus{State: state},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		dryRun  cmdutil.DryRun
		wantErr string
	}{
		{name: "no dry run", dryRun: "none"},
		{name: "server dry run", dryRun: "server"},
		{name: "a dry run kubectl does not know", dryRun: "maybe", wantErr: `--dry-run="maybe": use "client", "server" or "none"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			streams, _, _, _ := genericiooptions.NewTestIOStreams()
			o := NewOptions(streams)
			o.DryRun = tt.dryRun
			require.NoError(t, o.Complete(cmdtesting.NewFactory(ns), nil, []string{"sp"}))
			assert.Equal(t, []string{"sp"}, o.Names)
			err := o.Validate()
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tt.wantErr)
		})
	}
}

func TestRun(t *testing.T) {
	tests := []struct {
		name string
		objs []client.Object
		args []string

		wantOut       string
		wantErr       string
		wantAbandoned []string // savepoints that carry the annotation after
	}{{
		name:    "a savepoint in progress is marked for the manager",
		objs:    []client.Object{savepoint("sp", cmfv1.StateInProgress)},
		args:    []string{"sp"},
		wantOut: "savepoint/sp abandoned\n", wantAbandoned: []string{"sp"},
	}, {
		name:    "one the manager has not looked at yet too",
		objs:    []client.Object{savepoint("sp", "")},
		args:    []string{"sp"},
		wantOut: "savepoint/sp abandoned\n", wantAbandoned: []string{"sp"},
	}, {
		name:    "an ended savepoint has nothing to abandon",
		objs:    []client.Object{savepoint("sp", cmfv1.StateCompleted)},
		args:    []string{"sp"},
		wantErr: "savepoint sp is already COMPLETED: nothing to abandon",
	}, {
		name:    "the first that cannot be abandoned stops the rest",
		objs:    []client.Object{savepoint("a", cmfv1.StateTriggerPending), savepoint("b", cmfv1.StateFailed), savepoint("c", cmfv1.StateInProgress)},
		args:    []string{"a", "b", "c"},
		wantOut: "savepoint/a abandoned\n", wantAbandoned: []string{"a"},
		wantErr: "savepoint b is already FAILED: nothing to abandon",
	}, {
		name:    "no such savepoint",
		args:    []string{"ghost"},
		wantErr: `savepoints.cmf.confluent.io "ghost" not found`,
	}, {
		name:    "a client dry run sends nothing",
		objs:    []client.Object{savepoint("sp", cmfv1.StateInProgress)},
		args:    []string{"sp", "--dry-run"},
		wantOut: "savepoint/sp abandoned (dry run)\n",
	}, {
		name:    "a server dry run keeps nothing",
		objs:    []client.Object{savepoint("sp", cmfv1.StateInProgress)},
		args:    []string{"sp", "--dry-run=server"},
		wantOut: "savepoint/sp abandoned (server dry run)\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := cmdtesting.NewFactory(ns, tt.objs...)
			streams, _, out, _ := genericiooptions.NewTestIOStreams()
			err := cmdtesting.Execute(NewCmd(f, streams), streams, tt.args...)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.wantOut, out.String())

			var list cmfv1.SavepointList
			require.NoError(t, f.Fake.List(context.Background(), &list))
			var abandoned []string
			for _, sp := range list.Items {
				if sp.Annotations[cmfv1.AbandonAnnotation] == "true" {
					abandoned = append(abandoned, sp.Name)
				}
			}
			assert.Equal(t, tt.wantAbandoned, abandoned)
		})
	}
}
