// Package operator runs operator-mode FlinkApplications (those without
// computePoolName): each becomes a Flink Kubernetes Operator FlinkDeployment
// that the manager renders, whose status it mirrors and whose savepoints
// (FlinkStateSnapshots, or the legacy savepoint history in its status) it
// adopts.
package operator

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/index"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/rules"
)

// The operator-mode controller's own permissions:
//
// +kubebuilder:rbac:groups=flink.apache.org,resources=flinkdeployments,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups=flink.apache.org,resources=flinkstatesnapshots,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=cmf.confluent.io,resources=flinkapplications/status,verbs=get;update;patch

// reconciler runs operator-mode FlinkApplications.
type reconciler struct {
	client client.Client
	// cache reads the operator's kinds from the informers the watches start
	// (the client reads unstructured objects from the API server).
	cache client.Reader
	// live reads past the cache: what adoption decides "once" on must be current.
	live   client.Reader
	lookup rules.Lookup
	mapper meta.RESTMapper
	events recorder.EventRecorder
	// deployments and snapshots: the operator's CRDs were installed when the
	// manager started, so their kinds are watched. A kind that is not
	// registered cannot be watched: the manager would not start.
	deployments, snapshots bool
}

// Options configure the operator-mode controller.
type Options struct {
	// MaxConcurrentReconciles is how many objects are worked on at once;
	// ReconcileTimeout bounds one reconcile (zero: none).
	MaxConcurrentReconciles int
	ReconcileTimeout        time.Duration
	// SkipNameValidation lets one process set the controller up more than
	// once (tests that restart the manager).
	SkipNameValidation bool
}

// Setup registers the operator-mode controller with mgr.
func Setup(mgr ctrl.Manager, opts Options) error {
	r := &reconciler{
		client: mgr.GetClient(),
		cache:  mgr.GetCache(),
		live:   mgr.GetAPIReader(),
		lookup: index.CacheLookup{Cache: mgr.GetClient()},
		mapper: mgr.GetRESTMapper(),
		events: mgr.GetEventRecorder("savepoint-manager"),
	}
	var err error
	if r.deployments, err = served(r.mapper, deploymentGVK.GroupKind(), deploymentGVK.Version); err != nil {
		return err
	}
	if r.snapshots, err = served(r.mapper, snapshotGVK.GroupKind(), snapshotGVK.Version); err != nil {
		return err
	}
	operatorMode := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.(*cmfv1.FlinkApplication).Spec.ComputePoolName == ""
	})
	b := ctrl.NewControllerManagedBy(mgr).
		WithOptions(controller.Options{SkipNameValidation: &opts.SkipNameValidation,
			MaxConcurrentReconciles: opts.MaxConcurrentReconciles, ReconciliationTimeout: opts.ReconcileTimeout}).
		Named("operator").
		For(&cmfv1.FlinkApplication{}, builder.WithPredicates(operatorMode))
	if r.deployments {
		b = b.Owns(newDeployment())
	}
	if r.snapshots {
		snapshot := &unstructured.Unstructured{}
		snapshot.SetGroupVersionKind(snapshotGVK)
		b = b.Watches(snapshot, handler.EnqueueRequestsFromMapFunc(snapshotApplication))
	}
	return b.Complete(r)
}

// served says whether the API server serves gk at version.
func served(mapper meta.RESTMapper, gk schema.GroupKind, version string) (bool, error) {
	_, err := mapper.RESTMapping(gk, version)
	switch {
	case err == nil:
		return true, nil
	case meta.IsNoMatchError(err):
		return false, nil
	}
	return false, fmt.Errorf("look up %s in the API server's discovery: %w", gk, err)
}

// Reconcile renders one application into its FlinkDeployment, mirrors the
// deployment's status and adopts its savepoints.
func (r *reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	raw := &unstructured.Unstructured{}
	raw.SetGroupVersionKind(cmfv1.GroupVersion.WithKind(string(cmfv1.ParentApplication)))
	// A live read: the cache holds typed applications, which lose the
	// fields the manager does not know but the operator may.
	if err := r.live.Get(ctx, req.NamespacedName, raw); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	app := &cmfv1.FlinkApplication{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw.Object, app); err != nil {
		return ctrl.Result{}, fmt.Errorf("decode FlinkApplication %s: %w", req, err)
	}
	if app.Spec.ComputePoolName != "" || !app.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	before := app.DeepCopy()
	res, err := r.reconcile(ctx, raw, app)
	if werr := r.writeStatus(ctx, before, app); werr != nil && err == nil {
		err = werr
	}
	return res, client.IgnoreNotFound(err)
}

func (r *reconciler) reconcile(ctx context.Context, raw *unstructured.Unstructured, app *cmfv1.FlinkApplication) (ctrl.Result, error) {
	if !r.deployments {
		msg := fmt.Sprintf("FlinkApplication %s has no spec.computePoolName, so it runs through the Flink Kubernetes Operator, whose CRDs (flinkdeployments.flink.apache.org) are not installed: install the operator (1.10 or later) and restart savepoint-manager, or set spec.computePoolName to run the job on a ComputePool", app.Name)
		if ok, _ := served(r.mapper, deploymentGVK.GroupKind(), deploymentGVK.Version); ok {
			msg = fmt.Sprintf("FlinkApplication %s runs through the Flink Kubernetes Operator, whose CRDs were installed after savepoint-manager started: restart savepoint-manager", app.Name)
		}
		r.setReady(app, metav1.ConditionFalse, cmfv1.ReasonOperatorNotInstalled, msg)
		// Nothing announces the CRDs' arrival: look again now and then.
		return ctrl.Result{RequeueAfter: time.Minute}, nil
	}

	current := newDeployment()
	err := r.live.Get(ctx, client.ObjectKeyFromObject(app), current)
	switch {
	case apierrors.IsNotFound(err):
		current = nil
	case err != nil:
		return ctrl.Result{}, err
	}
	if current != nil && !metav1.IsControlledBy(current, app) {
		r.setReady(app, metav1.ConditionFalse, cmfv1.ReasonRenderFailed, fmt.Sprintf("FlinkDeployment %s already exists and is not this application's: delete it, or give the application another name", app.Name))
		return ctrl.Result{}, nil
	}

	start, err := r.startPoint(ctx, app, current)
	if err != nil {
		r.setReady(app, metav1.ConditionFalse, cmfv1.ReasonStartFromSavepointUnresolved, err.Error())
		r.events.Eventf(app, nil, "Warning", cmfv1.ReasonStartFromSavepointUnresolved, "Render", "%s", err.Error())
		// The savepoint may appear (be imported, complete) without any
		// change to the application.
		return ctrl.Result{RequeueAfter: 30 * time.Second}, nil
	}
	desired, err := renderDeployment(raw, start)
	if err != nil {
		r.setReady(app, metav1.ConditionFalse, cmfv1.ReasonRenderFailed, err.Error())
		return ctrl.Result{}, nil
	}
	// Forced: the application is the source of every field rendered from
	// it; fields it does not render are left to whoever set them.
	if err := r.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(desired), client.FieldOwner(operatorFieldManager), client.ForceOwnership); err != nil {
		msg := fmt.Sprintf("apply FlinkDeployment %s: %v", app.Name, err)
		r.setReady(app, metav1.ConditionFalse, cmfv1.ReasonRenderFailed, msg)
		if apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) {
			r.events.Eventf(app, nil, "Warning", cmfv1.ReasonRenderFailed, "Render", "%s", msg)
			return ctrl.Result{}, nil // rejected by the operator's schema: waits for a change of the spec
		}
		return ctrl.Result{}, err
	}
	r.announce(app, current, desired, start)

	if app.Status.Operator == nil {
		app.Status.Operator = &cmfv1.OperatorStatus{}
	}
	app.Status.Operator.Deployment = desired.GetName()
	r.mirror(app, desired)
	if err := r.adopt(ctx, app, desired); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, nil
}

// startPoint resolves the application's startFromSavepoint (or its raw
// job.initialSavepointPath). The operator reads the path only on the first
// deployment and when savepointRedeployNonce changes: when the reference no
// longer resolves (its Savepoint was deleted after the job started from it)
// and neither is the case, the path already rendered stays.
func (r *reconciler) startPoint(ctx context.Context, app *cmfv1.FlinkApplication, current *unstructured.Unstructured) (*startPoint, error) {
	job := app.Spec.Job
	if job == nil || job.StartFromSavepoint == nil {
		return nil, nil
	}
	resolved, err := rules.ResolveStartFromSavepoint(ctx, r.lookup, cmfv1.ParentApplication, app.Namespace, app.Name, job.StartFromSavepoint)
	if err == nil {
		return &startPoint{path: resolved.Path, allowNonRestoredState: job.StartFromSavepoint.AllowNonRestoredState, description: resolved.Description}, nil
	}
	if current != nil {
		path, _, _ := unstructured.NestedString(current.Object, "spec", "job", "initialSavepointPath")
		nonce, hasNonce, _ := unstructured.NestedInt64(current.Object, "spec", "job", "savepointRedeployNonce")
		same := hasNonce == (job.SavepointRedeployNonce != nil) && (!hasNonce || nonce == *job.SavepointRedeployNonce)
		if path != "" && same {
			return &startPoint{path: path, allowNonRestoredState: job.StartFromSavepoint.AllowNonRestoredState, description: "path " + path}, nil
		}
	}
	return nil, fmt.Errorf("FlinkApplication %s cannot be deployed: %w", app.Name, err)
}

// announce records the deployment's creation and redeploys as events.
func (r *reconciler) announce(app *cmfv1.FlinkApplication, current, desired *unstructured.Unstructured, start *startPoint) {
	if current == nil {
		r.events.Eventf(app, nil, "Normal", "Rendered", "Render", "FlinkDeployment %s created for the Flink Kubernetes Operator", desired.GetName())
		return
	}
	was, _, _ := unstructured.NestedInt64(current.Object, "spec", "job", "savepointRedeployNonce")
	now, set, _ := unstructured.NestedInt64(desired.Object, "spec", "job", "savepointRedeployNonce")
	if set && now != was {
		from := "its initialSavepointPath"
		if start != nil {
			from = start.description
		}
		r.events.Eventf(app, nil, "Normal", "Redeploying", "Render", "savepointRedeployNonce %d: the Flink Kubernetes Operator redeploys FlinkDeployment %s from %s", now, desired.GetName(), from)
	}
}

// mirror copies the operator's view of the job into the application's
// status: the savepoint controller reaches the job by status.jobStatus.jobId.
func (r *reconciler) mirror(app *cmfv1.FlinkApplication, dep *unstructured.Unstructured) {
	str := func(fields ...string) string {
		v, _, _ := unstructured.NestedString(dep.Object, append([]string{"status"}, fields...)...)
		return v
	}
	old := app.Status
	st := &app.Status
	st.JobStatus.JobID = str("jobStatus", "jobId")
	st.JobStatus.State = str("jobStatus", "state")
	st.JobStatus.JobName = str("jobStatus", "jobName")
	st.JobStatus.StartTime = millisTime(str("jobStatus", "startTime"))
	st.LifecycleState = str("lifecycleState")
	st.Error = operatorError(str("error"))

	if st.LifecycleState != old.LifecycleState && st.LifecycleState != "" {
		r.events.Eventf(app, nil, "Normal", "LifecycleChanged", "Mirror", "FlinkDeployment %s: lifecycle %s", dep.GetName(), st.LifecycleState)
	}
	if st.JobStatus.State != old.JobStatus.State && st.JobStatus.State != "" {
		r.events.Eventf(app, nil, "Normal", "JobStateChanged", "Mirror", "FlinkDeployment %s: job %s %s", dep.GetName(), st.JobStatus.JobID, st.JobStatus.State)
	}
	if st.Error != old.Error && st.Error != "" {
		r.events.Eventf(app, nil, "Warning", cmfv1.ReasonDeploymentError, "Mirror", "FlinkDeployment %s: %s", dep.GetName(), st.Error)
	}

	suspended := app.Spec.Job != nil && app.Spec.Job.State == cmfv1.JobSuspended
	summary := fmt.Sprintf("FlinkDeployment %s: lifecycle %s, job %s", dep.GetName(), orNone(st.LifecycleState), orNone(st.JobStatus.State))
	switch {
	case st.LifecycleState == "":
		r.setReady(app, metav1.ConditionFalse, cmfv1.ReasonDeploying, fmt.Sprintf("FlinkDeployment %s has no status yet: is the Flink Kubernetes Operator running and watching namespace %s?", dep.GetName(), app.Namespace))
	case st.Error != "":
		r.setReady(app, metav1.ConditionFalse, cmfv1.ReasonDeploymentError, summary+": "+st.Error)
	case suspended && st.LifecycleState == "SUSPENDED":
		r.setReady(app, metav1.ConditionTrue, cmfv1.ReasonSuspended, summary)
	case !suspended && st.JobStatus.State == "RUNNING" && (st.LifecycleState == "STABLE" || st.LifecycleState == "DEPLOYED"):
		r.setReady(app, metav1.ConditionTrue, cmfv1.ReasonRunning, summary)
	default:
		r.setReady(app, metav1.ConditionFalse, cmfv1.ReasonProgressing, summary)
	}
}

func (r *reconciler) setReady(app *cmfv1.FlinkApplication, status metav1.ConditionStatus, reason, msg string) {
	meta.SetStatusCondition(&app.Status.Conditions, metav1.Condition{
		Type: cmfv1.ConditionReady, Status: status, Reason: reason, Message: msg, ObservedGeneration: app.Generation,
	})
}

// writeStatus patches what changed of the application's status.
func (r *reconciler) writeStatus(ctx context.Context, before, app *cmfv1.FlinkApplication) error {
	app.Status.ObservedGeneration = app.Generation
	if equality.Semantic.DeepEqual(before.Status, app.Status) {
		return nil
	}
	return r.client.Status().Patch(ctx, app, client.MergeFrom(before))
}

// snapshotApplication maps a FlinkStateSnapshot to the application of the
// FlinkDeployment it belongs to (same name): by the operator's label, else
// by its spec.
func snapshotApplication(_ context.Context, obj client.Object) []ctrl.Request {
	name, _ := snapshotDeployment(obj.(*unstructured.Unstructured))
	if name == "" {
		return nil
	}
	return []ctrl.Request{{NamespacedName: types.NamespacedName{Namespace: obj.GetNamespace(), Name: name}}}
}

// millisTime reads the operator's epoch-milliseconds timestamps.
func millisTime(ms string) *metav1.Time {
	v, err := strconv.ParseInt(ms, 10, 64)
	if err != nil || v <= 0 {
		return nil
	}
	return &metav1.Time{Time: time.UnixMilli(v).UTC()}
}

func orNone(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// operatorError is the sentence of the operator's status.error, which is
// usually a JSON object {"type": …, "message": …, "throwableList": …}.
func operatorError(raw string) string {
	var structured struct {
		Message string `json:"message"`
	}
	if err := json.Unmarshal([]byte(raw), &structured); err == nil && structured.Message != "" {
		return structured.Message
	}
	return raw
}
