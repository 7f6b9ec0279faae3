// Package savepoint drives each attached Savepoint through its lifecycle
// against the Flink JobManager: trigger, poll, retry, abandon, dispose,
// detach.
package savepoint

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/adopt"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/endpoint"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/fairqueue"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/flinkop"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/metrics"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/patch"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/retention"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/index"
)

// Reconciler drives attached Savepoints.
type Reconciler struct {
	client client.Client
	// live reads past the cache, where a stale answer would be wrong.
	live     client.Reader
	resolver *endpoint.Resolver
	flink    *endpoint.Clients
	retain   *retention.Retainer
	events   recorder.EventRecorder
	opts     Options
	// health says which endpoints do not answer; wake brings back the
	// savepoints that wait for one once it answers again.
	health *endpoint.Health
	wake   *endpoint.Wakeup
}

// Options configure the savepoint controller.
type Options struct {
	// Protocol triggers savepoints, asks Flink about them and disposes
	// them.
	Protocol flinkop.Protocol
	// Now returns the time.
	Now func() time.Time
	// DisposablePrefixes are the locations, besides each cluster's own
	// savepoint directory, under which the data of a savepoint adopted from
	// a FlinkStateSnapshot or a FlinkDeployment's status may be disposed.
	DisposablePrefixes []string
	// MaxConcurrentReconciles is how many objects are worked on at once;
	// ReconcileTimeout bounds one reconcile (zero: none).
	MaxConcurrentReconciles int
	ReconcileTimeout        time.Duration
	// SkipNameValidation lets one process set the controller up more than
	// once (tests that restart the manager, as a crash would).
	SkipNameValidation bool
}

// Setup registers the savepoint controller with mgr: it finds each
// savepoint's JobManager with resolver, reaches it through flinks, and keeps
// the data of savepoints deleted in bulk through retain.
func Setup(mgr ctrl.Manager, opts Options, resolver *endpoint.Resolver, flinks *endpoint.Clients, retain *retention.Retainer) error {
	r := &Reconciler{
		client:   mgr.GetClient(),
		live:     mgr.GetAPIReader(),
		resolver: resolver,
		flink:    flinks,
		retain:   retain,
		events:   mgr.GetEventRecorder("savepoint-manager"),
		opts:     opts,
		health:   flinks.Health,
		wake:     endpoint.NewWakeup(func() client.Object { return &cmfv1.Savepoint{} }),
	}
	return ctrl.NewControllerManagedBy(mgr).
		// A queue fair across namespaces: however many savepoints one
		// namespace has queued (thousands created at once, or woken when
		// their cluster answers again), another namespace's next step waits
		// for at most one of them.
		WithOptions(controller.Options{SkipNameValidation: &opts.SkipNameValidation,
			MaxConcurrentReconciles: opts.MaxConcurrentReconciles, ReconciliationTimeout: opts.ReconcileTimeout,
			NewQueue: func(_ string, limiter workqueue.TypedRateLimiter[reconcile.Request]) workqueue.TypedRateLimitingInterface[reconcile.Request] {
				return fairqueue.New(func(r reconcile.Request) string { return r.Namespace }, limiter)
			}}).
		Named("savepoint").
		For(&cmfv1.Savepoint{}).
		// A detach is a DetachedSavepoint naming its source.
		Watches(&cmfv1.DetachedSavepoint{}, handler.EnqueueRequestsFromMapFunc(detachedSource)).
		// A savepoint waits for its parent's job ID (see endpoint.JobID).
		Watches(&cmfv1.FlinkApplication{}, handler.EnqueueRequestsFromMapFunc(r.waitingFor), builder.WithPredicates(jobIDWritten)).
		Watches(&cmfv1.Statement{}, handler.EnqueueRequestsFromMapFunc(r.waitingFor), builder.WithPredicates(jobIDWritten)).
		// A savepoint that waits for its endpoint is looked at as soon as
		// the endpoint answers again.
		WatchesRawSource(r.wake.Source()).
		Complete(r)
}

// jobIDWritten passes a parent whose status now records a job ID it did
// not before.
var jobIDWritten = predicate.Funcs{
	CreateFunc: func(e event.CreateEvent) bool { return e.Object.(cmfv1.Parent).ObservedJob().JobID != "" },
	UpdateFunc: func(e event.UpdateEvent) bool {
		now := e.ObjectNew.(cmfv1.Parent).ObservedJob().JobID
		return now != "" && now != e.ObjectOld.(cmfv1.Parent).ObservedJob().JobID
	},
	DeleteFunc:  func(event.DeleteEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
}

// waitingFor maps a parent to its savepoints that wait to be triggered.
func (r *Reconciler) waitingFor(ctx context.Context, obj client.Object) []ctrl.Request {
	var list cmfv1.SavepointList
	key := index.ParentKey(obj.(cmfv1.Parent).ParentKind(), obj.GetName())
	if err := r.client.List(ctx, &list, client.InNamespace(obj.GetNamespace()), client.MatchingFields{index.Parent: key}); err != nil {
		logf.FromContext(ctx).Error(err, "list the savepoints of a parent", "parent", key)
		return nil
	}
	var reqs []ctrl.Request
	for _, sp := range list.Items {
		if sp.Status.State == "" || sp.Status.State == cmfv1.StateTriggerPending {
			reqs = append(reqs, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(&sp)})
		}
	}
	return reqs
}

func detachedSource(_ context.Context, obj client.Object) []ctrl.Request {
	src := obj.(*cmfv1.DetachedSavepoint).Spec.Source
	if src == nil {
		return nil
	}
	return []ctrl.Request{{NamespacedName: types.NamespacedName{Namespace: src.Namespace, Name: src.SavepointName}}}
}

// Reconcile moves one Savepoint one step on.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	res, err := r.reconcile(ctx, req)
	switch {
	case apierrors.IsConflict(err):
		// Another write got there first (our own, seen late by the cache):
		// start again from the newer object, quietly.
		return ctrl.Result{RequeueAfter: 10 * time.Millisecond}, nil
	case apierrors.IsNotFound(err):
		return ctrl.Result{}, nil // deleted meanwhile
	}
	return res, err
}

func (r *Reconciler) reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	sp := &cmfv1.Savepoint{}
	if err := r.client.Get(ctx, req.NamespacedName, sp); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	ctx = logf.IntoContext(ctx, logf.FromContext(ctx).WithValues("triggerId", sp.Status.TriggerID))

	if !sp.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, sp)
	}
	if done, err := r.detachIfAsked(ctx, sp); done || err != nil {
		return ctrl.Result{}, err
	}
	if !controllerutil.ContainsFinalizer(sp, cmfv1.DisposeFinalizer) {
		// Before anything is triggered, so that no savepoint data is ever
		// made without a finalizer to dispose it on an explicit delete. The
		// webhook adds it at creation; this is for a Savepoint created
		// before it did.
		return ctrl.Result{}, patch.Meta(ctx, r.client, sp, func() { controllerutil.AddFinalizer(sp, cmfv1.DisposeFinalizer) })
	}
	if sp.Annotations[cmfv1.AbandonAnnotation] == "true" && !sp.Status.State.Terminal() {
		return ctrl.Result{}, r.finish(ctx, sp, cmfv1.StateAbandoned, cmfv1.ReasonAbandoned, "abandoned by a user", "")
	}

	switch sp.Status.State {
	case "":
		if path := sp.Annotations[cmfv1.AdoptedPathAnnotation]; path != "" {
			return ctrl.Result{}, r.adopted(ctx, sp, path)
		}
		// Straight on to the first attempt: whatever it writes first
		// (IN_PROGRESS with the trigger ID, or why it cannot) says
		// TRIGGER_PENDING's part too.
		sp.Status.State = cmfv1.StateTriggerPending
		if sp.Status.Origin == "" {
			sp.Status.Origin = cmfv1.OriginManual
			// Only the manager sets it, for a SavepointPolicy's run.
			if sp.Annotations[cmfv1.ScheduledTimeAnnotation] != "" {
				sp.Status.Origin = cmfv1.OriginPeriodic
			}
		}
		return r.trigger(ctx, sp)
	case cmfv1.StateTriggerPending:
		return r.trigger(ctx, sp)
	case cmfv1.StateInProgress:
		return r.poll(ctx, sp)
	}
	return ctrl.Result{}, nil
}

// trigger starts the next attempt: the trigger ID is recorded in status
// before the request is sent, so that a crash or a retry asks Flink about
// the same savepoint instead of taking another.
func (r *Reconciler) trigger(ctx context.Context, sp *cmfv1.Savepoint) (ctrl.Result, error) {
	now := r.opts.Now()
	// A savepoint woken because its endpoint answers again need not wait
	// out the backoff of its unreachable attempts.
	woken := r.wake.Woken(client.ObjectKeyFromObject(sp))
	if next := sp.Status.NextAttemptTime; next != nil && now.Before(next.Time) && !woken {
		return ctrl.Result{RequeueAfter: next.Sub(now)}, nil
	}
	t, fc, job, res, err := r.reach(ctx, sp)
	if t == nil {
		return res, err
	}

	attempt := sp.Status.Failures + 1
	triggerID := flinkop.SavepointTriggerID(string(sp.UID), attempt)
	if err := r.setStatus(ctx, sp, func(st *cmfv1.SavepointStatus) {
		st.State = cmfv1.StateInProgress
		st.TriggerID = triggerID
		st.TriggerTimestamp = &metav1.MicroTime{Time: now}
		st.JobID = job
		st.RestURL = t.RestURL
		st.NextAttemptTime = nil
		st.Error = ""
	}); err != nil {
		return ctrl.Result{}, err
	}
	if !sp.DeletionTimestamp.IsZero() {
		// The write answered with the object as it is now: deleted before
		// the trigger left. A savepoint taken now would only be disposed.
		return ctrl.Result{}, r.finish(ctx, sp, cmfv1.StateAbandoned, cmfv1.ReasonDeleted, "deleted before its trigger was sent", "")
	}
	r.event(sp, corev1.EventTypeNormal, "Triggered", "Trigger", "attempt %d: savepoint of job %s triggered with ID %s", attempt, job, triggerID)
	// Still IN_PROGRESS when the send had no answer: the next poll finds
	// out whether it arrived.
	return r.apply(ctx, sp, r.opts.Protocol.Send(ctx, fc, operation(sp, flinkop.ResendAlways)))
}

// poll asks Flink about the recorded trigger. One that Flink forgot is
// looked for in the job's checkpoint history and, once the history had
// time to show it, sent again with the same trigger ID.
func (r *Reconciler) poll(ctx context.Context, sp *cmfv1.Savepoint) (ctrl.Result, error) {
	t, fc, _, res, err := r.reach(ctx, sp)
	if t == nil {
		return res, err
	}
	o, err := r.opts.Protocol.Poll(ctx, fc, operation(sp, flinkop.ResendAlways), r.held(sp))
	if err != nil {
		return ctrl.Result{}, err
	}
	return r.apply(ctx, sp, o)
}

// apply maps what the protocol found onto a live savepoint's status and
// events: a savepoint COMPLETED with its path; ABANDONED when its job is
// gone; a failed attempt counted (see failed); otherwise IN_PROGRESS, asked
// again after the protocol's wait.
func (r *Reconciler) apply(ctx context.Context, sp *cmfv1.Savepoint, o flinkop.Outcome) (ctrl.Result, error) {
	metrics.CountRESTError(o)
	if o.Resent {
		r.event(sp, corev1.EventTypeNormal, "Resent", "Trigger", "Flink does not know trigger %s and its checkpoint history has no such savepoint: sending it again", sp.Status.TriggerID)
	}
	switch o.Kind {
	case flinkop.Completed:
		if o.Recovered {
			r.event(sp, corev1.EventTypeNormal, "Recovered", "Poll", "Flink forgot trigger %s; found its savepoint in the job's checkpoint history", sp.Status.TriggerID)
		}
		return ctrl.Result{}, r.completed(ctx, sp, o.Path)
	case flinkop.Unreachable:
		if o.Call == flinkop.CallTrigger && endpoint.NotSent(o.Err) {
			// The trigger never left: Flink cannot have taken it, so the
			// attempt is spent, and the next one has a trigger ID of its own.
			return r.unreachableAttempt(ctx, sp, sp.Status.RestURL, o.Err)
		}
		// It may have arrived: it is asked about, never counted as failed.
		return r.waitForEndpoint(ctx, sp, sp.Status.RestURL, o.Err)
	case flinkop.JobGone:
		return ctrl.Result{}, r.finish(ctx, sp, cmfv1.StateAbandoned, cmfv1.ReasonJobGone, flinkop.Message(o.Err), "")
	case flinkop.Failed:
		return r.failed(ctx, sp, o.Err)
	}
	// Pending, RetryAfter, Resent.
	return ctrl.Result{RequeueAfter: o.Wait}, nil
}

// operation is the savepoint's recorded trigger as the protocol reads it.
func operation(sp *cmfv1.Savepoint, resend flinkop.ResendPolicy) flinkop.Operation {
	op := flinkop.Operation{
		Request: flinkop.TakeSavepoint, JobID: sp.Status.JobID, TriggerID: sp.Status.TriggerID,
		Dir: sp.Spec.Path, Format: flink.Format(sp.Spec.FormatType), Resend: resend,
	}
	if ts := sp.Status.TriggerTimestamp; ts != nil {
		op.Recorded = ts.Time
	}
	return op
}

// held returns the paths that the parent's other Savepoints hold: the
// history lookup never takes one of them for this savepoint's trigger.
func (r *Reconciler) held(sp *cmfv1.Savepoint) flinkop.Held {
	return func(ctx context.Context) ([]string, error) {
		kind, parent := sp.Parent()
		return adopt.HeldPaths(ctx, r.live, sp.Namespace, kind, parent, func(other *cmfv1.Savepoint) bool { return other.UID == sp.UID })
	}
}

// reach resolves the savepoint's parent to a client and a job. When it
// cannot, it records why and returns a nil target with the result to return.
func (r *Reconciler) reach(ctx context.Context, sp *cmfv1.Savepoint) (*endpoint.Target, *flink.Client, string, ctrl.Result, error) {
	t, err := r.resolver.Resolve(ctx, sp)
	if err != nil {
		if errors.Is(err, endpoint.ErrParentNotFound) {
			return nil, nil, "", ctrl.Result{}, r.finish(ctx, sp, cmfv1.StateAbandoned, cmfv1.ReasonParentNotFound, err.Error(), "")
		}
		res, err := r.unreachable(ctx, sp, "", err)
		return nil, nil, "", res, err
	}
	if sp.Status.State == cmfv1.StateInProgress && sp.Status.RestURL != "" {
		// A trigger is asked about where it was sent, wherever the parent
		// points now.
		t.RestURL = sp.Status.RestURL
	}
	fc, err := r.flink.Get(sp.Namespace, t.RestURL)
	if err != nil {
		return nil, nil, "", ctrl.Result{}, r.finish(ctx, sp, cmfv1.StateFailed, cmfv1.ReasonBadRestURL, err.Error(), "")
	}
	if err := r.health.Open(sp.Namespace, t.RestURL); err != nil {
		// Known not to answer: nothing is sent, no worker waits on it.
		res, err := r.unreachable(ctx, sp, t.RestURL, err)
		return nil, nil, "", res, err
	}
	job := sp.Status.JobID
	if job == "" || sp.Status.State == cmfv1.StateTriggerPending {
		if job, err = endpoint.JobID(t); err != nil {
			// Nothing is sent and nothing counted: the parent's status
			// wakes the savepoint up when the job ID is written.
			return nil, nil, "", ctrl.Result{}, r.setCondition(ctx, sp, cmfv1.ConditionReady, metav1.ConditionFalse, cmfv1.ReasonJobNotKnown, err.Error())
		}
	}
	if sp.Status.State == cmfv1.StateTriggerPending {
		// Written with the trigger, which comes next.
		meta.SetStatusCondition(&sp.Status.Conditions, metav1.Condition{Type: cmfv1.ConditionClusterReachable, Status: metav1.ConditionTrue,
			Reason: cmfv1.ReasonReachable, Message: t.RestURL + " answers", ObservedGeneration: sp.Generation})
	} else if err := r.setCondition(ctx, sp, cmfv1.ConditionClusterReachable, metav1.ConditionTrue, cmfv1.ReasonReachable, t.RestURL+" answers"); err != nil {
		return nil, nil, "", ctrl.Result{}, err
	}
	return t, fc, job, ctrl.Result{}, nil
}

// unreachable: the JobManager at restURL gave no usable answer before
// anything was sent for this savepoint (restURL empty: where the parent's
// JobManager is could not be found). With nothing in flight
// (TRIGGER_PENDING) that is an attempt spent; otherwise the savepoint waits
// for the endpoint.
//
// A savepoint that may try for ever (backoffLimit -1) spends no attempt
// while the endpoint's circuit is open: nothing is tried, nothing is
// written, it waits for the endpoint. So what any number of them cost while
// a cluster is down is a cache read each per probe of the endpoint; a
// savepoint with a limit spends its attempts, at most limit+1 writes.
func (r *Reconciler) unreachable(ctx context.Context, sp *cmfv1.Savepoint, restURL string, err error) (ctrl.Result, error) {
	var open *endpoint.CircuitOpenError
	if restURL != "" && sp.Status.State == cmfv1.StateTriggerPending && (backoffLimit(sp) >= 0 || !errors.As(err, &open)) {
		return r.unreachableAttempt(ctx, sp, restURL, err)
	}
	return r.waitForEndpoint(ctx, sp, restURL, err)
}

// waitForEndpoint records that the JobManager did not answer and looks
// again when it answers (woken by the endpoint's health tracker) or at its
// next probe, without counting a failure: the savepoint's trigger may be in
// flight, and only Flink can say what became of it.
func (r *Reconciler) waitForEndpoint(ctx context.Context, sp *cmfv1.Savepoint, restURL string, err error) (ctrl.Result, error) {
	msg := err.Error()
	if restURL != "" {
		msg = fmt.Sprintf("cluster not reachable at %s: %s", restURL, flinkop.Message(err))
	}
	changed, cerr := r.setConditionChanged(ctx, sp, cmfv1.ConditionClusterReachable, metav1.ConditionFalse, cmfv1.ReasonUnreachable, msg)
	if cerr != nil {
		return ctrl.Result{}, cerr
	}
	if changed {
		r.event(sp, corev1.EventTypeWarning, "ClusterUnreachable", "Reach", "%s", msg)
	}
	wait := r.opts.Protocol.UnreachableWait()
	if restURL != "" {
		if next, open := r.health.RetryIn(sp.Namespace, restURL); open {
			wait = max(wait, next)
		}
		if r.health.WaitFor(r.wake, sp.Namespace, restURL, client.ObjectKeyFromObject(sp)) {
			// Woken when the endpoint answers; until then, looked at only
			// as seldom as the longest backoff, in case.
			wait = max(wait, r.opts.Protocol.Backoff.Cap)
		}
	}
	return ctrl.Result{RequeueAfter: wait}, nil
}

// unreachableAttempt counts an attempt that sent nothing Flink could take,
// because the JobManager at restURL did not answer: FAILED once
// backoffLimit is spent, else another attempt after the backoff, or as soon
// as the endpoint answers again.
func (r *Reconciler) unreachableAttempt(ctx context.Context, sp *cmfv1.Savepoint, restURL string, cause error) (ctrl.Result, error) {
	metrics.UnreachableAttempts.Inc()
	msg := fmt.Sprintf("cluster not reachable at %s: %s", restURL, flinkop.Message(cause))
	failures := sp.Status.Failures + 1
	reachable := metav1.Condition{Type: cmfv1.ConditionClusterReachable, Status: metav1.ConditionFalse, Reason: cmfv1.ReasonUnreachable, Message: msg, ObservedGeneration: sp.Generation}
	if limit := backoffLimit(sp); limit >= 0 && failures > limit {
		sp.Status.Failures = failures
		meta.SetStatusCondition(&sp.Status.Conditions, reachable)
		return ctrl.Result{}, r.finish(ctx, sp, cmfv1.StateFailed, cmfv1.ReasonUnreachable, msg, "")
	}
	wait := r.opts.Protocol.Backoff.Wait(failures)
	err := r.setStatus(ctx, sp, func(st *cmfv1.SavepointStatus) {
		st.State = cmfv1.StateTriggerPending
		st.Failures = failures
		st.Error = msg
		st.NextAttemptTime = &metav1.Time{Time: r.opts.Now().Add(wait)}
		meta.SetStatusCondition(&st.Conditions, reachable)
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: cmfv1.ConditionReady, Status: metav1.ConditionFalse, Reason: cmfv1.ReasonRetrying, Message: msg, ObservedGeneration: sp.Generation})
	})
	if err != nil {
		return ctrl.Result{}, err
	}
	r.event(sp, corev1.EventTypeWarning, "ClusterUnreachable", "Trigger", "attempt %d: %s; trying again in %s, or when it answers", failures, msg, wait.Round(time.Millisecond))
	r.health.WaitFor(r.wake, sp.Namespace, restURL, client.ObjectKeyFromObject(sp))
	return ctrl.Result{RequeueAfter: wait}, nil
}

// backoffLimit is the savepoint's backoffLimit, or the default.
func backoffLimit(sp *cmfv1.Savepoint) int32 {
	if sp.Spec.BackoffLimit != nil {
		return *sp.Spec.BackoffLimit
	}
	return cmfv1.DefaultBackoffLimit
}

// failed counts a failed attempt: FAILED when the error is permanent or
// backoffLimit allows no more, else a retry later.
func (r *Reconciler) failed(ctx context.Context, sp *cmfv1.Savepoint, cause error) (ctrl.Result, error) {
	msg := flinkop.Message(cause)
	failures := sp.Status.Failures + 1
	limit := backoffLimit(sp)
	if flink.Permanent(cause) || (limit >= 0 && failures > limit) {
		sp.Status.Failures = failures
		return ctrl.Result{}, r.finish(ctx, sp, cmfv1.StateFailed, cmfv1.ReasonFailed, msg, "")
	}
	wait := r.opts.Protocol.Backoff.Wait(failures)
	err := r.setStatus(ctx, sp, func(st *cmfv1.SavepointStatus) {
		st.State = cmfv1.StateTriggerPending
		st.Failures = failures
		st.Error = msg
		st.NextAttemptTime = &metav1.Time{Time: r.opts.Now().Add(wait)}
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: cmfv1.ConditionReady, Status: metav1.ConditionFalse, Reason: cmfv1.ReasonRetrying, Message: msg, ObservedGeneration: sp.Generation})
	})
	r.event(sp, corev1.EventTypeWarning, "AttemptFailed", "Trigger", "attempt %d failed, retrying in %s: %s", failures, wait.Round(time.Millisecond), msg)
	return ctrl.Result{RequeueAfter: wait}, err
}

// completed records the savepoint's path.
func (r *Reconciler) completed(ctx context.Context, sp *cmfv1.Savepoint, location string) error {
	if sp.Status.TriggerTimestamp != nil {
		metrics.TriggerToComplete.Observe(r.opts.Now().Sub(sp.Status.TriggerTimestamp.Time).Seconds())
	}
	return r.finish(ctx, sp, cmfv1.StateCompleted, cmfv1.ReasonCompleted, "", location)
}

// finish moves the savepoint to a terminal state.
func (r *Reconciler) finish(ctx context.Context, sp *cmfv1.Savepoint, state cmfv1.SavepointState, reason, msg, path string) error {
	failures := sp.Status.Failures
	err := r.setStatus(ctx, sp, func(st *cmfv1.SavepointStatus) {
		st.State = state
		st.Failures = failures
		st.Error = msg
		st.NextAttemptTime = nil
		if path != "" {
			st.Path = path
		}
		if st.Origin == "" {
			st.Origin = cmfv1.OriginManual
		}
		st.ResultTimestamp = &metav1.Time{Time: r.opts.Now()}
		cond := metav1.Condition{Type: cmfv1.ConditionReady, Status: metav1.ConditionFalse, Reason: reason, Message: msg, ObservedGeneration: sp.Generation}
		if state == cmfv1.StateCompleted {
			cond.Status, cond.Message = metav1.ConditionTrue, "savepoint at "+path
		}
		meta.SetStatusCondition(&st.Conditions, cond)
	})
	if err != nil {
		return err
	}
	eventType, note := corev1.EventTypeNormal, "savepoint "+strings.ToLower(string(state))
	switch state {
	case cmfv1.StateCompleted:
		note = "savepoint completed at " + path
	case cmfv1.StateFailed, cmfv1.StateAbandoned:
		eventType, note = corev1.EventTypeWarning, fmt.Sprintf("savepoint %s: %s", strings.ToLower(string(state)), msg)
	}
	r.event(sp, eventType, reason, "Finish", "%s", note)
	return nil
}

// adopted completes a Savepoint the manager made for a savepoint taken
// outside one: nothing is triggered, the recorded path is the result.
func (r *Reconciler) adopted(ctx context.Context, sp *cmfv1.Savepoint, path string) error {
	origin := cmfv1.SavepointOrigin(sp.Annotations[cmfv1.AdoptedOriginAnnotation])
	if origin == "" {
		origin = cmfv1.OriginManual
	}
	// The endpoint it is disposed through: the parent's now, where its job
	// ran (a parent already gone leaves none; a delete then resolves it).
	restURL := ""
	switch t, err := r.resolver.Resolve(ctx, sp); {
	case err == nil:
		restURL = t.RestURL
	case !errors.Is(err, endpoint.ErrParentNotFound):
		return err
	}
	err := r.setStatus(ctx, sp, func(st *cmfv1.SavepointStatus) {
		st.State = cmfv1.StateCompleted
		st.Path = path
		st.RestURL = restURL
		st.Origin = origin
		st.JobID = sp.Annotations[cmfv1.AdoptedJobAnnotation]
		st.ResultTimestamp = &metav1.Time{Time: r.opts.Now()}
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: cmfv1.ConditionReady, Status: metav1.ConditionTrue, Reason: cmfv1.ReasonAdopted,
			Message: "savepoint at " + path + " adopted from " + cmp.Or(sp.Annotations[cmfv1.AdoptedFromAnnotation], "outside"), ObservedGeneration: sp.Generation})
	})
	if err != nil {
		return err
	}
	r.event(sp, corev1.EventTypeNormal, cmfv1.ReasonAdopted, "Adopt", "%s savepoint at %s adopted from %s", origin, path, cmp.Or(sp.Annotations[cmfv1.AdoptedFromAnnotation], "outside"))
	return nil
}

// setStatus applies change to the savepoint's status and writes it once,
// with optimistic concurrency: a conflict means another writer got there
// first, and the next reconcile starts from what it wrote.
func (r *Reconciler) setStatus(ctx context.Context, sp *cmfv1.Savepoint, change func(*cmfv1.SavepointStatus)) error {
	change(&sp.Status)
	sp.Status.ObservedGeneration = sp.Generation
	return r.client.Status().Update(ctx, sp)
}

// setCondition writes a condition only when it changes.
func (r *Reconciler) setCondition(ctx context.Context, sp *cmfv1.Savepoint, kind string, status metav1.ConditionStatus, reason, msg string) error {
	_, err := r.setConditionChanged(ctx, sp, kind, status, reason, msg)
	return err
}

// setConditionChanged is setCondition, reporting whether it wrote.
func (r *Reconciler) setConditionChanged(ctx context.Context, sp *cmfv1.Savepoint, kind string, status metav1.ConditionStatus, reason, msg string) (bool, error) {
	if c := meta.FindStatusCondition(sp.Status.Conditions, kind); c != nil && c.Status == status && c.Reason == reason && c.ObservedGeneration == sp.Generation {
		return false, nil
	}
	return true, r.setStatus(ctx, sp, func(st *cmfv1.SavepointStatus) {
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: kind, Status: status, Reason: reason, Message: msg, ObservedGeneration: sp.Generation})
	})
}

func (r *Reconciler) event(sp *cmfv1.Savepoint, eventType, reason, action, format string, args ...any) {
	r.events.Eventf(sp, nil, eventType, reason, action, format, args...)
}

// detachIfAsked deletes an attached savepoint that a DetachedSavepoint now
// keeps: first it records the DetachedSavepoint on the savepoint (so its
// deletion never disposes, whatever happens to the DetachedSavepoint), then
// it deletes it. Each step is safe to repeat after a crash.
func (r *Reconciler) detachIfAsked(ctx context.Context, sp *cmfv1.Savepoint) (bool, error) {
	detached := sp.Annotations[cmfv1.DetachedAsAnnotation]
	if detached == "" {
		dsp, err := r.detachedFor(ctx, sp)
		if err != nil || dsp == nil {
			return false, err
		}
		detached = dsp.Namespace + "/" + dsp.Name
		if err := patch.Meta(ctx, r.client, sp, func() { metav1.SetMetaDataAnnotation(&sp.ObjectMeta, cmfv1.DetachedAsAnnotation, detached) }); err != nil {
			return true, err
		}
	}
	r.event(sp, corev1.EventTypeNormal, "Detached", "Detach", "detached as DetachedSavepoint %s: removing the attached savepoint, keeping its data at %s", detached, sp.Status.Path)
	err := r.client.Delete(ctx, sp, client.Preconditions{UID: &sp.UID})
	return true, client.IgnoreNotFound(err)
}

// detachedFor returns the DetachedSavepoint detached from sp, if any.
func (r *Reconciler) detachedFor(ctx context.Context, sp *cmfv1.Savepoint) (*cmfv1.DetachedSavepoint, error) {
	var list cmfv1.DetachedSavepointList
	if err := r.client.List(ctx, &list, client.MatchingFields{index.DetachedSource: sp.Namespace + "/" + sp.Name}); err != nil {
		return nil, err
	}
	for i := range list.Items {
		src := list.Items[i].Spec.Source
		if src.UID == "" || src.UID == string(sp.UID) {
			return &list.Items[i], nil
		}
	}
	return nil, nil
}

// finalize runs when an attached savepoint is deleted: its data is disposed
// only for an explicit delete of a COMPLETED savepoint; a detach or a forced
// delete keeps it.
func (r *Reconciler) finalize(ctx context.Context, sp *cmfv1.Savepoint) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(sp, cmfv1.DisposeFinalizer) {
		return ctrl.Result{}, nil
	}
	detached := sp.Annotations[cmfv1.DetachedAsAnnotation]
	if detached == "" {
		dsp, err := r.detachedFor(ctx, sp)
		if err != nil {
			return ctrl.Result{}, err
		}
		if dsp != nil {
			detached = dsp.Namespace + "/" + dsp.Name
		}
	}
	switch {
	case detached != "":
		// The detach event was recorded when the delete was made.
	case sp.Annotations[cmfv1.ForceDeleteAnnotation] == "true":
		switch {
		case sp.Status.Path != "":
			r.event(sp, corev1.EventTypeWarning, "Orphaned", "Delete", "deleted with --force: the savepoint data at %s was not disposed and is now orphaned", sp.Status.Path)
		case sp.Status.State == cmfv1.StateInProgress:
			r.event(sp, corev1.EventTypeWarning, "Orphaned", "Delete", "deleted with --force while IN_PROGRESS: if Flink completes trigger %s of job %s, its savepoint data is orphaned", sp.Status.TriggerID, sp.Status.JobID)
		}
	case sp.Status.State == cmfv1.StateInProgress:
		// The trigger may have reached Flink: its outcome decides whether
		// there is data to dispose. It is never sent again.
		return r.settle(ctx, sp)
	case sp.Status.State != cmfv1.StateCompleted || sp.Status.Path == "":
		// Nothing in flight, nothing taken: nothing to dispose.
	case sp.Status.DisposalTriggerID != "":
		return r.dispose(ctx, sp) // a disposal under way finishes
	default:
		why, err := r.retain.BulkDeletion(ctx, sp.Namespace, sp.DeletionTimestamp)
		if err != nil {
			return ctrl.Result{}, err
		}
		if why == "" || r.retain.Policy == retention.BulkDispose {
			return r.dispose(ctx, sp)
		}
		kind, parent := sp.Parent()
		if err := r.retain.Keep(ctx, sp, retention.Retained{Namespace: sp.Namespace, Kind: kind, Parent: parent, Name: sp.Name,
			UID: string(sp.UID), Path: sp.Status.Path, Origin: sp.Status.Origin}, why); err != nil {
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{}, r.removeFinalizer(ctx, sp)
}

// settle follows the trigger of a savepoint deleted while IN_PROGRESS to
// its outcome, keeping the resource meanwhile: a savepoint Flink completes
// is recorded and then disposed (the user asked for it to go); one that
// failed, or that Flink never took, leaves nothing behind. The trigger is
// never sent again (ResendNever).
func (r *Reconciler) settle(ctx context.Context, sp *cmfv1.Savepoint) (ctrl.Result, error) {
	pending := func(err error) (ctrl.Result, error) {
		return r.disposalPending(ctx, sp, "", fmt.Errorf("deleted while IN_PROGRESS, and the outcome of trigger %s is not known yet: %w; delete with --force to remove it now and keep whatever Flink writes", sp.Status.TriggerID, err))
	}
	fc, err := r.recordedEndpoint(ctx, sp)
	if err != nil {
		return pending(err)
	}
	o, err := r.opts.Protocol.Poll(ctx, fc, operation(sp, flinkop.ResendNever), r.held(sp))
	if err != nil {
		return pending(err)
	}
	metrics.CountRESTError(o)
	switch o.Kind {
	case flinkop.Completed:
		// Recorded first, so that the disposal that follows knows the path
		// even across a crash.
		return ctrl.Result{RequeueAfter: r.opts.Protocol.PollMin}, r.completed(ctx, sp, o.Path)
	case flinkop.NotTaken:
		r.event(sp, corev1.EventTypeNormal, "NotTaken", "Delete", "deleted while IN_PROGRESS: Flink does not know trigger %s and the job's checkpoint history has no savepoint of it: nothing to dispose", sp.Status.TriggerID)
		return ctrl.Result{}, r.removeFinalizer(ctx, sp)
	case flinkop.JobGone:
		// Terminal without a path: the next reconcile finds nothing to dispose.
		return ctrl.Result{}, r.finish(ctx, sp, cmfv1.StateAbandoned, cmfv1.ReasonJobGone, flinkop.Message(o.Err), "")
	case flinkop.Failed:
		return ctrl.Result{}, r.finish(ctx, sp, cmfv1.StateFailed, cmfv1.ReasonFailed, flinkop.Message(o.Err), "")
	case flinkop.Unreachable:
		return pending(o.Err)
	}
	// Pending, RetryAfter.
	return ctrl.Result{RequeueAfter: o.Wait}, nil
}

// dispose deletes a COMPLETED savepoint's data through the JobManager it
// was taken through and confirms the result, keeping the resource until it
// has.
func (r *Reconciler) dispose(ctx context.Context, sp *cmfv1.Savepoint) (ctrl.Result, error) {
	fc, err := r.recordedEndpoint(ctx, sp)
	if err != nil {
		return r.disposalPending(ctx, sp, "", fmt.Errorf("cannot reach the parent's Flink cluster: %w; delete with --force to keep the data and remove the resource", err))
	}
	protocol := r.opts.Protocol
	if sp.Status.DisposalTriggerID == "" {
		if err := r.disposable(ctx, fc, sp); err != nil {
			return r.disposalPending(ctx, sp, "", err)
		}
		id, o := protocol.Dispose(ctx, fc, sp.Status.Path)
		metrics.CountRESTError(o)
		if o.Kind != flinkop.Pending {
			return r.disposalPending(ctx, sp, "", o.Err)
		}
		return ctrl.Result{RequeueAfter: o.Wait}, r.setStatus(ctx, sp, func(st *cmfv1.SavepointStatus) {
			st.DisposalTriggerID = id
		})
	}
	o := protocol.PollDisposal(ctx, fc, sp.Status.DisposalTriggerID)
	metrics.CountRESTError(o)
	switch o.Kind {
	case flinkop.Completed:
		r.event(sp, corev1.EventTypeNormal, "Disposed", "Delete", "savepoint data at %s disposed", sp.Status.Path)
		return ctrl.Result{}, r.removeFinalizer(ctx, sp)
	case flinkop.Pending:
		return ctrl.Result{RequeueAfter: o.Wait}, nil
	case flinkop.Failed:
		// Failed, or forgotten by the JobManager: ask again; disposing a
		// disposed path completes as well.
		return r.disposalPending(ctx, sp, "", o.Err)
	}
	// No usable answer: the same disposal is asked about again.
	return r.disposalPending(ctx, sp, sp.Status.DisposalTriggerID, o.Err)
}

// recordedEndpoint is the client of the JobManager sp was triggered or
// adopted through. A Savepoint from before the endpoint was recorded has
// none: its parent's endpoint of now stands in.
func (r *Reconciler) recordedEndpoint(ctx context.Context, sp *cmfv1.Savepoint) (*flink.Client, error) {
	url := sp.Status.RestURL
	if url == "" {
		t, err := r.resolver.Resolve(ctx, sp)
		if err != nil {
			return nil, err
		}
		url = t.RestURL
	}
	return r.flink.Get(sp.Namespace, url)
}

// disposable says whether the manager may dispose sp's data through fc.
// The path of a savepoint the manager triggered, or found in its own stop
// or its own job's checkpoint history, is what that JobManager answered.
// Any other adopted path was read from an object users can write (a
// FlinkStateSnapshot, a FlinkDeployment's status): it is disposed only
// inside the cluster's own savepoint directory or a prefix the admin
// allowed, so that no one can have the manager dispose another team's data
// by naming its path.
func (r *Reconciler) disposable(ctx context.Context, fc *flink.Client, sp *cmfv1.Savepoint) error {
	from := sp.Annotations[cmfv1.AdoptedFromAnnotation]
	if sp.Annotations[cmfv1.AdoptedPathAnnotation] == "" || adopt.ReportedByJobManager(from) {
		return nil
	}
	dirs := slices.Clone(r.opts.DisposablePrefixes)
	config, err := fc.JobManagerConfig(ctx)
	if err != nil {
		return fmt.Errorf("read the savepoint directory of the cluster at %s: %w", fc.URL(), err)
	}
	for _, key := range savepointDirKeys {
		if dir := config[key]; dir != "" {
			dirs = append(dirs, dir)
		}
	}
	for _, dir := range dirs {
		if flink.PathUnder(sp.Status.Path, dir) {
			return nil
		}
	}
	return fmt.Errorf("the path was adopted from %s and is outside the savepoint directory of the cluster at %s (%s) and the manager's --disposable-prefix list: "+
		"the manager does not dispose it; an admin may allow its prefix with --disposable-prefix, or delete with --force to keep the data",
		cmp.Or(from, "outside"), fc.URL(), cmp.Or(strings.Join(dirs[len(r.opts.DisposablePrefixes):], ", "), "none configured"))
}

// savepointDirKeys are the Flink settings of a cluster's default savepoint
// directory: the current key, and the one Flink 1.x used.
var savepointDirKeys = []string{"execution.checkpointing.savepoint-dir", "state.savepoints.dir"}

// disposalPending keeps a deleted savepoint until its data can be disposed.
func (r *Reconciler) disposalPending(ctx context.Context, sp *cmfv1.Savepoint, keepTrigger string, cause error) (ctrl.Result, error) {
	metrics.DisposalFailures.Inc()
	r.event(sp, corev1.EventTypeWarning, cmfv1.ReasonDisposalPending, "Delete", "savepoint data at %s not disposed yet, retrying: %v", sp.Status.Path, cause)
	err := r.setStatus(ctx, sp, func(st *cmfv1.SavepointStatus) {
		st.PendingDeletion = true
		st.DisposalTriggerID = keepTrigger
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: cmfv1.ConditionClusterReachable, Status: metav1.ConditionFalse, Reason: cmfv1.ReasonDisposalPending, Message: cause.Error(), ObservedGeneration: sp.Generation})
	})
	return ctrl.Result{RequeueAfter: r.opts.Protocol.Backoff.Wait(2)}, err
}

// maxDeletedPaths bounds a parent's record of deleted savepoint paths.
const maxDeletedPaths = 20

// remember records on a session-mode parent that the savepoint at sp's path
// was deleted, so that it is never adopted again from the job's checkpoint
// history.
func (r *Reconciler) remember(ctx context.Context, sp *cmfv1.Savepoint) error {
	if sp.Status.Path == "" {
		return nil
	}
	kind, name := sp.Parent()
	parent := kind.NewParent()
	if parent == nil {
		return nil
	}
	if err := r.client.Get(ctx, client.ObjectKey{Namespace: sp.Namespace, Name: name}, parent); err != nil {
		return client.IgnoreNotFound(err)
	}
	session := parent.Session()
	if session == nil || slices.Contains(session.DeletedPaths, sp.Status.Path) {
		return nil
	}
	patch := client.MergeFromWithOptions(parent.DeepCopyObject().(client.Object), client.MergeFromWithOptimisticLock{})
	paths := append(session.DeletedPaths, sp.Status.Path)
	session.DeletedPaths = paths[max(0, len(paths)-maxDeletedPaths):]
	return client.IgnoreNotFound(r.client.Status().Patch(ctx, parent, patch))
}

func (r *Reconciler) removeFinalizer(ctx context.Context, sp *cmfv1.Savepoint) error {
	if err := r.remember(ctx, sp); err != nil {
		return err
	}
	patch := client.MergeFromWithOptions(sp.DeepCopy(), client.MergeFromWithOptimisticLock{})
	controllerutil.RemoveFinalizer(sp, cmfv1.DisposeFinalizer)
	return client.IgnoreNotFound(r.client.Patch(ctx, sp, patch))
}
