// Package policy runs SavepointPolicies: for each parent a policy covers it
// takes the scheduled savepoints (internal/schedule decides when), carries
// out run requests, deletes what retention says (rules.Expired decides
// which, the normal delete path disposes), and writes per parent when its
// newest good savepoint was taken.
package policy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/metrics"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/index"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/rules"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/schedule"
)

// Condition types and reasons of a SavepointPolicy.
const (
	// ConditionConflict: another policy is as specific for some parent
	// (the older one applies).
	ConditionConflict = "Conflict"
	// ReasonScheduled: the schedule is valid and running.
	ReasonScheduled = "Scheduled"
	// ReasonSuspended: spec.suspend holds the schedule.
	ReasonSuspended = "Suspended"
	// ReasonNoSchedule: the policy schedules nothing (retention, defaults).
	ReasonNoSchedule = "NoSchedule"
	// ReasonInvalidSchedule: the schedule cannot be read.
	ReasonInvalidSchedule = "InvalidSchedule"
	// ReasonTied: equally specific policies cover a parent.
	ReasonTied = "Tied"
	// ReasonUnique: no other policy is as specific for any covered parent.
	ReasonUnique = "Unique"
)

// Options configure the policy controller.
type Options struct {
	// Now returns the time; default time.Now.
	Now func() time.Time
	// SkipNameValidation lets one process set the controller up more than
	// once (tests that restart the manager).
	SkipNameValidation bool
}

// Reconciler runs one SavepointPolicy.
type Reconciler struct {
	client client.Client
	events events.EventRecorder
	opts   Options
}

// Setup registers the policy controller with mgr. Any change to a parent,
// a Savepoint or another policy of a namespace looks at that namespace's
// policies again: coverage, in-flight savepoints and the newest good one
// all depend on them.
func Setup(mgr ctrl.Manager, opts Options) error {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &Reconciler{client: mgr.GetClient(), events: mgr.GetEventRecorder("savepoint-policy"), opts: opts}
	policiesOf := handler.EnqueueRequestsFromMapFunc(r.policiesOf)
	return ctrl.NewControllerManagedBy(mgr).
		WithOptions(controller.Options{SkipNameValidation: &opts.SkipNameValidation}).
		Named("savepointpolicy").
		For(&cmfv1.SavepointPolicy{}).
		Watches(&cmfv1.FlinkApplication{}, policiesOf).
		Watches(&cmfv1.Statement{}, policiesOf).
		Watches(&cmfv1.Savepoint{}, policiesOf).
		Watches(&cmfv1.SavepointPolicy{}, policiesOf).
		Complete(r)
}

// policiesOf enqueues every policy of obj's namespace.
func (r *Reconciler) policiesOf(ctx context.Context, obj client.Object) []ctrl.Request {
	if sp, ok := obj.(*cmfv1.Savepoint); ok {
		if kind, _ := sp.Parent(); kind == "" {
			return nil
		}
	}
	var list cmfv1.SavepointPolicyList
	if err := r.client.List(ctx, &list, client.InNamespace(obj.GetNamespace())); err != nil {
		logf.FromContext(ctx).Error(err, "list SavepointPolicies")
		return nil
	}
	out := make([]ctrl.Request, 0, len(list.Items))
	for _, p := range list.Items {
		out = append(out, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: p.Namespace, Name: p.Name}})
	}
	return out
}

// covered is one parent a policy applies to, with what is known of it.
type covered struct {
	parent   cmfv1.Parent
	siblings []cmfv1.Savepoint
	status   cmfv1.PolicyParentStatus
}

func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var policy cmfv1.SavepointPolicy
	if err := r.client.Get(ctx, req.NamespacedName, &policy); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !policy.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	now := r.opts.Now()
	parents, all, tied, err := r.coverage(ctx, &policy)
	if err != nil {
		return ctrl.Result{}, err
	}
	st := policy.Status.DeepCopy()
	plan, planErr := schedule.Parse(&policy.Spec)
	var wake time.Time
	var errs []error
	for _, c := range parents {
		if prev := findParent(st.Parents, c.parent); prev != nil {
			c.status = *prev
		}
		c.status.Kind, c.status.Name = c.parent.ParentKind(), c.parent.GetName()
		if planErr == nil {
			w, err := r.scheduled(ctx, &policy, plan, c, now)
			errs = append(errs, err)
			wake = earliest(wake, w)
		}
		errs = append(errs, r.retain(ctx, &policy, c, all, now))
		newestGood(c)
	}
	if request := policy.Annotations[cmfv1.RunRequestAnnotation]; request != "" && request != st.LastRunRequest {
		runErrs := 0
		for _, c := range parents {
			if err := r.runRequested(ctx, &policy, c, request); err != nil {
				errs, runErrs = append(errs, err), runErrs+1
			}
		}
		if runErrs == 0 {
			st.LastRunRequest = request
		}
	}
	r.summarize(&policy, st, parents, planErr, tied)
	if !equality.Semantic.DeepEqual(st, &policy.Status) {
		policy.Status = *st
		if err := r.client.Status().Update(ctx, &policy); err != nil {
			if apierrors.IsConflict(err) {
				return ctrl.Result{RequeueAfter: 10 * time.Millisecond}, nil
			}
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return ctrl.Result{}, err
	}
	if wake.IsZero() {
		return ctrl.Result{}, nil
	}
	// A little after the due time, so the run is due when looked at.
	return ctrl.Result{RequeueAfter: max(wake.Sub(r.opts.Now()), 0) + 10*time.Millisecond}, nil
}

// coverage finds the parents of the namespace this policy applies to (it
// is their most specific policy), with their savepoints; all the
// namespace's parents (for the restore-point guard); and the policies tied
// with this one for some parent.
func (r *Reconciler) coverage(ctx context.Context, policy *cmfv1.SavepointPolicy) ([]*covered, rules.Parents, []string, error) {
	ns := client.InNamespace(policy.Namespace)
	var policies cmfv1.SavepointPolicyList
	var apps cmfv1.FlinkApplicationList
	var stmts cmfv1.StatementList
	for _, list := range []client.ObjectList{&policies, &apps, &stmts} {
		if err := r.client.List(ctx, list, ns); err != nil {
			return nil, rules.Parents{}, nil, err
		}
	}
	all := rules.Parents{Applications: apps.Items, Statements: stmts.Items}
	// A policy being deleted covers nothing: the next most specific one does.
	policies.Items = slices.DeleteFunc(policies.Items, func(p cmfv1.SavepointPolicy) bool { return !p.DeletionTimestamp.IsZero() })
	var candidates []cmfv1.Parent
	for i := range apps.Items {
		candidates = append(candidates, &apps.Items[i])
	}
	for i := range stmts.Items {
		candidates = append(candidates, &stmts.Items[i])
	}
	var out []*covered
	var tied []string
	for _, p := range candidates {
		if !p.GetDeletionTimestamp().IsZero() {
			continue
		}
		winner, ties := rules.PolicyFor(policies.Items, p.ParentKind(), p.GetName(), p.GetLabels())
		if winner == nil || winner.Name != policy.Name {
			if slices.Contains(ties, policy.Name) && winner != nil {
				tied = append(tied, fmt.Sprintf("%s %s (%s applies, the older)", p.ParentKind(), p.GetName(), winner.Name))
			}
			continue
		}
		if len(ties) > 0 {
			tied = append(tied, fmt.Sprintf("%s %s (also %s)", p.ParentKind(), p.GetName(), strings.Join(ties, ", ")))
		}
		var siblings cmfv1.SavepointList
		if err := r.client.List(ctx, &siblings, ns, client.MatchingFields{index.Parent: index.ParentKey(p.ParentKind(), p.GetName())}); err != nil {
			return nil, rules.Parents{}, nil, err
		}
		out = append(out, &covered{parent: p, siblings: siblings.Items})
	}
	return out, all, tied, nil
}

// scheduled does what the schedule says for one parent now, and returns
// when to look again.
func (r *Reconciler) scheduled(ctx context.Context, policy *cmfv1.SavepointPolicy, plan *schedule.Plan, c *covered, now time.Time) (time.Time, error) {
	kind, name := c.parent.ParentKind(), c.parent.GetName()
	st := &c.status
	last := anchor(policy, c.parent)
	if st.LastScheduleTime != nil {
		last = st.LastScheduleTime.Time
	}
	inFlight := ""
	for i := range c.siblings {
		sp := &c.siblings[i]
		if sp.DeletionTimestamp.IsZero() && !sp.Status.EffectiveState().Terminal() {
			inFlight = sp.Name
			break
		}
	}
	d := plan.Decide(now, schedule.Facts{
		Last: last, Waiting: st.Waiting,
		Offset:    plan.Offset(policy.Namespace, policy.Name, kind, name),
		Suspended: policy.Spec.Suspend,
		InFlight:  inFlight != "",
		Running:   c.parent.ObservedJob().State == "RUNNING" && c.parent.ObservedJob().JobID != "",
	})
	slotName := SlotName(name, policy.Name, d.Slot)
	if d.Action == schedule.Skip && d.Reason == schedule.ReasonInFlight && inFlight == slotName {
		// The one in flight is this run's own, taken at an earlier look
		// whose status write did not land.
		d.Action = schedule.Take
	}
	switch d.Action {
	case schedule.Take:
		created, err := r.take(ctx, policy, c, slotName, map[string]string{cmfv1.ScheduledTimeAnnotation: d.Slot.UTC().Format(time.RFC3339)})
		if err != nil {
			return time.Time{}, err
		}
		st.LastSavepoint = slotName
		if created {
			st.Runs++
			metrics.PolicyRuns.WithLabelValues(policy.Namespace, policy.Name).Inc()
		}
		st.Waiting = ""
	case schedule.Skip:
		schedule.AddSkip(&st.Skipped, d.Reason, 1)
		metrics.PolicySkips.WithLabelValues(policy.Namespace, policy.Name, d.Reason).Inc()
		r.events.Eventf(policy, nil, corev1.EventTypeNormal, "Skipped", "Schedule", "%s %s: the run of %s took no savepoint: %s",
			kind, name, d.Slot.UTC().Format(time.RFC3339), skipWhy(d.Reason, inFlight))
		st.Waiting = ""
	case schedule.Hold:
		st.Waiting = d.Reason
	case schedule.Wait:
		st.Waiting = ""
	}
	for reason, n := range d.Missed {
		metrics.PolicySkips.WithLabelValues(policy.Namespace, policy.Name, reason).Add(float64(n))
		r.events.Eventf(policy, nil, corev1.EventTypeNormal, "Skipped", "Schedule", "%s %s: %d run(s) before %s took no savepoint: %s",
			kind, name, n, d.Slot.UTC().Format(time.RFC3339), missedWhy(reason))
	}
	schedule.AddMissed(&st.Skipped, d.Missed)
	if !d.Last.IsZero() {
		st.LastScheduleTime = &metav1.Time{Time: d.Last.Truncate(time.Second)}
	}
	st.NextScheduleTime = timeOrNil(d.Next)
	if d.Action == schedule.Hold {
		// Its own run is next, as soon as what it waits for ends.
		st.NextScheduleTime = timeOrNil(d.Slot.Add(plan.Offset(policy.Namespace, policy.Name, kind, name)))
	}
	if !d.Next.IsZero() && !d.Last.IsZero() {
		metrics.PolicyInterval.WithLabelValues(policy.Namespace, string(kind), name, policy.Name).Set(plan.Next(d.Last).Sub(d.Last).Seconds())
	}
	return d.Wake, nil
}

// skipWhy says in words why a run was skipped.
func skipWhy(reason, inFlight string) string {
	switch reason {
	case schedule.ReasonInFlight:
		return "savepoint " + inFlight + " was still in flight"
	case schedule.ReasonBlackout:
		return "a blackout window lasted past spec.startingDeadline"
	case schedule.ReasonNotRunning:
		return "the job was not RUNNING before spec.startingDeadline"
	}
	return "it was missed by more than spec.startingDeadline"
}

// missedWhy says in words why runs overtaken by a later one took none.
func missedWhy(reason string) string {
	switch reason {
	case schedule.ReasonBlackout:
		return "a blackout window held them"
	case schedule.ReasonNotRunning:
		return "the job was not RUNNING"
	}
	return "they were missed (the manager was not running), and only the latest run is caught up"
}

// runRequested takes the savepoint a run request asks for, once.
func (r *Reconciler) runRequested(ctx context.Context, policy *cmfv1.SavepointPolicy, c *covered, request string) error {
	sum := sha256.Sum256([]byte(request))
	name := SlotName(c.parent.GetName(), policy.Name+"-run-"+hex.EncodeToString(sum[:4]), time.Time{})
	created, err := r.take(ctx, policy, c, name, map[string]string{
		cmfv1.ScheduledTimeAnnotation: r.opts.Now().UTC().Format(time.RFC3339),
		cmfv1.RunRequestAnnotation:    request,
	})
	if err != nil {
		return err
	}
	c.status.LastSavepoint = name
	if created {
		c.status.Runs++
		metrics.PolicyRuns.WithLabelValues(policy.Namespace, policy.Name).Inc()
	}
	return nil
}

// take creates the policy's Savepoint name for c's parent, from the
// template; a Savepoint of that name already there is this run's own (a
// restart, another replica): it is not taken twice.
func (r *Reconciler) take(ctx context.Context, policy *cmfv1.SavepointPolicy, c *covered, name string, annotations map[string]string) (bool, error) {
	for i := range c.siblings {
		if c.siblings[i].Name == name {
			return false, nil
		}
	}
	sp := &cmfv1.Savepoint{ObjectMeta: metav1.ObjectMeta{
		Name: name, Namespace: policy.Namespace,
		Labels:      map[string]string{cmfv1.PolicyLabel: LabelValue(policy.Name)},
		Annotations: annotations,
	}}
	switch c.parent.ParentKind() {
	case cmfv1.ParentApplication:
		sp.Spec.Application = c.parent.GetName()
	case cmfv1.ParentStatement:
		sp.Spec.Statement = c.parent.GetName()
	}
	if t := policy.Spec.Template; t != nil {
		sp.Spec.FormatType, sp.Spec.Path, sp.Spec.BackoffLimit = t.FormatType, t.Path, t.BackoffLimit
	}
	err := r.client.Create(ctx, sp)
	if apierrors.IsAlreadyExists(err) {
		return false, nil
	}
	if err != nil {
		r.events.Eventf(policy, nil, corev1.EventTypeWarning, "CreateFailed", "Schedule", "%s %s: savepoint %s: %v", c.parent.ParentKind(), c.parent.GetName(), name, err)
		return false, fmt.Errorf("create savepoint %s: %w", name, err)
	}
	r.events.Eventf(policy, sp, corev1.EventTypeNormal, "Scheduled", "Schedule", "%s %s: savepoint %s", c.parent.ParentKind(), c.parent.GetName(), name)
	return true, nil
}

// retain deletes the savepoints of c's parent that the retention expires,
// through the normal delete path: their finalizer disposes their data, and
// a disposal that fails keeps them (pendingDeletion) and is retried.
func (r *Reconciler) retain(ctx context.Context, policy *cmfv1.SavepointPolicy, c *covered, all rules.Parents, now time.Time) error {
	var errs []error
	for _, sp := range rules.Expired(policy.Spec.Retention, c.siblings, all, now) {
		uid := sp.UID
		err := r.client.Delete(ctx, sp, client.Preconditions{UID: &uid})
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("retention: delete savepoint %s: %w", sp.Name, err))
			r.events.Eventf(policy, sp, corev1.EventTypeWarning, "RetentionFailed", "Delete", "savepoint %s: %v", sp.Name, err)
			continue
		}
		c.status.RetentionDeletions++
		metrics.PolicyRetentionDeletions.WithLabelValues(policy.Namespace, policy.Name).Inc()
		r.events.Eventf(policy, sp, corev1.EventTypeNormal, "RetentionDeleted", "Delete", "%s %s: savepoint %s (%s, completed %s) deleted by retention; its data is disposed",
			c.parent.ParentKind(), c.parent.GetName(), sp.Name, sp.Status.Origin, sp.Status.ResultTimestamp.UTC().Format(time.RFC3339))
	}
	return errors.Join(errs...)
}

// newestGood records c's newest COMPLETED savepoint.
func newestGood(c *covered) {
	var best *cmfv1.Savepoint
	for i := range c.siblings {
		sp := &c.siblings[i]
		if sp.Status.State != cmfv1.StateCompleted || !sp.DeletionTimestamp.IsZero() {
			continue
		}
		if best == nil || completedAt(sp).After(completedAt(best)) {
			best = sp
		}
	}
	if best == nil {
		c.status.LastSuccessfulSavepoint, c.status.LastSuccessTime = "", nil
		return
	}
	c.status.LastSuccessfulSavepoint = best.Name
	c.status.LastSuccessTime = &metav1.Time{Time: completedAt(best)}
	metrics.LastSuccess.WithLabelValues(c.parent.GetNamespace(), string(c.parent.ParentKind()), c.parent.GetName()).Set(float64(completedAt(best).Unix()))
}

// summarize writes the per-parent statuses, the totals and the conditions.
func (r *Reconciler) summarize(policy *cmfv1.SavepointPolicy, st *cmfv1.SavepointPolicyStatus, parents []*covered, planErr error, tied []string) {
	st.Parents = st.Parents[:0]
	st.LastSuccessTime, st.NextScheduleTime = nil, nil
	anyWithout := false
	for _, c := range parents {
		st.Parents = append(st.Parents, c.status)
		if c.status.LastSuccessTime == nil {
			anyWithout = true
		} else if st.LastSuccessTime == nil || c.status.LastSuccessTime.Before(st.LastSuccessTime) {
			st.LastSuccessTime = c.status.LastSuccessTime
		}
		if n := c.status.NextScheduleTime; n != nil && (st.NextScheduleTime == nil || n.Before(st.NextScheduleTime)) {
			st.NextScheduleTime = n
		}
	}
	if anyWithout {
		st.LastSuccessTime = nil
	}
	if st.Parents == nil {
		st.Parents = []cmfv1.PolicyParentStatus{}
	}
	slices.SortFunc(st.Parents, func(a, b cmfv1.PolicyParentStatus) int {
		return strings.Compare(string(a.Kind)+"/"+a.Name, string(b.Kind)+"/"+b.Name)
	})
	if len(st.Parents) == 0 {
		st.Parents = nil
	}
	st.ParentCount = int32(len(parents))
	ready := metav1.Condition{Type: cmfv1.ConditionReady, Status: metav1.ConditionTrue, Reason: ReasonScheduled, ObservedGeneration: policy.Generation,
		Message: fmt.Sprintf("schedule %q covers %d parent(s)", policy.Spec.Schedule, len(parents))}
	switch {
	case errors.Is(planErr, schedule.ErrNoSchedule):
		ready.Reason, ready.Message = ReasonNoSchedule, fmt.Sprintf("no spec.schedule: no savepoints are scheduled; %d parent(s) covered by its retention and defaults", len(parents))
	case planErr != nil:
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, ReasonInvalidSchedule, planErr.Error()
	case policy.Spec.Suspend:
		ready.Reason, ready.Message = ReasonSuspended, "spec.suspend: no savepoints are scheduled until it is resumed (kubectl savepoint policy resume "+policy.Name+")"
	}
	meta.SetStatusCondition(&st.Conditions, ready)
	conflict := metav1.Condition{Type: ConditionConflict, Status: metav1.ConditionFalse, Reason: ReasonUnique, ObservedGeneration: policy.Generation,
		Message: "no other policy is as specific for a parent it covers"}
	if len(tied) > 0 {
		conflict.Status, conflict.Reason = metav1.ConditionTrue, ReasonTied
		conflict.Message = "equally specific policies cover: " + strings.Join(tied, "; ") + ": name the parents in one policy, or change a selector"
		if len(conflict.Message) > 1024 {
			conflict.Message = conflict.Message[:1021] + "..."
		}
	}
	meta.SetStatusCondition(&st.Conditions, conflict)
	st.ObservedGeneration = policy.Generation
}

// anchor is when a parent's schedule starts counting: the later of the
// policy's and the parent's creation, so that a new policy or parent does
// not catch up runs from before it existed.
func anchor(policy *cmfv1.SavepointPolicy, parent cmfv1.Parent) time.Time {
	t := policy.CreationTimestamp.Time
	if pc := parent.GetCreationTimestamp().Time; pc.After(t) {
		t = pc
	}
	return t
}

func findParent(list []cmfv1.PolicyParentStatus, p cmfv1.Parent) *cmfv1.PolicyParentStatus {
	for i := range list {
		if list[i].Kind == p.ParentKind() && list[i].Name == p.GetName() {
			return &list[i]
		}
	}
	return nil
}

// SlotName is the name of the Savepoint a policy takes of a parent for
// one scheduled time: the same on every replica and after any restart, so
// one slot never gets two savepoints. A zero slot leaves the time out.
func SlotName(parent, policy string, slot time.Time) string {
	suffix := ""
	if !slot.IsZero() {
		suffix = fmt.Sprintf("-%d", slot.Unix())
	}
	base := parent + "-" + policy
	const max = validation.DNS1123SubdomainMaxLength
	if len(base)+len(suffix) > max {
		sum := sha256.Sum256([]byte(base))
		keep := strings.TrimRight(base[:max-len(suffix)-9], ".-")
		base = keep + "-" + hex.EncodeToString(sum[:4])
	}
	return base + suffix
}

// LabelValue is a policy's name as a label value (at most 63 characters:
// a longer name is cut and given a hash).
func LabelValue(name string) string {
	if len(validation.IsValidLabelValue(name)) == 0 {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return strings.TrimRight(name[:validation.LabelValueMaxLength-9], ".-_") + "-" + hex.EncodeToString(sum[:4])
}

func completedAt(sp *cmfv1.Savepoint) time.Time {
	if sp.Status.ResultTimestamp != nil {
		return sp.Status.ResultTimestamp.Time
	}
	return sp.CreationTimestamp.Time
}

func timeOrNil(t time.Time) *metav1.Time {
	if t.IsZero() {
		return nil
	}
	return &metav1.Time{Time: t.Truncate(time.Second)}
}

func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}
