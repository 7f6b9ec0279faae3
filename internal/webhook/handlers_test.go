package webhook

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
)

// These call the handlers with the requests the API server would send
// where the CRD's own rules would refuse first, or where no request can be
// made any more: the webhook holds on its own.

func review(t *testing.T, op admissionv1.Operation, kind string, obj, old runtime.Object) admission.Request {
	t.Helper()
	raw := func(o runtime.Object) runtime.RawExtension {
		if o == nil {
			return runtime.RawExtension{}
		}
		data, err := json.Marshal(o)
		require.NoError(t, err)
		return runtime.RawExtension{Raw: data}
	}
	return admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		Operation: op, Kind: metav1.GroupVersionKind{Group: cmfv1.GroupVersion.Group, Version: cmfv1.GroupVersion.Version, Kind: kind},
		Namespace: "team-b", Name: "x", Object: raw(obj), OldObject: raw(old),
	}}
}

func TestDetachedSourceFixedByTheWebhook(t *testing.T) {
	v := &detachedValidator{decoder: admission.NewDecoder(controlplane.NewScheme())}
	imported := &cmfv1.DetachedSavepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-b", Name: "x"},
		Spec:       cmfv1.DetachedSavepointSpec{Path: "s3://b/any"},
	}
	withSource := imported.DeepCopy()
	withSource.Spec.Source = &cmfv1.DetachedSavepointSource{Namespace: "team-a", Application: "orders", SavepointName: "nightly", UID: "uid-nightly"}
	otherSource := withSource.DeepCopy()
	otherSource.Spec.Source.SavepointName = "weekly"
	labelled := withSource.DeepCopy()
	labelled.Labels = map[string]string{"team": "b"}

	const denial = "DetachedSavepoint x: spec.source cannot be added, removed or changed after creation: to detach a savepoint, create a new DetachedSavepoint with its source (kubectl savepoint detach)"
	tests := []struct {
		name     string
		obj, old *cmfv1.DetachedSavepoint
		want     string
	}{
		{"added", withSource, imported, denial},
		{"removed", imported, withSource, denial},
		{"changed", otherSource, withSource, denial},
		{"metadata only", labelled, withSource, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := v.Handle(context.Background(), review(t, admissionv1.Update, "DetachedSavepoint", tt.obj, tt.old))
			if tt.want == "" {
				assert.True(t, resp.Allowed, resp.Result)
				return
			}
			require.False(t, resp.Allowed)
			assert.Equal(t, tt.want, resp.Result.Message)
		})
	}
}

// TestReservedSettingsOnUpdate: a parent admitted before the rule (with a
// reserved setting) is refused only once its spec changes; the manager's
// edits of its metadata (finalizers) pass.
func TestReservedSettingsOnUpdate(t *testing.T) {
	v := &parentValidator{decoder: admission.NewDecoder(controlplane.NewScheme())}
	old := &cmfv1.Statement{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-b", Name: "x"},
		Spec: cmfv1.StatementSpec{Statement: "INSERT INTO sink SELECT * FROM source", ComputePoolName: "pool",
			Properties: map[string]string{"execution.savepoint.path": "s3://b/team-a/savepoint-1"}},
	}
	finalized := old.DeepCopy()
	finalized.Finalizers = []string{cmfv1.ParentFinalizer}
	stopped := old.DeepCopy()
	stopped.Spec.Stopped = true

	resp := v.Handle(context.Background(), review(t, admissionv1.Update, "Statement", finalized, old))
	assert.True(t, resp.Allowed, "metadata only: %v", resp.Result)
	resp = v.Handle(context.Background(), review(t, admissionv1.Update, "Statement", stopped, old))
	require.False(t, resp.Allowed)
	assert.Contains(t, resp.Result.Message, "Statement x: spec.properties[execution.savepoint.path] chooses the savepoint the job restores from")
}

// TestRestURLLength: the rest-url annotation is capped when it is set or
// changed; a parent admitted before with a longer one still takes edits of
// anything else.
func TestRestURLLength(t *testing.T) {
	v := &parentValidator{decoder: admission.NewDecoder(controlplane.NewScheme())}
	statement := func(url string) *cmfv1.Statement {
		stmt := &cmfv1.Statement{
			ObjectMeta: metav1.ObjectMeta{Namespace: "team-b", Name: "x"},
			Spec:       cmfv1.StatementSpec{Statement: "INSERT INTO sink SELECT * FROM source", ComputePoolName: "pool"},
		}
		if url != "" {
			stmt.Annotations = map[string]string{cmfv1.RestURLAnnotation: url}
		}
		return stmt
	}
	url := func(n int) string { return "http://jm:8081/" + strings.Repeat("a", n-len("http://jm:8081/")) }
	longest, tooLong, other := url(cmfv1.MaxEndpointURLLength), url(cmfv1.MaxEndpointURLLength+1), url(cmfv1.MaxEndpointURLLength+2)
	finalized := statement(tooLong)
	finalized.Finalizers = []string{cmfv1.ParentFinalizer}

	const denial = "Statement x: metadata.annotations[cmf.confluent.io/rest-url] is 2049 bytes long, and an endpoint URL may be at most 2048: give the JobManager's REST URL (scheme, host, port, path), or remove it to use the ComputePool's restURL"
	tests := []struct {
		name     string
		op       admissionv1.Operation
		obj, old *cmfv1.Statement
		want     string
	}{
		{"at the limit", admissionv1.Create, statement(longest), nil, ""},
		{"past it", admissionv1.Create, statement(tooLong), nil, denial},
		{"set on an update", admissionv1.Update, statement(tooLong), statement(""), denial},
		{"changed on an update", admissionv1.Update, statement(tooLong), statement(other), denial},
		{"kept while the metadata changes", admissionv1.Update, finalized, statement(tooLong), ""},
		{"removed", admissionv1.Update, statement(""), statement(tooLong), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var old runtime.Object
			if tt.old != nil {
				old = tt.old
			}
			resp := v.Handle(context.Background(), review(t, tt.op, "Statement", tt.obj, old))
			if tt.want == "" {
				assert.True(t, resp.Allowed, resp.Result)
				return
			}
			require.False(t, resp.Allowed)
			assert.Equal(t, tt.want, resp.Result.Message)
		})
	}
}
