package cmdutil

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

var update = flag.Bool("update", false, "rewrite testdata/golden")

func fixtures() ([]cmfv1.Savepoint, []cmfv1.DetachedSavepoint, time.Time) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	created := metav1.NewTime(now.Add(-90 * time.Minute))
	attached := []cmfv1.Savepoint{
		{
			ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "orders-20261125t083000-3f9a", CreationTimestamp: created, UID: "0d3c52a8-1d7a-4a63-9c39-2b9a4a6d3a10"},
			Spec:       cmfv1.SavepointSpec{Application: "orders", FormatType: cmfv1.FormatCanonical, BackoffLimit: ptr.To[int32](-1)},
			Status:     cmfv1.SavepointStatus{State: cmfv1.StateCompleted, Path: "s3://flink/savepoints/savepoint-1a2b3c-4d5e6f7a8b9c", Origin: cmfv1.OriginManual},
		},
		{
			ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "clicks-nightly", CreationTimestamp: metav1.NewTime(now.Add(-3 * time.Minute))},
			Spec:       cmfv1.SavepointSpec{Statement: "clicks", FormatType: cmfv1.FormatNative, BackoffLimit: ptr.To[int32](2)},
			Status:     cmfv1.SavepointStatus{State: cmfv1.StateTriggerPending, Failures: 2, Origin: cmfv1.OriginManual, Error: "java.io.IOException: disk full\n\tat x"},
		},
	}
	for i := range attached {
		attached[i].SetGroupVersionKind(cmfv1.GroupVersion.WithKind("Savepoint"))
	}
	detached := []cmfv1.DetachedSavepoint{{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "orders-before-migration", CreationTimestamp: metav1.NewTime(now.Add(-49 * time.Hour))},
		Spec:       cmfv1.DetachedSavepointSpec{Path: "s3://flink/savepoints/savepoint-0f0f0f-111111111111"},
		Status:     cmfv1.DetachedSavepointStatus{State: cmfv1.StateCompleted, Origin: cmfv1.OriginImported},
	}}
	detached[0].SetGroupVersionKind(cmfv1.GroupVersion.WithKind("DetachedSavepoint"))
	return attached, detached, now
}

func TestPrintSavepointsGolden(t *testing.T) {
	tests := []struct {
		golden        string
		output        string
		noHeaders     bool
		allNamespaces bool
	}{
		{golden: "table", output: ""},
		{golden: "table-all-namespaces", output: "", allNamespaces: true},
		{golden: "table-no-headers", output: "", noHeaders: true},
		{golden: "wide", output: "wide"},
		{golden: "json", output: "json"},
		{golden: "yaml", output: "yaml"},
		{golden: "name", output: "name"},
		{golden: "jsonpath", output: "jsonpath={range .items[*]}{.metadata.name}{\"\\t\"}{.status.state}{\"\\n\"}{end}"},
		{golden: "custom-columns", output: "custom-columns=NAME:.metadata.name,PATH:.status.path,SPEC_PATH:.spec.path"},
	}
	attached, detached, now := fixtures()
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			o := NewOutput()
			o.PrintFlags.OutputFormat = &tt.output
			o.NoHeaders, o.AllNamespaces = tt.noHeaders, tt.allNamespaces
			require.NoError(t, o.Validate())
			var out bytes.Buffer
			require.NoError(t, o.PrintSavepoints(&out, attached, detached, false, now))
			path := filepath.Join("testdata", "golden", tt.golden+".txt")
			if *update {
				require.NoError(t, os.WriteFile(path, out.Bytes(), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./internal/plugin/cmdutil -update to write the golden file")
			assert.Equal(t, string(want), out.String())
		})
	}
}

func TestOutputValidate(t *testing.T) {
	tests := []struct {
		output string
		want   string
	}{
		{"yaml", ""},
		{"custom-columns=NAME", `-o custom-columns: "NAME" is not NAME:JSONPATH`},
		{"custom-columns=NAME:{.metadata.name", "column NAME"},
		{"toml", `unable to match a printer suitable for the output format "toml"`},
	}
	for _, tt := range tests {
		t.Run(tt.output, func(t *testing.T) {
			o := NewOutput()
			o.PrintFlags.OutputFormat = &tt.output
			err := o.Validate()
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
