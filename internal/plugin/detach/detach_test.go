package detach

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

const (
	ns   = "team-a"
	path = "s3://flink/savepoints/savepoint-1"
)

func savepoint(spec cmfv1.SavepointSpec, state cmfv1.SavepointState) *cmfv1.Savepoint {
	sp := &cmfv1.Savepoint{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sp", UID: "0d3c52a8"}, Spec: spec, Status: cmfv1.SavepointStatus{State: state}}
	if state == cmfv1.StateCompleted {
		sp.Status.Path = path
	}
	return sp
}

var ofOrders = cmfv1.SavepointSpec{Application: "orders"}

func TestCompleteValidate(t *testing.T) {
	tests := []struct {
		name        string
		newName     string
		dryRun      cmdutil.DryRun
		wantNewName string
		wantErr     string
	}{
		{name: "the detached savepoint takes the savepoint's name", dryRun: "none", wantNewName: "sp"},
		{name: "or the one given", newName: "orders-before-migration", dryRun: "none", wantNewName: "orders-before-migration"},
		{name: "a dry run kubectl does not know", dryRun: "maybe", wantNewName: "sp", wantErr: `--dry-run="maybe": use "client", "server" or "none"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			streams, _, _, _ := genericiooptions.NewTestIOStreams()
			o := NewOptions(streams)
			o.NewName, o.DryRun = tt.newName, tt.dryRun
			require.NoError(t, o.Complete(cmdtesting.NewFactory(ns), nil, []string{"sp"}))
			assert.Equal(t, tt.wantNewName, o.NewName)
			err := o.Validate()
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tt.wantErr)
		})
	}
}

// detached is the manager's side of a detach: it removes the attached
// savepoint without disposing the data.
func detached(c client.Client) error {
	return c.Delete(context.Background(), savepoint(ofOrders, cmfv1.StateCompleted))
}

func TestRun(t *testing.T) {
	tests := []struct {
		name    string
		sp      *cmfv1.Savepoint
		args    []string
		changes []cmdtesting.Change

		wantOut      string
		wantErr      string
		wantDetached string // the DetachedSavepoint created; "" none
	}{{
		name:         "the detached savepoint takes over the path; the attached one is removed",
		sp:           savepoint(ofOrders, cmfv1.StateCompleted),
		args:         []string{"sp"},
		changes:      []cmdtesting.Change{detached},
		wantOut:      "savepoint/sp detached as detachedsavepoint/sp (data kept at " + path + ")\n",
		wantDetached: "sp",
	}, {
		name:         "under another name, without waiting",
		sp:           savepoint(ofOrders, cmfv1.StateCompleted),
		args:         []string{"sp", "--name", "orders-before-migration", "--no-wait"},
		wantOut:      "savepoint/sp detached as detachedsavepoint/orders-before-migration (data kept at " + path + ")\n",
		wantDetached: "orders-before-migration",
	}, {
		name:         "the manager does not remove the attached one",
		sp:           savepoint(ofOrders, cmfv1.StateCompleted),
		args:         []string{"sp", "--timeout", "200ms"},
		wantErr:      "detachedsavepoint/sp created, but sp still exists after 200ms: wait longer with --timeout (is the savepoint-manager running?)",
		wantDetached: "sp",
	}, {
		name:    "a statement's savepoint stays attached",
		sp:      savepoint(cmfv1.SavepointSpec{Statement: "clicks"}, cmfv1.StateCompleted),
		args:    []string{"sp"},
		wantErr: "savepoint sp belongs to Statement clicks: Savepoints attached to a Statement cannot be detached",
	}, {
		name:    "only a COMPLETED savepoint has data to keep",
		sp:      savepoint(ofOrders, cmfv1.StateInProgress),
		args:    []string{"sp"},
		wantErr: "savepoint sp is IN_PROGRESS: only a COMPLETED savepoint can be detached (kubectl savepoint wait sp --for COMPLETED)",
	}, {
		name:    "no such savepoint",
		args:    []string{"sp"},
		wantErr: "savepoint sp not found in namespace team-a: list them with kubectl savepoint list",
	}, {
		name:    "a client dry run sends nothing",
		sp:      savepoint(ofOrders, cmfv1.StateCompleted),
		args:    []string{"sp", "--dry-run"},
		wantOut: "savepoint/sp detached as detachedsavepoint/sp (dry run)\n",
	}, {
		name:    "a server dry run keeps nothing",
		sp:      savepoint(ofOrders, cmfv1.StateCompleted),
		args:    []string{"sp", "--dry-run=server"},
		wantOut: "savepoint/sp detached as detachedsavepoint/sp (server dry run)\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var objs []client.Object
			if tt.sp != nil {
				objs = append(objs, tt.sp)
			}
			f := cmdtesting.NewFactory(ns, objs...)
			f.Later(t, tt.changes...)
			streams, _, out, _ := genericiooptions.NewTestIOStreams()
			err := cmdtesting.Execute(NewCmd(f, streams), streams, tt.args...)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.wantOut, out.String())

			var list cmfv1.DetachedSavepointList
			require.NoError(t, f.Fake.List(context.Background(), &list))
			if tt.wantDetached == "" {
				assert.Empty(t, list.Items, "nothing created")
				return
			}
			require.Len(t, list.Items, 1)
			dsp := list.Items[0]
			assert.Equal(t, tt.wantDetached, dsp.Name)
			assert.Equal(t, cmfv1.DetachedSavepointSpec{Path: path, Source: &cmfv1.DetachedSavepointSource{
				Namespace: ns, Application: "orders", SavepointName: "sp", UID: "0d3c52a8",
			}}, dsp.Spec)
		})
	}
}
