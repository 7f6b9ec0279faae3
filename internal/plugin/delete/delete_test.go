package delete

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
	ns        = "team-a"
	path      = "s3://flink/savepoints/savepoint-1"
	finalizer = "cmf.confluent.io/dispose"
)

// savepoint is an attached savepoint; with a finalizer, as the manager
// keeps one until its data is disposed, so that a test sees it after the
// delete.
func savepoint(name string, status cmfv1.SavepointStatus) *cmfv1.Savepoint {
	return &cmfv1.Savepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Finalizers: []string{finalizer}},
		Spec:       cmfv1.SavepointSpec{Application: "orders"},
		Status:     status,
	}
}

var completed = cmfv1.SavepointStatus{State: cmfv1.StateCompleted, Path: path}

func TestCompleteValidate(t *testing.T) {
	tests := []struct {
		name     string
		force    bool
		detached bool
		dryRun   cmdutil.DryRun
		wantErr  string
	}{
		{name: "a delete", dryRun: "none"},
		{name: "--force of an attached savepoint", force: true, dryRun: "none"},
		{name: "--force of a detached savepoint", force: true, detached: true, dryRun: "none", wantErr: "--force is for attached savepoints: deleting a detached one never touches its data"},
		{name: "a dry run kubectl does not know", dryRun: "maybe", wantErr: `--dry-run="maybe": use "client", "server" or "none"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			streams, _, _, _ := genericiooptions.NewTestIOStreams()
			o := NewOptions(streams)
			o.Force, o.Detached, o.DryRun = tt.force, tt.detached, tt.dryRun
			require.NoError(t, o.Complete(cmdtesting.NewFactory(ns), nil, []string{"a", "b"}))
			assert.Equal(t, []string{"a", "b"}, o.Names)
			err := o.Validate()
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tt.wantErr)
		})
	}
}

// disposed is the manager removing its finalizer once the data is gone.
func disposed(name string) cmdtesting.Change {
	return func(c client.Client) error {
		sp := &cmfv1.Savepoint{}
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, sp); err != nil {
			return err
		}
		sp.Finalizers = nil
		return c.Update(context.Background(), sp)
	}
}

func TestRun(t *testing.T) {
	detached := &cmfv1.DetachedSavepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "kept"},
		Spec:       cmfv1.DetachedSavepointSpec{Path: "s3://flink/savepoints/savepoint-0"},
	}
	tests := []struct {
		name    string
		objs    []client.Object
		args    []string
		stdin   string
		changes []cmdtesting.Change

		wantOut    string
		wantErrOut string
		wantErr    string
		// wantDeleting are the savepoints deleted (kept by the finalizer
		// until disposed), by whether they are forced.
		wantDeleting map[string]bool
		wantGone     []string // savepoints no longer there
	}{{
		name:         "a COMPLETED savepoint: its data is disposed",
		objs:         []client.Object{savepoint("sp", completed)},
		args:         []string{"sp"},
		wantOut:      "savepoint/sp deleted; disposing its data at " + path + "\n",
		wantDeleting: map[string]bool{"sp": false},
	}, {
		name:         "one without data",
		objs:         []client.Object{savepoint("sp", cmfv1.SavepointStatus{State: cmfv1.StateInProgress})},
		args:         []string{"sp"},
		wantOut:      "savepoint/sp deleted\n",
		wantDeleting: map[string]bool{"sp": false},
	}, {
		name:         "--force --yes keeps the data, orphaned, without asking",
		objs:         []client.Object{savepoint("sp", completed)},
		args:         []string{"sp", "--force", "--yes"},
		wantOut:      "savepoint/sp deleted; its data at " + path + " is kept, orphaned\n",
		wantDeleting: map[string]bool{"sp": true},
	}, {
		name:         "--force asks, and y is a yes",
		objs:         []client.Object{savepoint("sp", completed)},
		args:         []string{"sp", "--force"},
		stdin:        "y\n",
		wantOut:      "savepoint/sp deleted; its data at " + path + " is kept, orphaned\n",
		wantErrOut:   "--force removes sp without disposing the data: it stays in storage, orphaned. Continue? [y/N] ",
		wantDeleting: map[string]bool{"sp": true},
	}, {
		name:       "--force asks, and no answer is a no",
		objs:       []client.Object{savepoint("sp", completed)},
		args:       []string{"sp", "--force"},
		wantErrOut: "--force removes sp without disposing the data: it stays in storage, orphaned. Continue? [y/N] ",
		wantErr:    "not deleted: confirm with y, or pass --yes",
	}, {
		name:     "a detached savepoint: its data is never touched",
		objs:     []client.Object{detached},
		args:     []string{"kept", "--detached"},
		wantOut:  "detachedsavepoint/kept deleted (its data at s3://flink/savepoints/savepoint-0 is kept)\n",
		wantGone: []string{"kept"},
	}, {
		name:         "one that cannot be deleted is told; the others are deleted still",
		objs:         []client.Object{savepoint("sp", completed)},
		args:         []string{"ghost", "sp"},
		wantOut:      "savepoint/sp deleted; disposing its data at " + path + "\n",
		wantErrOut:   "error: savepoint ghost not found: list them with kubectl savepoint list\n",
		wantErr:      "1 of 2 not deleted: ghost",
		wantDeleting: map[string]bool{"sp": false},
	}, {
		name:       "a detached one not found names the list of detached ones",
		args:       []string{"ghost", "--detached"},
		wantErrOut: "error: detachedsavepoint ghost not found: list them with kubectl savepoint list --detached\n",
		wantErr:    "1 of 1 not deleted: ghost",
	}, {
		name:    "a client dry run sends nothing",
		objs:    []client.Object{savepoint("sp", completed)},
		args:    []string{"sp", "--dry-run"},
		wantOut: "savepoint/sp deleted (dry run)\n",
	}, {
		name:    "a server dry run keeps nothing, and asks nothing",
		objs:    []client.Object{savepoint("sp", completed)},
		args:    []string{"sp", "--dry-run=server", "--force"},
		wantOut: "savepoint/sp deleted (server dry run)\n",
	}, {
		name:     "--wait until the data is disposed",
		objs:     []client.Object{savepoint("sp", completed)},
		args:     []string{"sp", "--wait"},
		changes:  []cmdtesting.Change{disposed("sp")},
		wantOut:  "savepoint/sp deleted; disposing its data at " + path + "\n",
		wantGone: []string{"sp"},
	}, {
		name:         "--wait: a timeout says how to wait longer",
		objs:         []client.Object{savepoint("sp", completed)},
		args:         []string{"sp", "--wait", "--timeout", "200ms"},
		wantOut:      "savepoint/sp deleted; disposing its data at " + path + "\n",
		wantErrOut:   "error: sp still exists after 200ms: wait longer with --timeout\n",
		wantErr:      "1 of 1 not deleted: sp",
		wantDeleting: map[string]bool{"sp": false},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := cmdtesting.NewFactory(ns, tt.objs...)
			f.Later(t, tt.changes...)
			streams, in, out, errOut := genericiooptions.NewTestIOStreams()
			in.WriteString(tt.stdin)
			err := cmdtesting.Execute(NewCmd(f, streams), streams, tt.args...)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.wantOut, out.String())
			assert.Equal(t, tt.wantErrOut, errOut.String())

			deleting := map[string]bool{}
			var list cmfv1.SavepointList
			require.NoError(t, f.Fake.List(context.Background(), &list))
			for _, sp := range list.Items {
				if sp.DeletionTimestamp != nil {
					deleting[sp.Name] = sp.Annotations[cmfv1.ForceDeleteAnnotation] == "true"
				} else {
					assert.Empty(t, sp.Annotations[cmfv1.ForceDeleteAnnotation], "%s: not forced unless deleted", sp.Name)
				}
			}
			if tt.wantDeleting == nil {
				tt.wantDeleting = map[string]bool{}
			}
			assert.Equal(t, tt.wantDeleting, deleting)
			for _, gone := range tt.wantGone {
				for _, obj := range []client.Object{&cmfv1.Savepoint{}, &cmfv1.DetachedSavepoint{}} {
					err := f.Fake.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: gone}, obj)
					assert.Error(t, err, "%s gone", gone)
				}
			}
		})
	}
}
