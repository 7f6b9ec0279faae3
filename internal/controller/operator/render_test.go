package operator

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

func TestOperatorRenderCPU(t *testing.T) {
	tests := []struct {
		cpu  any
		want any
	}{
		{cpu: "500m", want: 0.5},
		{cpu: "2", want: int64(2)},
		{cpu: int64(1), want: int64(1)},
		{cpu: 0.25, want: 0.25},
		{cpu: "1500m", want: 1.5},
	}
	for _, tt := range tests {
		app := operatorTestApp(map[string]any{"taskManager": map[string]any{"resource": map[string]any{"cpu": tt.cpu}}})
		d, err := renderDeployment(app, nil)
		require.NoError(t, err)
		got, _, _ := unstructured.NestedFieldNoCopy(d.Object, "spec", "taskManager", "resource", "cpu")
		assert.Equal(t, tt.want, got, "cpu %v", tt.cpu)
	}

	_, err := renderDeployment(operatorTestApp(map[string]any{"jobManager": map[string]any{"resource": map[string]any{"cpu": "lots"}}}), nil)
	assert.EqualError(t, err, `FlinkApplication orders: spec.jobManager.resource.cpu lots is not a quantity: write cores as 1, 0.5 or 500m`)
}

func TestOperatorRenderStartPoint(t *testing.T) {
	app := operatorTestApp(map[string]any{
		"computePoolName": "ignored-here",
		"job": map[string]any{
			"jarURI":                "local:///job.jar",
			"allowNonRestoredState": false,
			"initialSavepointPath":  "s3://old",
			"startFromSavepoint":    map[string]any{"savepointName": "nightly"},
		},
	})
	d, err := renderDeployment(app, &startPoint{path: "s3://flink/savepoint-1", allowNonRestoredState: ptr.To(true)})
	require.NoError(t, err)
	job, _, _ := unstructured.NestedMap(d.Object, "spec", "job")
	assert.Equal(t, map[string]any{"jarURI": "local:///job.jar", "allowNonRestoredState": true, "initialSavepointPath": "s3://flink/savepoint-1"}, job)
	assert.NotContains(t, d.Object["spec"], "computePoolName")
	conf, _, _ := unstructured.NestedStringMap(d.Object, "spec", "flinkConfiguration")
	assert.Equal(t, map[string]string{disposeOnDeleteKey: "false", savepointCleanupKey: "false"}, conf, "added to an application without configuration")

	// Without a start point the job's own initialSavepointPath stays.
	d, err = renderDeployment(app, nil)
	require.NoError(t, err)
	path, _, _ := unstructured.NestedString(d.Object, "spec", "job", "initialSavepointPath")
	assert.Equal(t, "s3://old", path)
	sfs, _, _ := unstructured.NestedMap(app.Object, "spec", "job", "startFromSavepoint")
	assert.NotEmpty(t, sfs, "rendering leaves the application's own object alone")
}

// TestOperatorRenderNeverDisposes: whatever the application's
// flinkConfiguration says, the operator gets neither to dispose a deleted
// snapshot's data nor to clean up (dispose) its savepoint history: deleting
// a Savepoint is what disposes data.
func TestOperatorRenderNeverDisposes(t *testing.T) {
	tests := []struct {
		name string
		conf map[string]any
	}{
		{name: "no configuration"},
		{name: "other settings", conf: map[string]any{"state.backend.type": "rocksdb"}},
		{name: "the user turns both on", conf: map[string]any{disposeOnDeleteKey: "true", savepointCleanupKey: "true", "state.backend.type": "rocksdb"}},
		{name: "in other spellings of true", conf: map[string]any{disposeOnDeleteKey: "TRUE", savepointCleanupKey: "True"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := map[string]any{}
			if tt.conf != nil {
				spec["flinkConfiguration"] = tt.conf
			}
			d, err := renderDeployment(operatorTestApp(spec), nil)
			require.NoError(t, err)
			conf, _, err := unstructured.NestedStringMap(d.Object, "spec", "flinkConfiguration")
			require.NoError(t, err)
			assert.Equal(t, "false", conf[disposeOnDeleteKey])
			assert.Equal(t, "false", conf[savepointCleanupKey])
			for key, value := range tt.conf {
				if key != disposeOnDeleteKey && key != savepointCleanupKey {
					assert.Equal(t, value, conf[key], "the application's own %s is kept", key)
				}
			}
		})
	}
}

func TestOperatorSnapshotPath(t *testing.T) {
	tests := []struct {
		name       string
		spec       map[string]any
		status     map[string]any
		wantPath   string
		wantFormat cmfv1.FormatType
	}{
		{name: "upgrade: exists already, completed by the operator", spec: map[string]any{"savepoint": map[string]any{"alreadyExists": true, "path": "s3://a/savepoint-1", "formatType": "NATIVE"}}, status: map[string]any{"state": "COMPLETED", "path": "s3://a/savepoint-1"}, wantPath: "s3://a/savepoint-1", wantFormat: cmfv1.FormatNative},
		{name: "exists already, in spec only: a user wrote it, the operator has not completed it", spec: map[string]any{"savepoint": map[string]any{"alreadyExists": true, "path": "s3://team-a/savepoint-1"}}},
		{name: "periodic, in flight", spec: map[string]any{"savepoint": map[string]any{"path": "s3://a"}}, status: map[string]any{"state": "IN_PROGRESS"}},
		{name: "periodic, completed: path in status", spec: map[string]any{"savepoint": map[string]any{"path": "s3://a", "formatType": "UNKNOWN"}}, status: map[string]any{"state": "COMPLETED", "path": "s3://a/savepoint-2"}, wantPath: "s3://a/savepoint-2"},
		{name: "failed", spec: map[string]any{"savepoint": map[string]any{"path": "s3://a"}}, status: map[string]any{"state": "FAILED", "error": "boom"}},
		{name: "a checkpoint", spec: map[string]any{"checkpoint": map[string]any{}}, status: map[string]any{"state": "COMPLETED", "path": "s3://a/chk-3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := &unstructured.Unstructured{Object: map[string]any{"spec": tt.spec}}
			if tt.status != nil {
				snap.Object["status"] = tt.status
			}
			path, format := snapshotPath(snap)
			assert.Equal(t, tt.wantPath, path)
			assert.Equal(t, tt.wantFormat, format)
		})
	}
}

func TestOperatorSnapshotDeployment(t *testing.T) {
	tests := []struct {
		name   string
		labels map[string]string
		spec   map[string]any
		want   string
	}{
		{name: "the operator's labels", labels: map[string]string{"job-reference.name": "orders", "job-reference.kind": "FlinkDeployment"}, want: "orders"},
		{name: "a user's snapshot, spec only", spec: map[string]any{"jobReference": map[string]any{"kind": "FlinkDeployment", "name": "orders"}}, want: "orders"},
		{name: "a session job's", labels: map[string]string{"job-reference.name": "orders", "job-reference.kind": "FlinkSessionJob"}},
		{name: "no reference"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := &unstructured.Unstructured{Object: map[string]any{}}
			snap.SetLabels(tt.labels)
			if tt.spec != nil {
				snap.Object["spec"] = tt.spec
			}
			got, ok := snapshotDeployment(snap)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.want != "", ok)
		})
	}
}

func TestOperatorError(t *testing.T) {
	assert.Equal(t, "Job could not be upgraded", operatorError(`{"type":"org.apache.flink.kubernetes.operator.exception.ReconciliationException","message":"Job could not be upgraded","throwableList":[]}`))
	assert.Equal(t, "plain text", operatorError("plain text"))
	assert.Equal(t, `{"type":"x"}`, operatorError(`{"type":"x"}`), "no message: kept as it is")
}

func operatorTestApp(spec map[string]any) *unstructured.Unstructured {
	app := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	app.SetGroupVersionKind(cmfv1.GroupVersion.WithKind("FlinkApplication"))
	app.SetNamespace("team-a")
	app.SetName("orders")
	return app
}
