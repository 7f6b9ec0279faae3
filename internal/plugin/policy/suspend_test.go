package policy

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdtesting"
)

func TestSuspendResume(t *testing.T) {
	tests := []struct {
		name string
		args []string

		wantOut       string
		wantErrOut    string
		wantErr       string
		wantSuspended map[string]bool // policy name → spec.suspend after
	}{{
		name:          "suspend",
		args:          []string{"suspend", "nightly"},
		wantOut:       "savepointpolicy/nightly suspended\n",
		wantSuspended: map[string]bool{"nightly": true, "default": true},
	}, {
		name:          "resume",
		args:          []string{"resume", "default"},
		wantOut:       "savepointpolicy/default resumed\n",
		wantSuspended: map[string]bool{"nightly": false, "default": false},
	}, {
		name:          "already so: said, nothing changed",
		args:          []string{"suspend", "default"},
		wantOut:       "savepointpolicy/default already suspended\n",
		wantSuspended: map[string]bool{"nightly": false, "default": true},
	}, {
		name:          "several, one missing: the others are changed still",
		args:          []string{"suspend", "nightly", "ghost", "overdue"},
		wantOut:       "savepointpolicy/nightly suspended\nsavepointpolicy/overdue suspended\n",
		wantErrOut:    "error: savepointpolicy ghost not found in namespace team-a: list them with kubectl savepoint policy list\n",
		wantErr:       "1 of 3 not suspended: ghost",
		wantSuspended: map[string]bool{"nightly": true, "default": true, "overdue": true},
	}, {
		name:          "one missing: its error alone",
		args:          []string{"resume", "ghost"},
		wantErr:       "savepointpolicy ghost not found in namespace team-a: list them with kubectl savepoint policy list",
		wantSuspended: map[string]bool{"default": true},
	}, {
		name:          "a client dry run changes nothing",
		args:          []string{"suspend", "nightly", "--dry-run"},
		wantOut:       "savepointpolicy/nightly suspended (dry run)\n",
		wantSuspended: map[string]bool{"nightly": false},
	}, {
		name:          "a server dry run changes nothing",
		args:          []string{"resume", "default", "--dry-run=server"},
		wantOut:       "savepointpolicy/default resumed (server dry run)\n",
		wantSuspended: map[string]bool{"default": true},
	}, {
		name:    "no name",
		args:    []string{"suspend"},
		wantErr: "requires at least 1 arg(s), only received 0",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := cmdtesting.NewFactory(ns, policies()...)
			streams, _, out, errOut := genericiooptions.NewTestIOStreams()
			err := cmdtesting.Execute(NewCmd(f, streams), streams, tt.args...)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.wantOut, out.String())
			assert.Equal(t, tt.wantErrOut, errOut.String())
			for name, want := range tt.wantSuspended {
				p := &cmfv1.SavepointPolicy{}
				require.NoError(t, f.Fake.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, p))
				assert.Equal(t, want, p.Spec.Suspend, name)
			}
		})
	}
}
