package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/kubectl-savepoint/kubectl-savepoint/internal/index"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
)

// FuzzAdmission sends arbitrary AdmissionReview bodies through each
// handler's real HTTP entry point, with lookups against a real API server:
// no panic (recovery is off), and always a well-formed review in return.
// The seed corpus is in testdata/fuzz/FuzzAdmission.
func FuzzAdmission(f *testing.F) {
	env := controlplane.Start(f, controlplane.Options{})
	ctx := context.Background()
	require.NoError(f, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "fuzz-claims"}}))
	var handlers map[string]admission.Handler
	_, _ = env.StartManager(f, func(ctx context.Context, mgr ctrl.Manager) error {
		if err := index.Add(ctx, mgr.GetFieldIndexer()); err != nil {
			return err
		}
		opts := Options{ClaimNamespace: "fuzz-claims"}
		if err := opts.defaults(); err != nil {
			return err
		}
		handlers, _ = newHandlers(mgr, opts)
		return nil
	})
	paths := make([]string, 0, len(handlers))
	for path := range handlers {
		paths = append(paths, path)
	}
	sort.Strings(paths)

	f.Add(uint8(0), []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","operation":"CREATE","kind":{"group":"cmf.confluent.io","version":"v1","kind":"Savepoint"},"namespace":"default","object":{"apiVersion":"cmf.confluent.io/v1","kind":"Savepoint","spec":{"application":"orders"}}}}`))
	f.Add(uint8(1), []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"2","operation":"DELETE","kind":{"group":"cmf.confluent.io","version":"v1","kind":"FlinkApplication"},"namespace":"default","name":"orders"}}`))
	f.Add(uint8(2), []byte(`{"request":{"uid":"3","operation":"CREATE","object":{"spec":{"source":{"namespace":"x","application":"a","savepointName":"s"}}}}}`))
	f.Add(uint8(3), []byte(`not json`))

	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		handler := &webhook.Admission{Handler: handlers[paths[int(which)%len(paths)]], RecoverPanic: ptr.To(false)}
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)

		require.Equal(t, http.StatusOK, rec.Code, "the webhook always answers with a review")
		var review admissionv1.AdmissionReview
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &review), "well-formed JSON: %s", rec.Body.String())
		require.NotNil(t, review.Response)
		var sent admissionv1.AdmissionReview
		if json.Unmarshal(body, &sent) == nil && sent.Request != nil {
			assert.Equal(t, sent.Request.UID, review.Response.UID, "the answer names the request")
		}
		if !review.Response.Allowed {
			require.NotNil(t, review.Response.Result, "a denial says why")
		}
	})
}
