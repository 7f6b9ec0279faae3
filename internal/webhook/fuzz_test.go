package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	admissionv1beta1 "k8s.io/api/admission/v1beta1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/index"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/rules"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/schedule"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
)

// fuzzManager is the manager's user name in FuzzAdmission.
const fuzzManager = "savepoint-manager"

// sharedControlPlane names the environment variable through which
// FuzzAdmission's fuzzing workers find the control plane the coordinating
// process started: the path of its administrator's kubeconfig.
const sharedControlPlane = "FUZZ_ADMISSION_KUBECONFIG"

// FuzzAdmission sends arbitrary AdmissionReview bodies through each
// handler's real HTTP entry point, with lookups and access reviews against
// a real API server. Whatever the body:
//   - no panic (recovery is off), and always a well-formed review in return,
//     naming the request, with a reason for a denial;
//   - nothing of namespace "secret" (a savepoint's path and uid, a detached
//     savepoint's path) is in an answer unless the request's user may read
//     it there (asked with a SubjectAccessReview) or the request wrote it;
//   - a Savepoint with a parent that sets, changes or removes a
//     manager-only annotation is allowed only for the manager;
//   - a DetachedSavepoint update that adds, removes or changes spec.source
//     is never allowed;
//   - a parent created with a Flink setting only the manager chooses
//     (rules.ReservedSetting), or with a rest-url annotation longer than
//     an endpoint URL may be, is never allowed;
//   - an application without computePoolName is created, or its spec
//     changed, only by a user who may create, or update, its
//     FlinkDeployment (asked with a SubjectAccessReview);
//   - a startFromSavepoint admitted with savepointName and uid names the
//     object of that uid, under that name (a pin never points elsewhere);
//   - the parent mutation writes nothing but startFromSavepoint.uid, and a
//     uid it writes is a DetachedSavepoint of that name the user may read
//     (a pinned uid is in the answer the leak check reads);
//   - a SavepointPolicy is admitted only with a schedule that can be read
//     (or none), and one that schedules or retains over another
//     namespace's parent only for a user who may update (or delete) it.
//
// The seed corpus is in testdata/fuzz/FuzzAdmission.
//
// One control plane serves the whole fuzzing run: `go test -fuzz` runs this
// function in the coordinating process and again in each worker process, so
// the coordinator starts it and passes its kubeconfig to the workers
// (sharedControlPlane), which connect to it. A worker that started its own
// would hand its fuzzing pipes down to etcd and kube-apiserver, which
// outlive a worker the coordinator stops or restarts, so the coordinator
// would wait for their end forever (the stall of a -fuzz run).
func FuzzAdmission(f *testing.F) {
	var env *controlplane.Env
	ctx := context.Background()
	worker := os.Getenv(sharedControlPlane) != ""
	if worker {
		env = controlplane.Connect(f, os.Getenv(sharedControlPlane))
	} else {
		env = controlplane.Start(f, controlplane.Options{})
		f.Setenv(sharedControlPlane, env.Kubeconfig)
		require.NoError(f, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "fuzz-claims"}}))
	}
	var handlers map[string]admission.Handler
	var cache client.Reader
	_, _ = env.StartManager(f, func(ctx context.Context, mgr ctrl.Manager) error {
		if err := index.Add(ctx, mgr.GetFieldIndexer()); err != nil {
			return err
		}
		opts := Options{ClaimNamespace: "fuzz-claims", ManagerUser: fuzzManager}
		if err := opts.defaults(); err != nil {
			return err
		}
		handlers, _ = newHandlers(mgr, opts)
		cache = mgr.GetClient()
		return nil
	})
	// The first byte of an input picks the handler: the seed corpus names
	// them by these positions, so new handlers go at the end.
	paths := []string{MutateSavepointPath, ValidateDetachedPath, ValidateParentPath, ValidateSavepointPath, ValidateComputePoolPath, MutateParentPath, ValidatePolicyPath}
	require.Len(f, handlers, len(paths), "every handler is fuzzed")
	for _, path := range paths {
		require.Contains(f, handlers, path)
	}
	secrets := secretFixtures(f, env, cache, worker)
	decoder := admission.NewDecoder(env.Scheme)
	// The AdmissionReview codecs controller-runtime's webhook reads with.
	reviewScheme := runtime.NewScheme()
	utilruntime.Must(admissionv1.AddToScheme(reviewScheme))
	utilruntime.Must(admissionv1beta1.AddToScheme(reviewScheme))
	reviews := serializer.NewCodecFactory(reviewScheme).UniversalDeserializer()

	f.Add(uint8(0), []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","operation":"CREATE","kind":{"group":"cmf.confluent.io","version":"v1","kind":"Savepoint"},"namespace":"default","object":{"apiVersion":"cmf.confluent.io/v1","kind":"Savepoint","spec":{"application":"orders"}}}}`))
	// The parent mutation: mallory names the secret DetachedSavepoint by
	// name (no pin: not readable), or pins a name to its uid.
	f.Add(uint8(5), []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"7","operation":"CREATE","kind":{"group":"cmf.confluent.io","version":"v1","kind":"FlinkApplication"},"namespace":"mallory","name":"thief","userInfo":{"username":"mallory","groups":["system:authenticated"]},"object":{"apiVersion":"cmf.confluent.io/v1","kind":"FlinkApplication","metadata":{"name":"thief","namespace":"mallory"},"spec":{"computePoolName":"pool","job":{"jarURI":"local:///j.jar","startFromSavepoint":{"savepointName":"secret-golden"}}}}}}`))
	f.Add(uint8(5), []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"8","operation":"CREATE","kind":{"group":"cmf.confluent.io","version":"v1","kind":"FlinkApplication"},"namespace":"secret","name":"reader","userInfo":{"username":"admin","groups":["system:masters","system:authenticated"]},"object":{"apiVersion":"cmf.confluent.io/v1","kind":"FlinkApplication","metadata":{"name":"reader","namespace":"secret"},"spec":{"computePoolName":"pool","job":{"jarURI":"local:///j.jar","startFromSavepoint":{"savepointName":"secret-golden"}}}}}}`))
	f.Add(uint8(1), []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"2","operation":"DELETE","kind":{"group":"cmf.confluent.io","version":"v1","kind":"FlinkApplication"},"namespace":"default","name":"orders"}}`))
	f.Add(uint8(2), []byte(`{"request":{"uid":"3","operation":"CREATE","object":{"spec":{"source":{"namespace":"x","application":"a","savepointName":"s"}}}}}`))
	f.Add(uint8(3), []byte(`not json`))
	// The secret's uids exist only now: references by uid, as mallory.
	f.Add(uint8(1), []byte(fmt.Sprintf(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"4","operation":"CREATE","kind":{"group":"cmf.confluent.io","version":"v1","kind":"DetachedSavepoint"},"namespace":"mallory","name":"stolen","userInfo":{"username":"mallory","groups":["system:authenticated"]},"dryRun":true,"object":{"apiVersion":"cmf.confluent.io/v1","kind":"DetachedSavepoint","metadata":{"name":"stolen","namespace":"mallory"},"spec":{"path":"s3://guess","source":{"namespace":"secret","application":"orders","savepointName":"nightly","uid":"%s"}}}}}`, secrets.savepointUID)))
	f.Add(uint8(2), []byte(fmt.Sprintf(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"5","operation":"CREATE","kind":{"group":"cmf.confluent.io","version":"v1","kind":"FlinkApplication"},"namespace":"mallory","name":"thief","userInfo":{"username":"mallory","groups":["system:authenticated"]},"object":{"apiVersion":"cmf.confluent.io/v1","kind":"FlinkApplication","metadata":{"name":"thief","namespace":"mallory"},"spec":{"job":{"jarURI":"local:///j.jar","startFromSavepoint":{"uid":"%s"}}}}}}`, secrets.detachedUID)))
	f.Add(uint8(2), []byte(fmt.Sprintf(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"9","operation":"CREATE","kind":{"group":"cmf.confluent.io","version":"v1","kind":"FlinkApplication"},"namespace":"secret","name":"mismatch","userInfo":{"username":"admin","groups":["system:masters","system:authenticated"]},"object":{"apiVersion":"cmf.confluent.io/v1","kind":"FlinkApplication","metadata":{"name":"mismatch","namespace":"secret"},"spec":{"computePoolName":"pool","job":{"jarURI":"local:///j.jar","startFromSavepoint":{"savepointName":"nightly","uid":"%s"}}}}}}`, secrets.detachedUID)))
	f.Add(uint8(2), []byte(fmt.Sprintf(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"6","operation":"CREATE","kind":{"group":"cmf.confluent.io","version":"v1","kind":"FlinkApplication"},"namespace":"mallory","name":"thief","userInfo":{"username":"mallory","groups":["system:authenticated"]},"object":{"apiVersion":"cmf.confluent.io/v1","kind":"FlinkApplication","metadata":{"name":"thief","namespace":"mallory"},"spec":{"computePoolName":"pool","job":{"jarURI":"http://artifacts/j.jar","startFromSavepoint":{"uid":"%s"}}}}}}`, secrets.detachedUID)))

	// A policy over secret/orders, as mallory, and one with a bad schedule.
	f.Add(uint8(6), []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"10","operation":"CREATE","kind":{"group":"cmf.confluent.io","version":"v1","kind":"SavepointPolicy"},"namespace":"secret","name":"p","userInfo":{"username":"mallory","groups":["system:authenticated"]},"object":{"apiVersion":"cmf.confluent.io/v1","kind":"SavepointPolicy","metadata":{"name":"p","namespace":"secret"},"spec":{"schedule":"@every 1m","retention":{"keepLast":1}}}}}`))
	f.Add(uint8(6), []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"11","operation":"CREATE","kind":{"group":"cmf.confluent.io","version":"v1","kind":"SavepointPolicy"},"namespace":"mallory","name":"p","userInfo":{"username":"admin","groups":["system:masters","system:authenticated"]},"object":{"apiVersion":"cmf.confluent.io/v1","kind":"SavepointPolicy","metadata":{"name":"p","namespace":"mallory"},"spec":{"schedule":"61 * * * *","parents":{"applications":["orders"]}}}}}`))

	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		path := paths[int(which)%len(paths)]
		handler := &webhook.Admission{Handler: handlers[path], RecoverPanic: ptr.To(false)}
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)

		require.Equal(t, http.StatusOK, rec.Code, "the webhook always answers with a review")
		var review admissionv1.AdmissionReview
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &review), "well-formed JSON: %s", rec.Body.String())
		require.NotNil(t, review.Response)
		// Read the body as the webhook does (case-sensitive JSON, or YAML;
		// v1 or v1beta1, or no apiVersion at all).
		var sent unversionedReview
		sent.SetGroupVersionKind(admissionv1.SchemeGroupVersion.WithKind("AdmissionReview"))
		if _, _, err := reviews.Decode(body, nil, &sent); err == nil && sent.Request != nil {
			assert.Equal(t, sent.Request.UID, review.Response.UID, "the answer names the request")
		}
		if !review.Response.Allowed {
			require.NotNil(t, review.Response.Result, "a denial says why")
		}
		if sent.Request == nil {
			return
		}
		answer := strings.Join(review.Response.Warnings, "\n")
		if review.Response.Result != nil {
			answer += "\n" + review.Response.Result.Message
		}
		answer += "\n" + string(review.Response.Patch)
		if path == MutateParentPath {
			requireOnlyPinned(t, review.Response.Patch)
		}
		secrets.requireNotLeaked(t, env, sent.Request, strings.TrimSpace(answer))
		if review.Response.Allowed {
			requireNotAllowed(t, env, decoder, path, sent.Request)
		}
	})
}

// unversionedReview is an AdmissionReview the deserializer fills whatever
// version the body names, as controller-runtime's webhook reads it.
type unversionedReview struct {
	admissionv1.AdmissionReview
}

// secrets are objects of namespace "secret", which no fuzzed user is bound to.
type secrets struct {
	savepointPath, savepointUID, detachedPath, detachedUID string
}

// A worker reads the fixtures the coordinating process made.
func secretFixtures(f *testing.F, env *controlplane.Env, cache client.Reader, worker bool) *secrets {
	ctx := context.Background()
	c := env.Client
	sp := &cmfv1.Savepoint{ObjectMeta: metav1.ObjectMeta{Namespace: "secret", Name: "nightly"}, Spec: cmfv1.SavepointSpec{Application: "orders"}}
	dsp := &cmfv1.DetachedSavepoint{ObjectMeta: metav1.ObjectMeta{Namespace: "secret", Name: "secret-golden"}, Spec: cmfv1.DetachedSavepointSpec{Path: "s3://secret/golden"}}
	if worker {
		require.NoError(f, c.Get(ctx, client.ObjectKeyFromObject(sp), sp))
		require.NoError(f, c.Get(ctx, client.ObjectKeyFromObject(dsp), dsp))
	} else {
		require.NoError(f, c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "secret"}}))
		require.NoError(f, c.Create(ctx, &cmfv1.FlinkApplication{ObjectMeta: metav1.ObjectMeta{Namespace: "secret", Name: "orders"},
			Spec: cmfv1.FlinkApplicationSpec{Job: &cmfv1.JobSpec{JarURI: "local:///j.jar"}}}))
		require.NoError(f, c.Create(ctx, sp))
		sp.Status = cmfv1.SavepointStatus{State: cmfv1.StateCompleted, Path: "s3://secret/savepoint-nightly"}
		require.NoError(f, c.Status().Update(ctx, sp))
		require.NoError(f, c.Create(ctx, dsp))
	}
	require.Eventually(f, func() bool {
		var seen cmfv1.Savepoint
		return cache.Get(ctx, client.ObjectKeyFromObject(dsp), &cmfv1.DetachedSavepoint{}) == nil &&
			cache.Get(ctx, client.ObjectKeyFromObject(sp), &seen) == nil && seen.Status.Path != ""
	}, 30*time.Second, 10*time.Millisecond, "the handlers' cache sees the secrets")
	return &secrets{savepointPath: sp.Status.Path, savepointUID: string(sp.UID), detachedPath: dsp.Spec.Path, detachedUID: string(dsp.UID)}
}

// requireNotLeaked fails when answer tells a secret that the request did
// not itself carry to a user who may not read it.
func (s *secrets) requireNotLeaked(t *testing.T, env *controlplane.Env, req *admissionv1.AdmissionRequest, answer string) {
	for _, secret := range []struct{ value, resource, name string }{
		{s.savepointPath, "savepoints", "nightly"},
		{s.savepointUID, "savepoints", "nightly"},
		{s.detachedPath, "detachedsavepoints", "secret-golden"},
		{s.detachedUID, "detachedsavepoints", "secret-golden"},
	} {
		if !strings.Contains(answer, secret.value) || carries(req, secret.value) {
			continue
		}
		review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: req.UserInfo.Username, UID: req.UserInfo.UID, Groups: req.UserInfo.Groups, Extra: extraOf(req.UserInfo.Extra),
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: "secret", Verb: "get", Group: cmfv1.GroupVersion.Group, Resource: secret.resource, Name: secret.name},
		}}
		if err := env.Client.Create(context.Background(), review); err != nil {
			continue // not a user the API server can judge (e.g. no name): nothing could have been granted
		}
		require.True(t, review.Status.Allowed, "%q is told %s of namespace secret without the right to read it: %s", req.UserInfo.Username, secret.value, answer)
	}
}

// carries reports whether the request holds value, however its JSON
// escapes it.
func carries(req *admissionv1.AdmissionRequest, value string) bool {
	raw, err := json.Marshal(req)
	if err != nil {
		return false
	}
	var decoded any
	if json.Unmarshal(raw, &decoded) != nil {
		return bytes.Contains(raw, []byte(value))
	}
	var canonical bytes.Buffer
	enc := json.NewEncoder(&canonical)
	enc.SetEscapeHTML(false)
	return enc.Encode(decoded) == nil && bytes.Contains(canonical.Bytes(), []byte(value))
}

// requireNotAllowed fails when an allowed request breaks a rule that no
// request may pass.
func requireNotAllowed(t *testing.T, env *controlplane.Env, decoder admission.Decoder, path string, req *admissionv1.AdmissionRequest) {
	switch path {
	case ValidateSavepointPath:
		if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update || req.UserInfo.Username == fuzzManager {
			return
		}
		var sp, old cmfv1.Savepoint
		if decoder.DecodeRaw(req.Object, &sp) != nil {
			return
		}
		if kind, _ := sp.Parent(); kind == "" {
			return // no parent: the CRD refuses it
		}
		if req.Operation == admissionv1.Update && decoder.DecodeRaw(req.OldObject, &old) != nil {
			return
		}
		for _, a := range managerOnlyAnnotations {
			value, set := sp.Annotations[a.key]
			oldValue, was := old.Annotations[a.key]
			require.False(t, set != was || value != oldValue, "%s allowed to set %s", req.UserInfo.Username, a.key)
		}
	case ValidateDetachedPath:
		if req.Operation != admissionv1.Update {
			return
		}
		var dsp, old cmfv1.DetachedSavepoint
		if decoder.DecodeRaw(req.Object, &dsp) != nil || decoder.DecodeRaw(req.OldObject, &old) != nil {
			return
		}
		require.True(t, equality.Semantic.DeepEqual(dsp.Spec.Source, old.Spec.Source), "spec.source changed on update")
	case ValidateParentPath:
		kind := cmfv1.ParentKind(req.Kind.Kind)
		obj := kind.NewParent()
		if obj == nil || req.Operation != admissionv1.Create && req.Operation != admissionv1.Update || decoder.DecodeRaw(req.Object, obj) != nil {
			return
		}
		if req.Operation == admissionv1.Create {
			require.Empty(t, rules.ReservedSetting(obj), "a reserved setting was admitted")
			require.LessOrEqual(t, len(obj.GetAnnotations()[cmfv1.RestURLAnnotation]), cmfv1.MaxEndpointURLLength, "a longer rest-url was admitted")
		}
		if app, ok := obj.(*cmfv1.FlinkApplication); ok && app.Spec.ComputePoolName == "" {
			requireMayWriteDeployment(t, env, req)
		}
		requirePinHolds(t, env, decoder, kind, req, obj)
	case ValidatePolicyPath:
		var p cmfv1.SavepointPolicy
		if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update || req.UserInfo.Username == fuzzManager || decoder.DecodeRaw(req.Object, &p) != nil {
			return
		}
		if _, err := schedule.Parse(&p.Spec); err != nil {
			require.ErrorIs(t, err, schedule.ErrNoSchedule, "a policy whose schedule cannot be read was admitted")
		}
		// A schedule or a retention over namespace "secret" makes the
		// manager create or delete savepoints there: only for a user who may.
		if req.Namespace == "secret" && (p.Spec.Schedule != "" || p.Spec.Retention != nil) {
			verb := "update"
			if p.Spec.Schedule == "" {
				verb = "delete"
			}
			review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
				User: req.UserInfo.Username, UID: req.UserInfo.UID, Groups: req.UserInfo.Groups, Extra: extraOf(req.UserInfo.Extra),
				ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: "secret", Verb: verb, Group: cmfv1.GroupVersion.Group, Resource: "flinkapplications", Name: "orders"},
			}}
			if env.Client.Create(context.Background(), review) == nil && req.Operation == admissionv1.Create &&
				(p.NamespaceDefault() || slices.Contains(p.Spec.Parents.Applications, "orders")) {
				require.True(t, review.Status.Allowed, "%q got a policy over secret/orders without %s on it", req.UserInfo.Username, verb)
			}
		}
	}
}

// requireOnlyPinned fails when the parent mutation's patch touches anything
// but spec.job.startFromSavepoint.uid.
func requireOnlyPinned(t *testing.T, patch []byte) {
	if len(patch) == 0 {
		return
	}
	var ops []struct {
		Op   string `json:"op"`
		Path string `json:"path"`
	}
	require.NoError(t, json.Unmarshal(patch, &ops), "a JSON patch: %s", patch)
	for _, op := range ops {
		if op.Path == "/spec/job/startFromSavepoint/uid" {
			continue
		}
		// A uid added where startFromSavepoint had none is one op on it.
		require.Failf(t, "the parent mutation wrote more than the pinned uid", "%s %s in %s", op.Op, op.Path, patch)
	}
}

// requirePinHolds fails when a parent whose startFromSavepoint names a
// savepoint by name and uid was admitted (with that reference new or
// changed) although the uid is not an object of that name.
func requirePinHolds(t *testing.T, env *controlplane.Env, decoder admission.Decoder, kind cmfv1.ParentKind, req *admissionv1.AdmissionRequest, obj cmfv1.Parent) {
	ref := obj.StartFrom()
	if ref == nil || ref.SavepointName == "" || ref.UID == "" {
		return
	}
	if req.Operation == admissionv1.Update {
		old := kind.NewParent()
		if decoder.DecodeRaw(req.OldObject, old) == nil && equality.Semantic.DeepEqual(ref, old.StartFrom()) {
			return // unchanged references are not judged again
		}
	}
	ctx := context.Background()
	var detached cmfv1.DetachedSavepointList
	require.NoError(t, env.Client.List(ctx, &detached))
	var attached cmfv1.SavepointList
	require.NoError(t, env.Client.List(ctx, &attached, client.InNamespace(req.Namespace)))
	names := map[string]string{}
	for _, d := range detached.Items {
		names[string(d.UID)] = d.Name
	}
	for _, a := range attached.Items {
		names[string(a.UID)] = a.Name
	}
	name, ok := names[ref.UID]
	require.True(t, ok, "admitted a startFromSavepoint pinned to uid %s, which no savepoint has", ref.UID)
	require.Equal(t, ref.SavepointName, name, "admitted a startFromSavepoint whose name and uid name two savepoints")
}

// requireMayWriteDeployment fails when the user of an admitted create, or
// spec change, of an operator-mode application may not write its
// FlinkDeployment.
func requireMayWriteDeployment(t *testing.T, env *controlplane.Env, req *admissionv1.AdmissionRequest) {
	attrs := &authorizationv1.ResourceAttributes{Namespace: req.Namespace, Verb: "create", Group: "flink.apache.org", Resource: "flinkdeployments"}
	if req.Operation == admissionv1.Update {
		if changed, err := specChanged(req.Object.Raw, req.OldObject.Raw); err != nil || !changed {
			return
		}
		attrs.Verb, attrs.Name = "update", req.Name
	}
	review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: req.UserInfo.Username, UID: req.UserInfo.UID, Groups: req.UserInfo.Groups, Extra: extraOf(req.UserInfo.Extra), ResourceAttributes: attrs,
	}}
	if err := env.Client.Create(context.Background(), review); err != nil {
		return // not a user the API server can judge (e.g. no name): nothing could have been granted
	}
	require.True(t, review.Status.Allowed, "%q may not %s flinkdeployments in %s, yet an operator-mode application was admitted", req.UserInfo.Username, attrs.Verb, req.Namespace)
}

// extraOf is a user's extra information as a SubjectAccessReview takes it.
func extraOf(extra map[string]authenticationv1.ExtraValue) map[string]authorizationv1.ExtraValue {
	out := make(map[string]authorizationv1.ExtraValue, len(extra))
	for k, v := range extra {
		out[k] = authorizationv1.ExtraValue(v)
	}
	return out
}
