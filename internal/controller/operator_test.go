package controller_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/operator"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/index"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/fko"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/flinkharness"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/operator")

var (
	deploymentGVK = schema.GroupVersionKind{Group: "flink.apache.org", Version: "v1beta1", Kind: "FlinkDeployment"}
	snapshotGVK   = schema.GroupVersionKind{Group: "flink.apache.org", Version: "v1beta1", Kind: "FlinkStateSnapshot"}
)

// TestOperatorMode runs operator-mode applications against the Flink
// Kubernetes Operator's real CRDs, writing what the operator would write,
// and against a control plane without them; one real Flink serves both.
func TestOperatorMode(t *testing.T) {
	ctx := context.Background()
	// The cluster's own savepoint directory: adopted savepoints are disposed
	// only inside it.
	clusterDir := t.TempDir()
	cluster := flinkharness.Start(ctx, t, flinkharness.Options{JobName: "orders", SavepointDir: clusterDir})

	t.Run("with the operator's CRDs", func(t *testing.T) {
		s := startSuite(t, cluster, controlplane.Options{Webhooks: true, ExtraCRDDirs: []string{fko.CRDDir(t)}})
		t.Run("a full application renders to the golden FlinkDeployment, accepted by the operator's schema", s.testRenderGolden)
		t.Run("fields set by hand on the FlinkDeployment are left alone; rendered ones are restored", s.testHandSetFields)
		t.Run("the deployment's status is mirrored, with a condition and events", s.testStatusMirror)
		t.Run("start from a savepoint by name, uid and path: initialSavepointPath and nonce", s.testStartFromSavepoint)
		t.Run("adoption: snapshots and legacy status, once, across restarts and deletions", s.testAdoption)
		t.Run("a real savepoint of an operator-mode application", s.testRealSavepoint)
		t.Run("an adopted snapshot's data is disposed only inside the cluster's savepoint directory", func(t *testing.T) {
			s.testAdoptedDisposal(t, clusterDir)
		})
	})
	t.Run("with only the manager's RBAC", func(t *testing.T) { testOperatorRBAC(t) })
	t.Run("without the operator's CRDs", func(t *testing.T) {
		s := startSuite(t, cluster, controlplane.Options{Webhooks: true})
		t.Run("the application says so; savepoints wait for its job ID", s.testWithoutOperator)
	})
}

// startSuite starts a control plane, the webhook and the controllers.
func startSuite(t *testing.T, cluster *flinkharness.Cluster, opts controlplane.Options) *suite {
	env := startWebhookPlane(t, opts)
	s := &suite{env: env, c: env.Client, flink: cluster, t: t}
	s.startController()
	return s
}

func (s *suite) testRenderGolden(t *testing.T) {
	ctx := context.Background()
	ns := s.env.Namespace(t)
	data, err := os.ReadFile(filepath.Join("testdata", "operator", "full-application.yaml"))
	require.NoError(t, err)
	app := &unstructured.Unstructured{}
	require.NoError(t, yaml.Unmarshal(data, &app.Object))
	app.SetNamespace(ns)
	// Unstructured, as kubectl apply sends it: the typed client would drop
	// the fields that only the operator knows.
	require.NoError(t, s.c.Create(ctx, app))

	dep := s.waitDeployment(t, ns, "orders", func(*unstructured.Unstructured) bool { return true })
	owner := metav1.GetControllerOf(dep)
	require.NotNil(t, owner, "the application controls its FlinkDeployment")
	assert.Equal(t, app.GetUID(), owner.UID)
	managers := map[string]bool{}
	for _, mf := range dep.GetManagedFields() {
		managers[mf.Manager] = true
	}
	assert.Equal(t, map[string]bool{"savepoint-manager": true}, managers, "written by server-side apply as savepoint-manager")

	got := map[string]any{
		"apiVersion": dep.GetAPIVersion(),
		"kind":       dep.GetKind(),
		"metadata": map[string]any{
			"name":      dep.GetName(),
			"namespace": "NAMESPACE",
			"labels":    dep.GetLabels(),
			"ownerReferences": []any{map[string]any{
				"apiVersion": owner.APIVersion, "kind": owner.Kind, "name": owner.Name, "uid": "UID",
				"controller": *owner.Controller, "blockOwnerDeletion": *owner.BlockOwnerDeletion,
			}},
		},
		"spec": dep.Object["spec"],
	}
	out, err := yaml.Marshal(got)
	require.NoError(t, err)
	golden := filepath.Join("testdata", "operator", "full-deployment.golden.yaml")
	if *updateGolden {
		require.NoError(t, os.WriteFile(golden, out, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(out), "the FlinkDeployment as stored by the API server (go test ./controller -run TestOperatorMode -update rewrites it)")

	// The operator's schema would have refused or pruned anything it does
	// not know: what the server stored is what was rendered.
	spec, _, _ := unstructured.NestedMap(dep.Object, "spec")
	assert.Contains(t, spec, "logConfiguration", "a field only the operator knows is carried")
	assert.Contains(t, spec, "podTemplate")
	assert.NotContains(t, spec, "computePoolName")
}

func (s *suite) testHandSetFields(t *testing.T) {
	ctx := context.Background()
	ns := s.env.Namespace(t)
	app := s.operatorApp(t, ns, "hand", nil)
	dep := s.waitDeployment(t, ns, app.Name, func(*unstructured.Unstructured) bool { return true })

	// Someone edits the deployment: a field the application does not
	// render, and one it does.
	patch := `{"spec":{"restartNonce":7,"job":{"parallelism":9}}}`
	require.NoError(t, s.c.Patch(ctx, dep, client.RawPatch(types.MergePatchType, []byte(patch)), client.FieldOwner("kubectl-edit")))
	s.touch(t, app)

	dep = s.waitDeployment(t, ns, app.Name, func(d *unstructured.Unstructured) bool {
		p, _, _ := unstructured.NestedInt64(d.Object, "spec", "job", "parallelism")
		return p == 2
	})
	nonce, _, _ := unstructured.NestedInt64(dep.Object, "spec", "restartNonce")
	assert.Equal(t, int64(7), nonce, "a field set by hand stays")
}

func (s *suite) testStatusMirror(t *testing.T) {
	ns := s.env.Namespace(t)
	app := s.operatorApp(t, ns, "mirror", nil)
	s.waitDeployment(t, ns, app.Name, func(*unstructured.Unstructured) bool { return true })
	got := s.waitApp(t, app, func(a *cmfv1.FlinkApplication) bool { return readyReason(a) == cmfv1.ReasonDeploying })
	assert.Contains(t, meta.FindStatusCondition(got.Status.Conditions, cmfv1.ConditionReady).Message, "is the Flink Kubernetes Operator running")
	assert.Equal(t, "mirror", got.Status.Operator.Deployment)

	jobID := strings.Repeat("a1", 16)
	s.setDeploymentStatus(t, ns, app.Name, map[string]any{
		"lifecycleState": "STABLE",
		"jobStatus":      map[string]any{"jobId": jobID, "state": "RUNNING", "jobName": "mirror", "startTime": "1732520000000"},
	})
	got = s.waitApp(t, app, func(a *cmfv1.FlinkApplication) bool { return readyReason(a) == cmfv1.ReasonRunning })
	assert.Equal(t, jobID, got.Status.JobStatus.JobID)
	assert.Equal(t, "RUNNING", got.Status.JobStatus.State)
	assert.Equal(t, "mirror", got.Status.JobStatus.JobName)
	require.NotNil(t, got.Status.JobStatus.StartTime)
	assert.Equal(t, time.UnixMilli(1732520000000).UTC(), got.Status.JobStatus.StartTime.UTC())
	assert.Equal(t, "STABLE", got.Status.LifecycleState)
	ready := meta.FindStatusCondition(got.Status.Conditions, cmfv1.ConditionReady)
	assert.Equal(t, metav1.ConditionTrue, ready.Status)
	assert.Equal(t, got.Generation, ready.ObservedGeneration)
	assert.Equal(t, got.Generation, got.Status.ObservedGeneration)
	s.requireAppEvent(t, got, "LifecycleChanged", "lifecycle STABLE")
	s.requireAppEvent(t, got, "JobStateChanged", jobID+" RUNNING")

	s.setDeploymentStatus(t, ns, app.Name, map[string]any{
		"lifecycleState": "FAILED",
		"error":          `{"type":"org.apache.flink.kubernetes.operator.exception.ReconciliationException","message":"Job could not be upgraded: no savepoint","additionalMetadata":{},"throwableList":[]}`,
		"jobStatus":      map[string]any{"jobId": jobID, "state": "FAILED"},
	})
	got = s.waitApp(t, app, func(a *cmfv1.FlinkApplication) bool { return readyReason(a) == cmfv1.ReasonDeploymentError })
	assert.Equal(t, "Job could not be upgraded: no savepoint", got.Status.Error, "the operator's message, not its JSON")
	assert.Equal(t, metav1.ConditionFalse, meta.FindStatusCondition(got.Status.Conditions, cmfv1.ConditionReady).Status)
	s.requireAppEvent(t, got, cmfv1.ReasonDeploymentError, "Job could not be upgraded")
}

func (s *suite) testStartFromSavepoint(t *testing.T) {
	ctx := context.Background()
	ns := s.env.Namespace(t)
	app := s.operatorApp(t, ns, "restore", nil)
	s.waitDeployment(t, ns, app.Name, func(*unstructured.Unstructured) bool { return true })

	// An attached Savepoint of the application (adopted from a snapshot)
	// and a DetachedSavepoint, both COMPLETED.
	attachedPath := "s3://flink/savepoints/savepoint-restore-attached"
	s.createSnapshot(t, ns, "restore-savepoint-periodic-1", app.Name, "PERIODIC",
		map[string]any{"path": "s3://flink/savepoints", "disposeOnDelete": false},
		map[string]any{"state": "COMPLETED", "path": attachedPath})
	attached := s.waitSavepointAt(t, ns, attachedPath)
	detached := &cmfv1.DetachedSavepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "restore-archive-" + ns},
		Spec:       cmfv1.DetachedSavepointSpec{Path: "s3://flink/archive/savepoint-restore-detached"},
	}
	require.NoError(t, s.c.Create(ctx, detached))

	tests := []struct {
		name      string
		ref       cmfv1.StartFromSavepoint
		wantPath  string
		wantAllow any
	}{
		{name: "by name", ref: cmfv1.StartFromSavepoint{SavepointName: attached.Name}, wantPath: attachedPath, wantAllow: nil},
		{name: "by uid", ref: cmfv1.StartFromSavepoint{UID: string(detached.UID)}, wantPath: detached.Spec.Path, wantAllow: nil},
		{name: "by path", ref: cmfv1.StartFromSavepoint{InitialSavepointPath: "s3://flink/elsewhere/savepoint-raw", AllowNonRestoredState: ptr.To(true)}, wantPath: "s3://flink/elsewhere/savepoint-raw", wantAllow: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nonce := int64(i + 1)
			// What `kubectl savepoint start` does: the reference and a new nonce.
			// A merge patch: null clears the reference's other fields.
			ref := map[string]any{"savepointName": nil, "uid": nil, "initialSavepointPath": nil, "allowNonRestoredState": nil}
			raw, err := json.Marshal(tt.ref)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(raw, &ref))
			patch, err := json.Marshal(map[string]any{"spec": map[string]any{"job": map[string]any{"startFromSavepoint": ref, "savepointRedeployNonce": nonce}}})
			require.NoError(t, err)
			require.NoError(t, s.c.Patch(ctx, app, client.RawPatch(types.MergePatchType, patch)))

			dep := s.waitDeployment(t, ns, app.Name, func(d *unstructured.Unstructured) bool {
				n, _, _ := unstructured.NestedInt64(d.Object, "spec", "job", "savepointRedeployNonce")
				return n == nonce
			})
			job, _, _ := unstructured.NestedMap(dep.Object, "spec", "job")
			assert.Equal(t, tt.wantPath, job["initialSavepointPath"])
			assert.Equal(t, tt.wantAllow, job["allowNonRestoredState"])
			assert.NotContains(t, job, "startFromSavepoint", "the operator does not know it")
			s.requireAppEvent(t, app, "Redeploying", fmt.Sprintf("savepointRedeployNonce %d", nonce))
		})
	}

	t.Run("its Savepoint deleted: the rendered path stays until the nonce changes", func(t *testing.T) {
		patch := fmt.Sprintf(`{"spec":{"job":{"savepointRedeployNonce":4,"startFromSavepoint":{"savepointName":%q,"initialSavepointPath":null,"allowNonRestoredState":null}}}}`, attached.Name)
		require.NoError(t, s.c.Patch(ctx, app, client.RawPatch(types.MergePatchType, []byte(patch))))
		s.waitDeployment(t, ns, app.Name, func(d *unstructured.Unstructured) bool {
			path, _, _ := unstructured.NestedString(d.Object, "spec", "job", "initialSavepointPath")
			return path == attachedPath
		})
		s.annotate(t, &attached, cmfv1.ForceDeleteAnnotation, "true")
		require.NoError(t, s.c.Delete(ctx, &attached))
		waitGone(t, s.c, &attached)

		s.mirrorRound(t, app, "STABLE")
		got := s.waitApp(t, app, func(*cmfv1.FlinkApplication) bool { return true })
		assert.NotEqual(t, cmfv1.ReasonStartFromSavepointUnresolved, readyReason(got), "the job already started from it")
		dep := s.waitDeployment(t, ns, app.Name, func(*unstructured.Unstructured) bool { return true })
		path, _, _ := unstructured.NestedString(dep.Object, "spec", "job", "initialSavepointPath")
		assert.Equal(t, attachedPath, path)

		require.NoError(t, s.c.Patch(ctx, app, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"job":{"savepointRedeployNonce":5}}}`))))
		got = s.waitApp(t, app, func(a *cmfv1.FlinkApplication) bool {
			return readyReason(a) == cmfv1.ReasonStartFromSavepointUnresolved
		})
		assert.Contains(t, meta.FindStatusCondition(got.Status.Conditions, cmfv1.ConditionReady).Message, attached.Name)
		s.requireAppEvent(t, app, cmfv1.ReasonStartFromSavepointUnresolved, attached.Name)
		nonce, _, _ := unstructured.NestedInt64(s.waitDeployment(t, ns, app.Name, func(*unstructured.Unstructured) bool { return true }).Object, "spec", "job", "savepointRedeployNonce")
		assert.Equal(t, int64(4), nonce, "no redeploy from a savepoint that is gone")
	})

	t.Run("a DetachedSavepoint deleted and imported again under its name: never started from", s.testPinnedStartFrom)
}

// testPinnedStartFrom: a DetachedSavepoint's name is global; once deleted,
// anyone may import another path under it. An application that named it
// (here one of another namespace) is pinned at admission to the uid it
// resolved to, so a redeploy never starts from the path imported under the
// name later; removing the uid is the way to take the new one, and its
// access is checked again then.
func (s *suite) testPinnedStartFrom(t *testing.T) {
	ctx := context.Background()
	ns, other := s.env.Namespace(t), s.env.Namespace(t)
	name := "golden-" + ns
	firstPath, secondPath := "s3://flink/archive/savepoint-golden-first", "s3://flink/archive/savepoint-golden-second"
	first := &cmfv1.DetachedSavepoint{ObjectMeta: metav1.ObjectMeta{Namespace: other, Name: name}, Spec: cmfv1.DetachedSavepointSpec{Path: firstPath}}
	require.NoError(t, s.c.Create(ctx, first))
	app := s.operatorApp(t, ns, "pinned", nil)
	start := func(patch string) {
		t.Helper()
		require.NoError(t, s.c.Patch(ctx, app, client.RawPatch(types.MergePatchType, []byte(patch))))
	}
	deployed := func(nonce int64) string {
		t.Helper()
		dep := s.waitDeployment(t, ns, app.Name, func(d *unstructured.Unstructured) bool {
			n, _, _ := unstructured.NestedInt64(d.Object, "spec", "job", "savepointRedeployNonce")
			return n == nonce
		})
		path, _, _ := unstructured.NestedString(dep.Object, "spec", "job", "initialSavepointPath")
		return path
	}

	// kubectl savepoint start --savepoint NAME: the name alone.
	start(fmt.Sprintf(`{"spec":{"job":{"savepointRedeployNonce":1,"startFromSavepoint":{"savepointName":%q}}}}`, name))
	require.NotNil(t, app.Spec.Job.StartFromSavepoint)
	assert.Equal(t, string(first.UID), app.Spec.Job.StartFromSavepoint.UID, "pinned at admission to the DetachedSavepoint the name named")
	assert.Equal(t, name, app.Spec.Job.StartFromSavepoint.SavepointName)
	assert.Equal(t, firstPath, deployed(1))

	// The name is released and claimed again with another path.
	require.NoError(t, s.c.Delete(ctx, first))
	waitGone(t, s.c, first)
	second := &cmfv1.DetachedSavepoint{ObjectMeta: metav1.ObjectMeta{Namespace: other, Name: name}, Spec: cmfv1.DetachedSavepointSpec{Path: secondPath}}
	require.NoError(t, s.c.Create(ctx, second))
	require.NotEqual(t, first.UID, second.UID)

	// A redeploy (a new nonce) with the reference unchanged: refused, said so.
	start(`{"spec":{"job":{"savepointRedeployNonce":2}}}`)
	assert.Equal(t, string(first.UID), app.Spec.Job.StartFromSavepoint.UID, "an unchanged reference is not pinned again")
	got := s.waitApp(t, app, func(a *cmfv1.FlinkApplication) bool {
		return readyReason(a) == cmfv1.ReasonStartFromSavepointUnresolved && a.Status.ObservedGeneration == app.Generation
	})
	msg := meta.FindStatusCondition(got.Status.Conditions, cmfv1.ConditionReady).Message
	assert.Contains(t, msg, "the savepoint this application was admitted with is gone")
	assert.Contains(t, msg, "remove spec.job.startFromSavepoint.uid")
	assert.NotContains(t, msg, secondPath)
	dep := s.waitDeployment(t, ns, app.Name, func(*unstructured.Unstructured) bool { return true })
	nonce, _, _ := unstructured.NestedInt64(dep.Object, "spec", "job", "savepointRedeployNonce")
	path, _, _ := unstructured.NestedString(dep.Object, "spec", "job", "initialSavepointPath")
	assert.Equal(t, int64(1), nonce, "no redeploy")
	assert.Equal(t, firstPath, path, "never the path imported under the name later")

	// The way out: remove the uid; the name is resolved (and pinned) anew.
	start(`{"spec":{"job":{"startFromSavepoint":{"uid":null}}}}`)
	assert.Equal(t, string(second.UID), app.Spec.Job.StartFromSavepoint.UID)
	assert.Equal(t, secondPath, deployed(2))
}

func (s *suite) testAdoption(t *testing.T) {
	ctx := context.Background()
	ns := s.env.Namespace(t)
	app := s.operatorApp(t, ns, "payments", nil)
	s.waitDeployment(t, ns, app.Name, func(*unstructured.Unstructured) bool { return true })

	upgradePath := "s3://flink/savepoints/savepoint-payments-upgrade-1"
	periodicPath := "s3://flink/savepoints/savepoint-payments-periodic-2"

	// As the operator writes them: a periodic savepoint still in flight,
	// then an upgrade's savepoint that already exists.
	periodic := s.createSnapshot(t, ns, "payments-savepoint-periodic-1732520060000", app.Name, "PERIODIC",
		map[string]any{"path": "s3://flink/savepoints", "formatType": "NATIVE", "disposeOnDelete": false},
		map[string]any{"state": "IN_PROGRESS", "triggerId": "1b2c"})
	upgrade := s.createSnapshot(t, ns, "payments-savepoint-upgrade-1732520000000", app.Name, "UPGRADE",
		map[string]any{"path": upgradePath, "alreadyExists": true, "formatType": "CANONICAL", "disposeOnDelete": false},
		map[string]any{"state": "COMPLETED", "path": upgradePath})

	up := s.waitSavepointAt(t, ns, upgradePath)
	assert.Equal(t, cmfv1.OriginUpgrade, up.Status.Origin)
	assert.Equal(t, cmfv1.FormatCanonical, up.Spec.FormatType)
	assert.Equal(t, "payments", up.Spec.Application)
	assert.Equal(t, "flinkstatesnapshot/"+upgrade.GetName(), up.Annotations[cmfv1.AdoptedFromAnnotation])
	assert.Equal(t, up.Name, s.snapshotAnnotation(t, upgrade), "the snapshot records its adoption")
	assert.Empty(t, s.snapshotAnnotation(t, periodic), "IN_PROGRESS: not adopted yet")
	s.requireAppEvent(t, app, "Adopted", upgradePath)

	s.setSnapshotStatus(t, periodic, map[string]any{"state": "COMPLETED", "path": periodicPath})
	per := s.waitSavepointAt(t, ns, periodicPath)
	assert.Equal(t, cmfv1.OriginPeriodic, per.Status.Origin)
	assert.Equal(t, cmfv1.FormatNative, per.Spec.FormatType)
	s.requireOnePerPath(t, ns, app.Name, upgradePath, periodicPath)

	t.Run("after a manager restart, still one each", func(t *testing.T) {
		s.stopCtl()
		s.startController()
		s.mirrorRound(t, app, "DEPLOYED")
		s.requireOnePerPath(t, ns, app.Name, upgradePath, periodicPath)
	})

	t.Run("the snapshot deleted: the Savepoint keeps its path", func(t *testing.T) {
		require.NoError(t, s.c.Delete(ctx, upgrade))
		s.mirrorRound(t, app, "STABLE")
		got := s.waitSavepointAt(t, ns, upgradePath)
		assert.Equal(t, up.UID, got.UID)
	})

	legacyPath := "s3://flink/savepoints/savepoint-payments-legacy-3"
	legacyPeriodicPath := "s3://flink/savepoints/savepoint-payments-legacy-periodic-4"
	t.Run("legacy upgradeSavepointPath and savepointInfo", func(t *testing.T) {
		s.setDeploymentStatus(t, ns, app.Name, map[string]any{
			"lifecycleState": "UPGRADING",
			"jobStatus": map[string]any{
				"upgradeSavepointPath": legacyPath,
				"savepointInfo": map[string]any{
					"lastSavepoint":    map[string]any{"location": legacyPeriodicPath, "timeStamp": int64(1732520120000), "triggerType": "PERIODIC", "formatType": "CANONICAL"},
					"savepointHistory": []any{map[string]any{"location": legacyPeriodicPath, "timeStamp": int64(1732520120000), "triggerType": "PERIODIC", "formatType": "CANONICAL"}},
				},
			},
		})
		legacy := s.waitSavepointAt(t, ns, legacyPath)
		assert.Equal(t, cmfv1.OriginUpgrade, legacy.Status.Origin)
		legacyPeriodic := s.waitSavepointAt(t, ns, legacyPeriodicPath)
		assert.Equal(t, cmfv1.OriginPeriodic, legacyPeriodic.Status.Origin)
		got := s.waitApp(t, app, func(a *cmfv1.FlinkApplication) bool {
			return a.Status.Operator != nil && a.Status.Operator.AdoptedSavepointTimestamp == 1732520120000
		})
		assert.Equal(t, legacyPath, got.Status.Operator.AdoptedUpgradeSavepointPath)
		s.requireOnePerPath(t, ns, app.Name, upgradePath, periodicPath, legacyPath, legacyPeriodicPath)
	})

	t.Run("the last-state placeholder is no savepoint", func(t *testing.T) {
		s.setDeploymentStatus(t, ns, app.Name, map[string]any{
			"lifecycleState": "DEPLOYED",
			"jobStatus":      map[string]any{"upgradeSavepointPath": "KUBERNETES_OPERATOR_LAST_STATE"},
		})
		s.waitApp(t, app, func(a *cmfv1.FlinkApplication) bool { return a.Status.LifecycleState == "DEPLOYED" })
		s.requireOnePerPath(t, ns, app.Name, upgradePath, periodicPath, legacyPath, legacyPeriodicPath)
	})

	t.Run("a deleted adopted Savepoint is not adopted again; a suspend's savepoint is SUSPEND", func(t *testing.T) {
		// Deleted by a user (forced here: no JobManager to dispose through)
		// while the operator still shows the savepoints.
		for _, path := range []string{periodicPath, legacyPath, legacyPeriodicPath} {
			sp := s.waitSavepointAt(t, ns, path)
			s.annotate(t, &sp, cmfv1.ForceDeleteAnnotation, "true")
			require.NoError(t, s.c.Delete(ctx, &sp))
			waitGone(t, s.c, &sp)
		}
		s.setDeploymentStatus(t, ns, app.Name, map[string]any{
			"lifecycleState": "SUSPENDED",
			"jobStatus": map[string]any{
				"upgradeSavepointPath": legacyPath,
				"savepointInfo": map[string]any{
					"lastSavepoint": map[string]any{"location": legacyPeriodicPath, "timeStamp": int64(1732520120000), "triggerType": "PERIODIC"},
				},
			},
		})
		patch := []byte(`{"spec":{"job":{"state":"suspended"}}}`)
		require.NoError(t, s.c.Patch(ctx, app, client.RawPatch(types.MergePatchType, patch)))
		suspendPath := "s3://flink/savepoints/savepoint-payments-suspend-5"
		s.createSnapshot(t, ns, "payments-savepoint-upgrade-1732520180000", app.Name, "UPGRADE",
			map[string]any{"path": suspendPath, "alreadyExists": true, "disposeOnDelete": false},
			map[string]any{"state": "COMPLETED", "path": suspendPath})

		suspend := s.waitSavepointAt(t, ns, suspendPath)
		assert.Equal(t, cmfv1.OriginSuspend, suspend.Status.Origin)
		// The round that adopted it saw the others and left them alone.
		s.requireOnePerPath(t, ns, app.Name, upgradePath, suspendPath)
	})
}

func (s *suite) testRealSavepoint(t *testing.T) {
	ns := s.env.Namespace(t)
	app := s.operatorApp(t, ns, "orders", map[string]string{cmfv1.RestURLAnnotation: s.flink.RESTURL})
	s.waitDeployment(t, ns, app.Name, func(*unstructured.Unstructured) bool { return true })
	s.setDeploymentStatus(t, ns, app.Name, map[string]any{
		"lifecycleState": "STABLE",
		"jobStatus":      map[string]any{"jobId": s.flink.JobID, "state": "RUNNING", "jobName": "orders"},
	})
	s.waitApp(t, app, func(a *cmfv1.FlinkApplication) bool { return a.Status.JobStatus.JobID == s.flink.JobID })

	dir := t.TempDir()
	sp := s.create(t, ns, cmfv1.SavepointSpec{Application: app.Name, Path: dir})
	sp = s.waitState(t, sp, cmfv1.StateCompleted)
	assert.Equal(t, s.flink.JobID, sp.Status.JobID, "the job the mirrored status names")
	assert.FileExists(t, filepath.Join(flinkharness.LocalPath(sp.Status.Path), "_metadata"))
}

// testAdoptedDisposal: the path of an adopted FlinkStateSnapshot is what
// the snapshot's writer said. A user who may write snapshots (and the
// operator marks an "already existing" one COMPLETED with whatever path it
// names) must not get another team's savepoint disposed by deleting the
// Savepoint the manager adopted from it.
func (s *suite) testAdoptedDisposal(t *testing.T, clusterDir string) {
	ctx := context.Background()
	ns := s.env.Namespace(t)
	app := s.operatorApp(t, ns, "orders", map[string]string{cmfv1.RestURLAnnotation: s.flink.RESTURL})
	s.setDeploymentStatus(t, ns, app.Name, map[string]any{
		"lifecycleState": "STABLE",
		"jobStatus":      map[string]any{"jobId": s.flink.JobID, "state": "RUNNING", "jobName": "orders"},
	})
	inside := s.takeSavepoint(t, clusterDir)
	elsewhere := s.takeSavepoint(t, t.TempDir()) // another team's, say
	for i, path := range []string{inside, elsewhere} {
		s.createSnapshot(t, ns, fmt.Sprintf("orders-savepoint-upgrade-17325200%d0000", i), app.Name, "UPGRADE",
			map[string]any{"path": path, "alreadyExists": true, "disposeOnDelete": false},
			map[string]any{"state": "COMPLETED", "path": path})
	}

	in := s.waitSavepointAt(t, ns, inside)
	require.NoError(t, s.c.Delete(ctx, &in))
	waitGone(t, s.c, &in)
	assert.NoDirExists(t, flinkharness.LocalPath(inside), "inside the cluster's savepoint directory: disposed")

	out := s.waitSavepointAt(t, ns, elsewhere)
	require.NoError(t, s.c.Delete(ctx, &out))
	var got cmfv1.Savepoint
	require.Eventually(t, func() bool {
		return s.c.Get(ctx, client.ObjectKeyFromObject(&out), &got) == nil && got.Status.PendingDeletion
	}, 30*time.Second, 20*time.Millisecond)
	cond := meta.FindStatusCondition(got.Status.Conditions, cmfv1.ConditionClusterReachable)
	require.NotNil(t, cond)
	assert.Contains(t, cond.Message, "outside the savepoint directory of the cluster")
	assert.Contains(t, cond.Message, "--disposable-prefix")
	assert.FileExists(t, filepath.Join(flinkharness.LocalPath(elsewhere), "_metadata"), "outside it: not disposed")

	s.annotate(t, &got, cmfv1.ForceDeleteAnnotation, "true")
	waitGone(t, s.c, &got)
	assert.FileExists(t, filepath.Join(flinkharness.LocalPath(elsewhere), "_metadata"), "a forced delete keeps the data")
}

// takeSavepoint takes a savepoint of the cluster's job into dir straight
// through Flink, as someone outside the manager would, and returns its path.
func (s *suite) takeSavepoint(t *testing.T, dir string) string {
	t.Helper()
	ctx := context.Background()
	fc, err := flink.New(s.flink.RESTURL, flink.Options{})
	require.NoError(t, err)
	trigger := fmt.Sprintf("%032x", time.Now().UnixNano())
	_, err = fc.TriggerSavepoint(ctx, s.flink.JobID, flink.SavepointRequest{TriggerID: trigger, TargetDirectory: dir})
	require.NoError(t, err)
	var op *flink.Operation
	require.Eventually(t, func() bool {
		op, err = fc.SavepointStatus(ctx, s.flink.JobID, trigger)
		return err == nil && op.State == flink.OperationCompleted
	}, 30*time.Second, 20*time.Millisecond)
	require.Nil(t, op.Failure)
	return op.Location
}

func (s *suite) testWithoutOperator(t *testing.T) {
	ns := s.env.Namespace(t)
	app := s.operatorApp(t, ns, "orders", map[string]string{cmfv1.RestURLAnnotation: s.flink.RESTURL})
	got := s.waitApp(t, app, func(a *cmfv1.FlinkApplication) bool {
		return readyReason(a) == cmfv1.ReasonOperatorNotInstalled
	})
	ready := meta.FindStatusCondition(got.Status.Conditions, cmfv1.ConditionReady)
	assert.Equal(t, metav1.ConditionFalse, ready.Status)
	assert.Contains(t, ready.Message, "install the operator")
	assert.Contains(t, ready.Message, "spec.computePoolName")

	// No operator writes a job ID, and a job is never found by its name
	// (the harness's job is named orders): the savepoint waits.
	dir := t.TempDir()
	sp := s.create(t, ns, cmfv1.SavepointSpec{Application: app.Name, Path: dir})
	sp = s.waitFor(t, sp, func(sp *cmfv1.Savepoint) bool { return readyReasonOf(sp.Status.Conditions) == cmfv1.ReasonJobNotKnown })
	assert.Equal(t, cmfv1.StateTriggerPending, sp.Status.State)
	assert.Empty(t, dirNames(t, dir))

	// The job ID the operator's status would carry, mirrored into the
	// application's status as the manager does: the savepoint is taken.
	s.env.RecordJob(t, app, s.flink.JobID)
	sp = s.waitState(t, sp, cmfv1.StateCompleted)
	assert.Equal(t, s.flink.JobID, sp.Status.JobID)
	assert.FileExists(t, filepath.Join(flinkharness.LocalPath(sp.Status.Path), "_metadata"))
	got = s.waitApp(t, app, func(a *cmfv1.FlinkApplication) bool { return true })
	assert.Equal(t, cmfv1.ReasonOperatorNotInstalled, readyReason(got), "the application still says why")
}

// testOperatorRBAC runs the controllers with ONLY the manager's rendered
// RBAC (impersonating its service account): rendering, mirroring and
// adopting a snapshot need no more than manifests/rbac grants.
func testOperatorRBAC(t *testing.T) {
	env := controlplane.Start(t, controlplane.Options{ExtraCRDDirs: []string{fko.CRDDir(t)}})
	ctx := context.Background()
	require.NoError(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "savepoint-system"}}))
	_, errOut, err := env.RunKubectl(ctx, "apply", "-n", "savepoint-system", "-k", filepath.Join(controlplane.RepoRoot(t), "manifests", "rbac"))
	require.NoError(t, err, errOut)
	sa := rest.CopyConfig(env.Config)
	sa.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:savepoint-system:savepoint-manager",
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:savepoint-system", "system:authenticated"},
	}
	_, _ = env.StartManagerAs(t, sa, func(ctx context.Context, mgr ctrl.Manager) error {
		if err := index.Add(ctx, mgr.GetFieldIndexer()); err != nil {
			return err
		}
		return controller.Setup(mgr, testOptions)
	})
	s := &suite{env: env, c: env.Client, t: t}

	ns := env.Namespace(t)
	app := s.operatorApp(t, ns, "orders", nil)
	s.waitDeployment(t, ns, app.Name, func(*unstructured.Unstructured) bool { return true })
	s.mirrorRound(t, app, "STABLE")
	path := "s3://flink/savepoints/savepoint-rbac-1"
	snap := s.createSnapshot(t, ns, "orders-savepoint-upgrade-1732520000000", app.Name, "UPGRADE",
		map[string]any{"path": path, "alreadyExists": true, "disposeOnDelete": false},
		map[string]any{"state": "COMPLETED", "path": path})
	sp := s.waitSavepointAt(t, ns, path)
	require.Eventually(t, func() bool { return s.snapshotAnnotation(t, snap) == sp.Name }, 10*time.Second, 20*time.Millisecond)
}

// --- fixtures ---

// operatorApp creates an operator-mode application.
func (s *suite) operatorApp(t *testing.T, ns, name string, annotations map[string]string) *cmfv1.FlinkApplication {
	t.Helper()
	app := &cmfv1.FlinkApplication{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: annotations},
		Spec: cmfv1.FlinkApplicationSpec{
			Image:        "flink:1.20",
			FlinkVersion: "v1_20",
			Job: &cmfv1.JobSpec{
				JarURI:      "local:///opt/flink/usrlib/" + name + ".jar",
				Parallelism: ptr.To[int32](2),
				UpgradeMode: cmfv1.UpgradeSavepoint,
			},
		},
	}
	require.NoError(t, s.c.Create(context.Background(), app))
	return app
}

// touch changes an annotation of app: a reconcile without a spec change.
func (s *suite) touch(t *testing.T, app *cmfv1.FlinkApplication) {
	t.Helper()
	patch := fmt.Sprintf(`{"metadata":{"annotations":{"test/touched":%q}}}`, time.Now().Format(time.RFC3339Nano))
	require.NoError(t, s.c.Patch(context.Background(), app, client.RawPatch(types.MergePatchType, []byte(patch))))
}

// waitDeployment waits for the FlinkDeployment ns/name to satisfy cond.
func (s *suite) waitDeployment(t *testing.T, ns, name string, cond func(*unstructured.Unstructured) bool) *unstructured.Unstructured {
	t.Helper()
	dep := &unstructured.Unstructured{}
	dep.SetGroupVersionKind(deploymentGVK)
	require.Eventually(t, func() bool {
		return s.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, dep) == nil && cond(dep)
	}, 30*time.Second, 20*time.Millisecond, "FlinkDeployment %s/%s", ns, name)
	return dep
}

// setDeploymentStatus writes the deployment's status as the operator does.
func (s *suite) setDeploymentStatus(t *testing.T, ns, name string, status map[string]any) {
	t.Helper()
	dep := s.waitDeployment(t, ns, name, func(*unstructured.Unstructured) bool { return true })
	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := s.c.Get(context.Background(), client.ObjectKeyFromObject(dep), dep); err != nil {
			return err
		}
		dep.Object["status"] = status
		return s.c.Status().Update(context.Background(), dep)
	}))
}

// mirrorRound writes a lifecycle state and waits until the application
// shows it: a whole reconcile, adoption included, ran after the write.
func (s *suite) mirrorRound(t *testing.T, app *cmfv1.FlinkApplication, lifecycle string) {
	t.Helper()
	s.setDeploymentStatus(t, app.Namespace, app.Name, map[string]any{"lifecycleState": lifecycle})
	s.waitApp(t, app, func(a *cmfv1.FlinkApplication) bool { return a.Status.LifecycleState == lifecycle })
}

// createSnapshot creates a FlinkStateSnapshot named and labelled as the
// operator does; status, when given, is written as the operator would.
func (s *suite) createSnapshot(t *testing.T, ns, name, deployment, triggerType string, savepoint, status map[string]any) *unstructured.Unstructured {
	t.Helper()
	snap := &unstructured.Unstructured{}
	snap.SetGroupVersionKind(snapshotGVK)
	snap.SetNamespace(ns)
	snap.SetName(name)
	snap.SetLabels(map[string]string{
		"snapshot.type":         "SAVEPOINT",
		"snapshot.trigger-type": triggerType,
		"job-reference.kind":    "FlinkDeployment",
		"job-reference.name":    deployment,
	})
	snap.Object["spec"] = map[string]any{
		"backoffLimit": int64(1),
		"jobReference": map[string]any{"kind": "FlinkDeployment", "name": deployment},
		"savepoint":    savepoint,
	}
	require.NoError(t, s.c.Create(context.Background(), snap))
	if status != nil {
		s.setSnapshotStatus(t, snap, status)
	}
	return snap
}

func (s *suite) setSnapshotStatus(t *testing.T, snap *unstructured.Unstructured, status map[string]any) {
	t.Helper()
	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := s.c.Get(context.Background(), client.ObjectKeyFromObject(snap), snap); err != nil {
			return err
		}
		snap.Object["status"] = status
		return s.c.Status().Update(context.Background(), snap)
	}))
}

func (s *suite) snapshotAnnotation(t *testing.T, snap *unstructured.Unstructured) string {
	t.Helper()
	got := &unstructured.Unstructured{}
	got.SetGroupVersionKind(snapshotGVK)
	require.NoError(t, s.c.Get(context.Background(), client.ObjectKeyFromObject(snap), got))
	return got.GetAnnotations()[operator.AdoptedAsAnnotation]
}

// waitSavepointAt waits for the COMPLETED Savepoint at path in ns.
func (s *suite) waitSavepointAt(t *testing.T, ns, path string) cmfv1.Savepoint {
	t.Helper()
	var found cmfv1.Savepoint
	require.Eventually(t, func() bool {
		var list cmfv1.SavepointList
		if err := s.c.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
			return false
		}
		for _, sp := range list.Items {
			if sp.Status.Path == path && sp.Status.State == cmfv1.StateCompleted {
				found = sp
				return true
			}
		}
		return false
	}, 30*time.Second, 20*time.Millisecond, "a COMPLETED Savepoint at %s", path)
	return found
}

// requireOnePerPath: the application's Savepoints are exactly one per path.
func (s *suite) requireOnePerPath(t *testing.T, ns, app string, paths ...string) {
	t.Helper()
	var list cmfv1.SavepointList
	require.NoError(t, s.c.List(context.Background(), &list, client.InNamespace(ns)))
	var got []string
	for _, sp := range list.Items {
		if sp.Spec.Application == app {
			got = append(got, sp.Annotations[cmfv1.AdoptedPathAnnotation])
		}
	}
	assert.ElementsMatch(t, paths, got)
}

func (s *suite) waitApp(t *testing.T, app *cmfv1.FlinkApplication, cond func(*cmfv1.FlinkApplication) bool) *cmfv1.FlinkApplication {
	t.Helper()
	got := &cmfv1.FlinkApplication{}
	require.Eventually(t, func() bool {
		return s.c.Get(context.Background(), client.ObjectKeyFromObject(app), got) == nil && cond(got)
	}, 30*time.Second, 20*time.Millisecond, "FlinkApplication %s: status %+v", app.Name, got.Status)
	return got
}

// requireAppEvent waits for an event of reason about app whose note contains text.
func (s *suite) requireAppEvent(t *testing.T, app *cmfv1.FlinkApplication, reason, text string) {
	t.Helper()
	require.Eventually(t, func() bool {
		var events eventsv1.EventList
		if err := s.c.List(context.Background(), &events, client.InNamespace(app.Namespace)); err != nil {
			return false
		}
		for _, e := range events.Items {
			if e.Regarding.Name == app.Name && e.Regarding.Kind == "FlinkApplication" && e.Reason == reason && strings.Contains(e.Note, text) {
				return true
			}
		}
		return false
	}, 10*time.Second, 20*time.Millisecond, "event %s %q for %s", reason, text, app.Name)
}

func readyReason(app *cmfv1.FlinkApplication) string {
	return readyReasonOf(app.Status.Conditions)
}

// readyReasonOf is the reason of the Ready condition among conditions.
func readyReasonOf(conditions []metav1.Condition) string {
	if c := meta.FindStatusCondition(conditions, cmfv1.ConditionReady); c != nil {
		return c.Reason
	}
	return ""
}
