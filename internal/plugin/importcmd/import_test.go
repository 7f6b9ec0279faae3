package importcmd

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdtesting"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdutil"
)

const ns = "team-a"

func TestCompleteValidate(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		dryRun  cmdutil.DryRun
		wantErr string
	}{
		{name: "a path", path: "s3://flink/savepoints/savepoint-1", dryRun: "none"},
		{name: "no path", dryRun: "none", wantErr: "--path is required: the exact, complete location of the savepoint"},
		{name: "a dry run kubectl does not know", path: "s3://x", dryRun: "maybe", wantErr: `--dry-run="maybe": use "client", "server" or "none"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			streams, _, _, _ := genericiooptions.NewTestIOStreams()
			o := NewOptions(streams)
			o.Path, o.DryRun = tt.path, tt.dryRun
			require.NoError(t, o.Complete(cmdtesting.NewFactory(ns), nil, []string{"migrated"}))
			assert.Equal(t, "migrated", o.Name)
			assert.Equal(t, ns, o.namespace)
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
	const path = "s3://flink/savepoints/savepoint-1a2b3c"
	tests := []struct {
		name      string
		args      []string
		intercept interceptor.Funcs

		wantOut     string
		wantErr     string
		wantCreated bool
	}{{
		name:    "registered as a detached savepoint",
		args:    []string{"migrated", "--path", path},
		wantOut: "detachedsavepoint/migrated imported\n", wantCreated: true,
	}, {
		name:    "a client dry run sends nothing",
		args:    []string{"migrated", "--path", path, "--dry-run=client"},
		wantOut: "detachedsavepoint/migrated imported (dry run)\n",
	}, {
		name:    "a server dry run keeps nothing",
		args:    []string{"migrated", "--path", path, "--dry-run=server"},
		wantOut: "detachedsavepoint/migrated imported (server dry run)\n",
	}, {
		name: "the webhook's denial is told in its own words",
		args: []string{"migrated", "--path", path},
		intercept: interceptor.Funcs{Create: func(context.Context, client.WithWatch, client.Object, ...client.CreateOption) error {
			return cmdtesting.Denied("detachedsavepoint migrated exists in namespace team-b: names are unique across namespaces")
		}},
		wantErr: "detachedsavepoint migrated exists in namespace team-b: names are unique across namespaces",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := cmdtesting.NewFactory(ns)
			f.Intercept = tt.intercept
			streams, _, out, _ := genericiooptions.NewTestIOStreams()
			err := cmdtesting.Execute(NewCmd(f, streams), streams, tt.args...)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.wantOut, out.String())

			dsp := &cmfv1.DetachedSavepoint{}
			err = f.Fake.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "migrated"}, dsp)
			if !tt.wantCreated {
				assert.Error(t, err, "nothing created")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, cmfv1.DetachedSavepointSpec{Path: path}, dsp.Spec, "a path and no source: imported")
		})
	}
}
