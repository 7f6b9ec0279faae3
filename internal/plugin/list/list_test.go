package list

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdtesting"
)

const ns = "team-a"

func TestCompleteValidate(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "--detached and a parent", args: []string{"--detached", "-a", "orders"}, wantErr: "--detached savepoints have no parent: drop --application/--statement"},
		{name: "two parents", args: []string{"-a", "orders", "-s", "clicks"}, wantErr: "--application and --statement name two parents: give one"},
		{name: "a negative chunk size", args: []string{"--chunk-size", "-1"}, wantErr: "--chunk-size must be 0 or more"},
		{name: "custom columns without a path", args: []string{"-o", "custom-columns=NAME"}, wantErr: `-o custom-columns: "NAME" is not NAME:JSONPATH, e.g. NAME:.metadata.name,PATH:.status.path`},
		{name: "an output kubectl does not know", args: []string{"-o", "toml"}, wantErr: `unable to match a printer suitable for the output format "toml"`},
		{name: "an origin there is not", args: []string{"--origin", "periodic,nightly"}, wantErr: `--origin "NIGHTLY": use MANUAL, PERIODIC, UPGRADE, SUSPEND, IMPORTED`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			streams, _, out, _ := genericiooptions.NewTestIOStreams()
			err := cmdtesting.Execute(NewCmd(cmdtesting.NewFactory(ns), streams), streams, tt.args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.Empty(t, out.String())
		})
	}
}

func TestComplete(t *testing.T) {
	streams, _, _, _ := genericiooptions.NewTestIOStreams()
	o := NewOptions(streams)
	require.NoError(t, o.Complete(cmdtesting.NewFactory(ns), nil, []string{"a", "b"}))
	assert.Equal(t, ns, o.namespace)
	assert.Equal(t, []string{"a", "b"}, o.Names)

	o = NewOptions(streams)
	o.AllNamespaces = true
	require.NoError(t, o.Complete(cmdtesting.NewFactory(ns), nil, nil))
	assert.Empty(t, o.namespace, "-A lists every namespace")
	assert.True(t, o.Output.AllNamespaces, "and the table shows them")
}

func fixtures() []client.Object {
	sp := func(namespace, name string, spec cmfv1.SavepointSpec, state cmfv1.SavepointState, origin cmfv1.SavepointOrigin) *cmfv1.Savepoint {
		spec.FormatType = cmfv1.FormatCanonical
		return &cmfv1.Savepoint{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
			Spec:       spec,
			Status:     cmfv1.SavepointStatus{State: state, Origin: origin},
		}
	}
	return []client.Object{
		sp(ns, "orders-1", cmfv1.SavepointSpec{Application: "orders"}, cmfv1.StateCompleted, cmfv1.OriginManual),
		sp(ns, "orders-2", cmfv1.SavepointSpec{Application: "orders"}, cmfv1.StateInProgress, cmfv1.OriginPeriodic),
		sp(ns, "clicks-1", cmfv1.SavepointSpec{Statement: "clicks"}, cmfv1.StateCompleted, cmfv1.OriginUpgrade),
		sp("team-b", "payments-1", cmfv1.SavepointSpec{Application: "payments"}, cmfv1.StateCompleted, cmfv1.OriginPeriodic),
		&cmfv1.DetachedSavepoint{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "kept"},
			Spec:       cmfv1.DetachedSavepointSpec{Path: "s3://flink/savepoints/savepoint-0"},
			Status:     cmfv1.DetachedSavepointStatus{Origin: cmfv1.OriginImported},
		},
	}
}

// table is the rows of a table, each as its fields.
func table(s string) [][]string {
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		rows = append(rows, strings.Fields(line))
	}
	return rows
}

func TestRun(t *testing.T) {
	header := []string{"NAME", "STATE", "PARENT", "ORIGIN", "FORMAT", "PATH", "AGE"}
	tests := []struct {
		name string
		args []string

		wantTable  [][]string // instead of wantOut
		wantOut    string
		wantErrOut string
		wantErr    string
	}{{
		name: "the namespace's savepoints",
		wantTable: [][]string{
			header,
			{"clicks-1", "COMPLETED", "statement/clicks", "UPGRADE", "CANONICAL", "<none>", "<unknown>"},
			{"orders-1", "COMPLETED", "application/orders", "MANUAL", "CANONICAL", "<none>", "<unknown>"},
			{"orders-2", "IN_PROGRESS", "application/orders", "PERIODIC", "CANONICAL", "<none>", "<unknown>"},
		},
	}, {
		name: "--origin keeps one origin, in any case",
		args: []string{"--origin", "periodic"},
		wantTable: [][]string{
			header,
			{"orders-2", "IN_PROGRESS", "application/orders", "PERIODIC", "CANONICAL", "<none>", "<unknown>"},
		},
	}, {
		name:    "--origin repeated and comma-separated, with a parent",
		args:    []string{"-a", "orders", "--origin", "PERIODIC,UPGRADE", "--origin", "manual", "-o", "name"},
		wantOut: "savepoint.cmf.confluent.io/orders-1\nsavepoint.cmf.confluent.io/orders-2\n",
	}, {
		name:    "--origin across namespaces",
		args:    []string{"-A", "--origin", "PERIODIC", "-o", "name"},
		wantOut: "savepoint.cmf.confluent.io/orders-2\nsavepoint.cmf.confluent.io/payments-1\n",
	}, {
		name:    "--origin of detached savepoints",
		args:    []string{"--detached", "--origin", "IMPORTED", "-o", "name"},
		wantOut: "detachedsavepoint.cmf.confluent.io/kept\n",
	}, {
		name:       "--origin that matches none: told on stderr",
		args:       []string{"--origin", "SUSPEND"},
		wantErrOut: "No savepoints found in namespace team-a of origin SUSPEND.\n",
	}, {
		name:    "an application's, selected by spec.application",
		args:    []string{"-a", "orders", "-o", "name"},
		wantOut: "savepoint.cmf.confluent.io/orders-1\nsavepoint.cmf.confluent.io/orders-2\n",
	}, {
		name:    "a statement's, selected by spec.statement",
		args:    []string{"-s", "clicks", "-o", "jsonpath={.items[*].metadata.name}"},
		wantOut: "clicks-1",
	}, {
		name:    "by name: one is printed as itself, not as a List",
		args:    []string{"orders-2", "-o", "jsonpath={.status.state}"},
		wantOut: "IN_PROGRESS",
	}, {
		name: "every namespace",
		args: []string{"-A", "--no-headers"},
		wantTable: [][]string{
			{"team-a", "clicks-1", "COMPLETED", "statement/clicks", "UPGRADE", "CANONICAL", "<none>", "<unknown>"},
			{"team-a", "orders-1", "COMPLETED", "application/orders", "MANUAL", "CANONICAL", "<none>", "<unknown>"},
			{"team-a", "orders-2", "IN_PROGRESS", "application/orders", "PERIODIC", "CANONICAL", "<none>", "<unknown>"},
			{"team-b", "payments-1", "COMPLETED", "application/payments", "PERIODIC", "CANONICAL", "<none>", "<unknown>"},
		},
	}, {
		name: "detached ones",
		args: []string{"--detached"},
		wantTable: [][]string{
			header,
			{"kept", "COMPLETED", "<detached>", "IMPORTED", "s3://flink/savepoints/savepoint-0", "<unknown>"},
		},
	}, {
		name:       "none: told on stderr, not an error",
		args:       []string{"-a", "ghost"},
		wantErrOut: "No savepoints found in namespace team-a.\n",
	}, {
		name:    "names not there are an error",
		args:    []string{"ghost"},
		wantErr: "no such savepoint in namespace team-a",
	}, {
		name:    "names in no namespace",
		args:    []string{"ghost", "-A"},
		wantErr: "no such savepoint in any namespace",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := cmdtesting.NewFactory(ns, fixtures()...)
			streams, _, out, errOut := genericiooptions.NewTestIOStreams()
			err := cmdtesting.Execute(NewCmd(f, streams), streams, tt.args...)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			if tt.wantTable != nil {
				assert.Equal(t, tt.wantTable, table(out.String()))
			} else {
				assert.Equal(t, tt.wantOut, out.String())
			}
			assert.Equal(t, tt.wantErrOut, errOut.String())
		})
	}
}

// paged answers a list a page of --chunk-size at a time, as the API server
// does, counting the pages asked for.
func paged(pages *int) interceptor.Funcs {
	return interceptor.Funcs{List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
		*pages++
		if err := c.List(ctx, list, opts...); err != nil {
			return err
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return err
		}
		o := (&client.ListOptions{}).ApplyOptions(opts)
		start := 0
		if o.Continue != "" {
			start, _ = strconv.Atoi(o.Continue)
		}
		end := len(items)
		if o.Limit > 0 && start+int(o.Limit) < end {
			end = start + int(o.Limit)
			list.SetContinue(strconv.Itoa(end))
		}
		return meta.SetList(list, items[start:end])
	}}
}

func TestRunInPages(t *testing.T) {
	tests := []struct {
		chunkSize string
		wantPages int
	}{
		{chunkSize: "1", wantPages: 3},
		{chunkSize: "2", wantPages: 2},
		{chunkSize: "0", wantPages: 1},
	}
	for _, tt := range tests {
		t.Run("--chunk-size "+tt.chunkSize, func(t *testing.T) {
			f := cmdtesting.NewFactory(ns, fixtures()...)
			pages := 0
			f.Intercept = paged(&pages)
			streams, _, out, _ := genericiooptions.NewTestIOStreams()
			require.NoError(t, cmdtesting.Execute(NewCmd(f, streams), streams, "--chunk-size", tt.chunkSize, "-o", "wide"))
			assert.Equal(t, [][]string{
				{"NAME", "STATE", "PARENT", "ORIGIN", "FORMAT", "PATH", "AGE", "FAILURES", "ERROR"},
				{"clicks-1", "COMPLETED", "statement/clicks", "UPGRADE", "CANONICAL", "<none>", "<unknown>", "0", "<none>"},
				{"orders-1", "COMPLETED", "application/orders", "MANUAL", "CANONICAL", "<none>", "<unknown>", "0", "<none>"},
				{"orders-2", "IN_PROGRESS", "application/orders", "PERIODIC", "CANONICAL", "<none>", "<unknown>", "0", "<none>"},
			}, table(out.String()), "every page is printed")
			assert.Equal(t, tt.wantPages, pages)
		})
	}
}
