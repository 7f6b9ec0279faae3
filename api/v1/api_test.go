package v1_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
)

// TestAPI proves the CRDs against a real kube-apiserver: CMF's request
// bodies apply with kubectl, defaults come back, bad input is rejected with a
// message naming the field, and kubectl shows the printer columns and the
// field descriptions.
func TestAPI(t *testing.T) {
	env := controlplane.Start(t, controlplane.Options{})
	t.Run("seed bodies apply with kubectl", func(t *testing.T) { testSeedBodies(t, env) })
	t.Run("defaults", func(t *testing.T) { testDefaults(t, env) })
	t.Run("bad input is rejected naming the field", func(t *testing.T) { testRejected(t, env) })
	t.Run("parent is immutable", func(t *testing.T) { testParentImmutable(t, env) })
	t.Run("detached path is immutable", func(t *testing.T) { testDetachedPathImmutable(t, env) })
	t.Run("a detached savepoint's source is fixed at creation, and names a uid", func(t *testing.T) { testDetachedSourceFixed(t, env) })
	t.Run("a parent's compute pool is immutable", func(t *testing.T) { testComputePoolImmutable(t, env) })
	t.Run("kubectl get shows the printer columns", func(t *testing.T) { testPrinterColumns(t, env) })
	t.Run("kubectl explain reads the field descriptions", func(t *testing.T) { testExplain(t, env) })
}

func testSeedBodies(t *testing.T, env *controlplane.Env) {
	ctx := context.Background()
	ns := env.Namespace(t)
	for _, file := range []string{"seed-savepoint.json", "seed-detached-savepoint.json"} {
		out, errOut, err := env.RunKubectl(ctx, "apply", "-n", ns, "-f", filepath.Join("testdata", file))
		require.NoError(t, err, "kubectl apply -f %s: %s", file, errOut)
		assert.Contains(t, out, "created")
	}

	var sp cmfv1.Savepoint
	require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "my-manual-savepoint-1"}, &sp))
	assert.Equal(t, "orders", sp.Spec.Application)
	assert.Equal(t, "s3://my-bucket/custom-path/", sp.Spec.Path)
	assert.Equal(t, cmfv1.FormatCanonical, sp.Spec.FormatType)
	assert.Equal(t, ptr.To[int32](0), sp.Spec.BackoffLimit, "an explicit 0 (no retry) must not be defaulted away")

	var dsp cmfv1.DetachedSavepoint
	require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "my-detached-savepoint-1"}, &dsp))
	assert.Equal(t, "s3://flink/stateful-flink/checkpoints", dsp.Spec.Path)
	assert.Equal(t, cmfv1.StateCompleted, dsp.Status.State, "a detached savepoint is always COMPLETED")
}

func testDefaults(t *testing.T, env *controlplane.Env) {
	ctx := context.Background()
	ns := env.Namespace(t)
	_, errOut, err := env.RunKubectl(ctx, "apply", "-n", ns, "-f", filepath.Join("testdata", "minimal-savepoint.yaml"))
	require.NoError(t, err, errOut)

	var sp cmfv1.Savepoint
	require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "minimal"}, &sp))
	// No schema defaults here: the webhook must see what was left out, to
	// give it the namespace default policy's template (internal/webhook);
	// the controller reads what is still empty as CANONICAL and -1.
	assert.Empty(t, sp.Spec.FormatType, "formatType left out stays out at the API server")
	assert.Nil(t, sp.Spec.BackoffLimit, "backoffLimit left out stays out at the API server")

	app := &cmfv1.FlinkApplication{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orders"},
		Spec:       cmfv1.FlinkApplicationSpec{Job: &cmfv1.JobSpec{JarURI: "local:///opt/flink/job.jar"}},
	}
	require.NoError(t, env.Client.Create(ctx, app))
	assert.Equal(t, cmfv1.JobRunning, app.Spec.Job.State)
	assert.Equal(t, cmfv1.UpgradeStateless, app.Spec.Job.UpgradeMode)
}

func testRejected(t *testing.T, env *controlplane.Env) {
	ctx := context.Background()
	ns := env.Namespace(t)
	savepoint := func(mutate func(*cmfv1.Savepoint)) client.Object {
		sp := &cmfv1.Savepoint{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "bad-"},
			Spec:       cmfv1.SavepointSpec{Application: "orders"},
		}
		mutate(sp)
		return sp
	}
	application := func(sfs *cmfv1.StartFromSavepoint) client.Object {
		return &cmfv1.FlinkApplication{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "bad-"},
			Spec:       cmfv1.FlinkApplicationSpec{Job: &cmfv1.JobSpec{StartFromSavepoint: sfs}},
		}
	}
	statement := func(sfs *cmfv1.StartFromSavepoint) client.Object {
		return &cmfv1.Statement{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "bad-"},
			Spec: cmfv1.StatementSpec{
				Statement: "INSERT INTO sink SELECT * FROM source", ComputePoolName: "pool",
				StartFromSavepoint: sfs,
			},
		}
	}

	tests := []struct {
		name  string
		obj   client.Object
		field string
		want  string
	}{
		{
			name:  "formatType not an enum value",
			obj:   savepoint(func(sp *cmfv1.Savepoint) { sp.Spec.FormatType = "ALIGNED" }),
			field: "spec.formatType",
			want:  `Unsupported value: "ALIGNED": supported values: "CANONICAL", "NATIVE"`,
		},
		{
			name:  "backoffLimit below -1",
			obj:   savepoint(func(sp *cmfv1.Savepoint) { sp.Spec.BackoffLimit = ptr.To[int32](-2) }),
			field: "spec.backoffLimit",
			want:  "should be greater than or equal to -1",
		},
		{
			name:  "both parents",
			obj:   savepoint(func(sp *cmfv1.Savepoint) { sp.Spec.Statement = "clicks" }),
			field: "spec",
			want:  "set exactly one of spec.application or spec.statement",
		},
		{
			name:  "no parent",
			obj:   savepoint(func(sp *cmfv1.Savepoint) { sp.Spec.Application = "" }),
			field: "spec",
			want:  "set exactly one of spec.application or spec.statement",
		},
		{
			name: "startFromSavepoint with two references",
			obj: application(&cmfv1.StartFromSavepoint{
				SavepointName: "sp-1", InitialSavepointPath: "s3://b/sp",
			}),
			field: "spec.job.startFromSavepoint",
			want:  "set one of savepointName (with or without uid), uid or initialSavepointPath",
		},
		{
			name:  "startFromSavepoint with no reference",
			obj:   application(&cmfv1.StartFromSavepoint{AllowNonRestoredState: ptr.To(true)}),
			field: "spec.job.startFromSavepoint",
			want:  "set one of savepointName (with or without uid), uid or initialSavepointPath",
		},
		{
			name:  "statement from a raw path",
			obj:   statement(&cmfv1.StartFromSavepoint{InitialSavepointPath: "file:///tmp/sp"}),
			field: "spec.startFromSavepoint.initialSavepointPath",
			want:  "is not supported for a Statement",
		},
		{
			name: "detached savepoint without path",
			// As a user writes it: no path at all, not an empty one.
			obj: &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "cmf.confluent.io/v1", "kind": "DetachedSavepoint",
				"metadata": map[string]any{"namespace": ns, "generateName": "bad-"},
				"spec":     map[string]any{},
			}},
			field: "spec.path",
			want:  "Required value",
		},
		{
			name: "compute pool URL without scheme",
			obj: &cmfv1.ComputePool{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "bad-"},
				Spec:       cmfv1.ComputePoolSpec{RestURL: "flink-jobmanager:8081"},
			},
			field: "spec.restURL",
			want:  "should match '^https?://'",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := env.Client.Create(ctx, tt.obj)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.field)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func testParentImmutable(t *testing.T, env *controlplane.Env) {
	ctx := context.Background()
	ns := env.Namespace(t)
	sp := &cmfv1.Savepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sp"},
		Spec:       cmfv1.SavepointSpec{Application: "orders"},
	}
	require.NoError(t, env.Client.Create(ctx, sp))

	tests := []struct {
		name   string
		mutate func(*cmfv1.Savepoint)
		want   string
	}{
		{"another application", func(s *cmfv1.Savepoint) { s.Spec.Application = "payments" }, "spec.application is immutable"},
		{"application to statement", func(s *cmfv1.Savepoint) { s.Spec.Application, s.Spec.Statement = "", "clicks" }, "spec.application is immutable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changed := sp.DeepCopy()
			tt.mutate(changed)
			err := env.Client.Update(ctx, changed)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}

	changed := sp.DeepCopy()
	changed.Spec.BackoffLimit = ptr.To[int32](3)
	require.NoError(t, env.Client.Update(ctx, changed), "backoffLimit may change")
}

func testDetachedPathImmutable(t *testing.T, env *controlplane.Env) {
	ctx := context.Background()
	ns := env.Namespace(t)
	dsp := &cmfv1.DetachedSavepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "imported"},
		Spec:       cmfv1.DetachedSavepointSpec{Path: "file:///savepoints/savepoint-1"},
	}
	require.NoError(t, env.Client.Create(ctx, dsp))
	dsp.Spec.Path = "file:///savepoints/savepoint-2"
	err := env.Client.Update(ctx, dsp)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "spec.path is immutable")
}

// testDetachedSourceFixed: without the webhook too, a source cannot be
// added to a DetachedSavepoint that had none (which once made the manager
// remove the named savepoint as detached), removed or changed; and a
// source names the savepoint's uid.
func testDetachedSourceFixed(t *testing.T, env *controlplane.Env) {
	ctx := context.Background()
	ns := env.Namespace(t)
	const fixed = "spec.source cannot be added, removed or changed after creation: a detach is the creation of a DetachedSavepoint with a source (kubectl savepoint detach)"
	source := `{"namespace":"victim","application":"orders","savepointName":"nightly","uid":"0d3c52a8-1d7a-4a63-9c39-2b9a4a6d3a10"}`
	imported := &cmfv1.DetachedSavepoint{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "imported"}, Spec: cmfv1.DetachedSavepointSpec{Path: "s3://b/any"}}
	require.NoError(t, env.Client.Create(ctx, imported))
	detached := &cmfv1.DetachedSavepoint{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "detached"}, Spec: cmfv1.DetachedSavepointSpec{Path: "s3://b/nightly",
		Source: &cmfv1.DetachedSavepointSource{Namespace: "victim", Application: "orders", SavepointName: "nightly", UID: "0d3c52a8-1d7a-4a63-9c39-2b9a4a6d3a10"}}}
	require.NoError(t, env.Client.Create(ctx, detached))

	tests := []struct {
		name  string
		obj   *cmfv1.DetachedSavepoint
		patch string
		want  string
	}{
		{"added", imported, `{"spec":{"source":` + source + `}}`, fixed},
		{"removed", detached, `{"spec":{"source":null}}`, fixed},
		{"changed", detached, `{"spec":{"source":{"savepointName":"weekly"}}}`, fixed},
		{"uid removed", detached, `{"spec":{"source":{"uid":null}}}`, fixed},
		{"metadata only", detached, `{"metadata":{"labels":{"team":"orders"}}}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := env.Client.Patch(ctx, tt.obj, client.RawPatch(types.MergePatchType, []byte(tt.patch)))
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}

	noUID := &cmfv1.DetachedSavepoint{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "no-uid"}, Spec: cmfv1.DetachedSavepointSpec{Path: "s3://b/nightly",
		Source: &cmfv1.DetachedSavepointSource{Namespace: "victim", Application: "orders", SavepointName: "nightly"}}}
	err := env.Client.Create(ctx, noUID)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "spec.source.uid is required: the metadata.uid of the Savepoint to detach, so that a savepoint replaced under the same name is never detached (kubectl savepoint detach sets it)")
}

func testComputePoolImmutable(t *testing.T, env *controlplane.Env) {
	ctx := context.Background()
	ns := env.Namespace(t)
	tests := []struct {
		name   string
		before string
		after  string
		want   string
	}{
		{"operator mode to a pool", "", "pool", "spec.computePoolName is immutable: a job cannot move between compute pools or between a pool and the Flink Kubernetes Operator"},
		{"a pool to operator mode", "pool", "", "spec.computePoolName is immutable"},
		{"another pool", "pool", "other", "spec.computePoolName is immutable"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := &cmfv1.FlinkApplication{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("app-%d", i)},
				Spec:       cmfv1.FlinkApplicationSpec{ComputePoolName: tt.before},
			}
			require.NoError(t, env.Client.Create(ctx, app))
			app.Spec.ComputePoolName = tt.after
			err := env.Client.Update(ctx, app)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	stmt := &cmfv1.Statement{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "clicks"},
		Spec:       cmfv1.StatementSpec{Statement: "INSERT INTO s SELECT 1", ComputePoolName: "pool"},
	}
	require.NoError(t, env.Client.Create(ctx, stmt))
	stmt.Spec.ComputePoolName = "other"
	err := env.Client.Update(ctx, stmt)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "spec.computePoolName is immutable: create a new Statement on the other pool")
}

func testPrinterColumns(t *testing.T, env *controlplane.Env) {
	ctx := context.Background()
	ns := env.Namespace(t)
	sp := &cmfv1.Savepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orders-1"},
		Spec:       cmfv1.SavepointSpec{Application: "orders", FormatType: cmfv1.FormatNative},
	}
	require.NoError(t, env.Client.Create(ctx, sp))
	sp.Status = cmfv1.SavepointStatus{
		State: cmfv1.StateCompleted, Path: "file:/savepoints/savepoint-abc", Origin: cmfv1.OriginManual,
	}
	require.NoError(t, env.Client.Status().Update(ctx, sp))

	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"get", "savepoints"}, []string{"NAME", "STATE", "APPLICATION", "STATEMENT", "FORMAT", "PATH", "AGE"}},
		{[]string{"get", "sp", "-o", "wide"}, []string{"ORIGIN", "FAILURES", "ERROR"}},
		{[]string{"get", "flink"}, []string{"savepoint.cmf.confluent.io/orders-1"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, errOut, err := env.RunKubectl(ctx, append(tt.args, "-n", ns)...)
			require.NoError(t, err, errOut)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			for _, col := range tt.want {
				assert.Contains(t, out, col)
			}
			if tt.args[1] != "flink" {
				require.Len(t, lines, 2)
				// The empty STATEMENT column prints as blanks, so it has no field of its own.
				assert.Equal(t, []string{"orders-1", "COMPLETED", "orders", "NATIVE", "file:/savepoints/savepoint-abc"},
					strings.Fields(lines[1])[:5])
			}
		})
	}
}

func testExplain(t *testing.T, env *controlplane.Env) {
	ctx := context.Background()
	tests := []struct {
		field string
		want  string
	}{
		{"savepoint.spec.backoffLimit", "-1 retries\n    until it succeeds or is abandoned, 0 never retries"},
		{"savepoint.status.triggerId", "recorded before the trigger is sent"},
		{"detachedsavepoint.spec.path", "exact, complete location"},
		{"flinkapplication.spec.job.startFromSavepoint", "pinned to its uid at admission"},
		{"statement.spec.stopped", "stops the job with a savepoint"},
		{"computepool.spec.restURL", "JobManager REST endpoint"},
		{"savepointpolicy.spec.jitter", "its own fixed offset below jitter"},
		{"savepointpolicy.spec.retention", "a policy never deletes a MANUAL or"},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			var out, errOut string
			var err error
			// The API server publishes a new CRD's OpenAPI a moment after it is established.
			require.Eventually(t, func() bool {
				out, errOut, err = env.RunKubectl(ctx, "explain", tt.field)
				return err == nil
			}, 30*time.Second, 200*time.Millisecond, "kubectl explain %s: %s", tt.field, errOut)
			assert.Contains(t, out, tt.want)
		})
	}
}
