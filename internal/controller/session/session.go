// Package session runs the jobs of FlinkApplications that name a
// ComputePool, and of every Statement, on the pool's Flink session cluster:
// deploy (a jar, or SQL through the pool's SQL Gateway), suspend and upgrade
// with a stop-with-savepoint, redeploy from a savepoint, cancel on delete.
// A reconcile is observe → decide (decide.go, pure) → act.
package session

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/adopt"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/endpoint"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/flinkop"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/metrics"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/patch"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/retention"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/index"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/rules"
)

// SessionFinalizer keeps a parent whose job runs on a ComputePool until the
// job is cancelled: deleting the parent must not leave its job running.
const SessionFinalizer = "cmf.confluent.io/session-job"

// Generic phases of a parent's job in session mode; a kind spells them its
// own way (a Statement's phase, an application's lifecycleState).
const (
	phaseDeploying = "DEPLOYING"
	phaseRunning   = "RUNNING"
	phaseStopping  = "SUSPENDING"
	phaseUpgrading = "UPGRADING"
	phaseSuspended = "SUSPENDED"
	phaseFailed    = "FAILED"
	phaseFinished  = "FINISHED"
	phaseWaiting   = "PENDING"
	phaseDeleting  = "DELETING"
)

// jobSubmitting is jobStatus.state between recording a deploy and Flink's answer.
const jobSubmitting = "SUBMITTING"

// sessionParent is a FlinkApplication or a Statement seen by the session
// controller: what its spec asks for, and its status.
type sessionParent struct {
	obj  cmfv1.Parent
	kind cmfv1.ParentKind
	// jobs is what differs between the kinds: how the job is deployed, how
	// its status is spelled.
	jobs sessionKind
	pool string
	// running is the asked state: job.state running, or not stopped.
	running bool
	// spec identifies what shapes the job; a change upgrades it.
	spec      string
	nonce     *int64
	stateless bool
	startFrom *cmfv1.StartFromSavepoint
	// initialPath is an application's job.initialSavepointPath.
	initialPath      string
	allowNonRestored bool
	configs          []map[string]string
	// job and conditions point into the status.
	job        *cmfv1.JobStatus
	conditions *[]metav1.Condition
}

// session is the status' record, made when there is none. (Not a field: a
// status write decodes the server's answer into new structs.)
func (p *sessionParent) session() *cmfv1.SessionStatus { return p.obj.SessionRecord() }

// phase writes a generic phase the way the kind spells it.
func (p *sessionParent) phase(generic string) { p.jobs.setPhase(p.obj, generic) }

func (p *sessionParent) setError(msg string) { p.jobs.setError(p.obj, msg) }

func (p *sessionParent) key() string {
	nonce := "-"
	if p.nonce != nil {
		nonce = strconv.FormatInt(*p.nonce, 10)
	}
	return p.spec + "/" + nonce
}

func (p *sessionParent) deployedKey() string {
	nonce := "-"
	if p.session().DeployedNonce != nil {
		nonce = strconv.FormatInt(*p.session().DeployedNonce, 10)
	}
	return p.session().DeployedSpec + "/" + nonce
}

// nonceChanged: a new savepointRedeployNonce asks for a redeploy from
// startFromSavepoint, whatever else changed.
func (p *sessionParent) nonceChanged() bool {
	if p.nonce == nil || p.session().Deploys == 0 {
		return false
	}
	return p.session().DeployedNonce == nil || *p.session().DeployedNonce != *p.nonce
}

// reconciler runs the jobs of parents that name a ComputePool, the
// way the Flink Kubernetes Operator runs a FlinkSessionJob.
type reconciler struct {
	client client.Client
	// live reads past the cache.
	live   client.Reader
	events recorder.EventRecorder
	flink  *endpoint.Clients
	lookup rules.Lookup
	jars   *jarCache
	retain *retention.Retainer
	opts   Options
	// kind is the kind this reconciler runs.
	kind cmfv1.ParentKind
	jobs sessionKind
}

// Options configure the session controllers.
type Options struct {
	// Protocol takes stop-with-savepoints and asks Flink about them.
	Protocol flinkop.Protocol
	// PollInterval is how often a running job is looked at (its state,
	// savepoints taken outside).
	PollInterval time.Duration
	// AllowRestURLAnnotation honours a parent's rest-url annotation over
	// its pool's restURL.
	AllowRestURLAnnotation bool
	// Jars say which jar URIs the manager reads and how much of them.
	Jars JarOptions
	// Now returns the time.
	Now func() time.Time
	// MaxConcurrentReconciles is how many objects are worked on at once;
	// ReconcileTimeout bounds one reconcile (zero: none).
	MaxConcurrentReconciles int
	ReconcileTimeout        time.Duration
	// SkipNameValidation lets one process set the controllers up more than
	// once (tests that restart the manager).
	SkipNameValidation bool
}

// Setup registers one session controller per parent kind with mgr; they
// reach the JobManagers through flinks and keep bulk-deleted savepoints'
// data through retain.
func Setup(mgr ctrl.Manager, opts Options, flinks *endpoint.Clients, retain *retention.Retainer) error {
	jars := newJarCache(opts.Jars, flinks)
	kinds := []struct {
		name  string
		kind  cmfv1.ParentKind
		jobs  sessionKind
		pools func(context.Context, client.Reader, string, string) ([]ctrl.Request, error)
	}{
		{"session-application", cmfv1.ParentApplication, applicationJobs{}, parentsOfPool(&cmfv1.FlinkApplicationList{})},
		{"session-statement", cmfv1.ParentStatement, statementJobs{}, parentsOfPool(&cmfv1.StatementList{})},
	}
	for _, k := range kinds {
		r := &reconciler{
			client: mgr.GetClient(), live: mgr.GetAPIReader(), events: mgr.GetEventRecorder("savepoint-manager"), flink: flinks,
			lookup: index.CacheLookup{Cache: mgr.GetClient()}, jars: jars, opts: opts, kind: k.kind, jobs: k.jobs, retain: retain,
		}
		pools := k.pools
		reader := mgr.GetClient()
		jobs := k.jobs
		err := ctrl.NewControllerManagedBy(mgr).
			WithOptions(controller.Options{SkipNameValidation: &opts.SkipNameValidation,
				MaxConcurrentReconciles: opts.MaxConcurrentReconciles, ReconciliationTimeout: opts.ReconcileTimeout}).
			Named(k.name).
			For(k.kind.NewParent(), builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
				_, ok := readSessionParent(o.(cmfv1.Parent), jobs)
				return ok
			}))).
			Watches(&cmfv1.ComputePool{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []ctrl.Request {
				reqs, err := pools(ctx, reader, o.GetNamespace(), o.GetName())
				if err != nil {
					logf.FromContext(ctx).Error(err, "list parents of a compute pool", "pool", o.GetName())
				}
				return reqs
			})).
			Complete(r)
		if err != nil {
			return err
		}
	}
	return nil
}

// parentsOfPool lists the parents of one kind that name a pool.
func parentsOfPool(list client.ObjectList) func(context.Context, client.Reader, string, string) ([]ctrl.Request, error) {
	return func(ctx context.Context, reader client.Reader, namespace, pool string) ([]ctrl.Request, error) {
		l := list.DeepCopyObject().(client.ObjectList)
		if err := reader.List(ctx, l, client.InNamespace(namespace), client.MatchingFields{index.ComputePool: pool}); err != nil {
			return nil, err
		}
		var reqs []ctrl.Request
		err := meta.EachListItem(l, func(o runtime.Object) error {
			obj := o.(client.Object)
			reqs = append(reqs, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: obj.GetNamespace(), Name: obj.GetName()}})
			return nil
		})
		return reqs, err
	}
}

// Reconcile moves one parent's job one step towards its spec.
func (r *reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := r.kind.NewParent()
	if err := r.client.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	p, ok := readSessionParent(obj, r.jobs)
	if !ok {
		return ctrl.Result{}, nil
	}
	res, err := r.reconcile(ctx, p)
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return ctrl.Result{}, nil // the manager is stopping; the next one carries on
	case ctx.Err() != nil:
		return ctrl.Result{}, fmt.Errorf("reconcile took longer than its deadline: %w", ctx.Err()) // looked at again, with the queue's backoff
	case apierrors.IsConflict(err):
		return ctrl.Result{RequeueAfter: 10 * time.Millisecond}, nil
	case apierrors.IsNotFound(err):
		return ctrl.Result{}, nil
	}
	return res, err
}

// reconcile observes the parent, decides its next step and takes it.
func (r *reconciler) reconcile(ctx context.Context, p *sessionParent) (ctrl.Result, error) {
	o, err := r.observe(ctx, p)
	if err != nil {
		return ctrl.Result{}, err
	}
	s := decide(o.facts)
	if s == stepLookAtJob {
		if err := r.lookAtJob(ctx, p, o); err != nil {
			return ctrl.Result{}, err
		}
		s = decide(o.facts)
	}
	return r.act(ctx, p, o, s)
}

// observation is what observe and lookAtJob saw, with the clients to act
// through.
type observation struct {
	facts
	pool *cmfv1.ComputePool
	// fc reaches the endpoint the next deploy goes to; dfc the current job
	// where it was deployed.
	fc, dfc *flink.Client
	// urlErr says why the endpoint is no URL; unreachableErr why it did
	// not answer.
	urlErr, unreachableErr error
	// oldEndpointErr: the endpoint changed and the old one does not answer
	// at all: its cluster is gone (restarted elsewhere), so is its job.
	oldEndpointErr error
}

// observe gathers what Kubernetes says: the parent's record and its pool.
func (r *reconciler) observe(ctx context.Context, p *sessionParent) (*observation, error) {
	st := p.session()
	o := &observation{facts: facts{
		deleting:         !p.obj.GetDeletionTimestamp().IsZero(),
		hasFinalizer:     controllerutil.ContainsFinalizer(p.obj, SessionFinalizer),
		running:          p.running,
		stateless:        p.stateless,
		specChanged:      st.Deploys > 0 && p.key() != p.deployedKey(),
		nonceChanged:     p.nonceChanged(),
		refused:          p.key() == st.FailedDeploy,
		deploys:          st.Deploys,
		submitted:        st.Submitted,
		stoppedByManager: st.StoppedByManager,
		stopInFlight:     st.Stop != nil,
		jobID:            p.job.JobID,
		deployedURL:      st.RestURL,
	}}
	pool := &cmfv1.ComputePool{}
	err := r.client.Get(ctx, client.ObjectKey{Namespace: p.obj.GetNamespace(), Name: p.pool}, pool)
	switch {
	case apierrors.IsNotFound(err):
		if o.deleting && o.deployedURL != "" {
			if o.dfc, err = r.flink.Get(p.obj.GetNamespace(), o.deployedURL); err != nil {
				return nil, err
			}
		}
		return o, nil
	case err != nil:
		return nil, err
	}
	o.pool, o.poolFound = pool, true
	annotated, err := endpoint.AnnotatedURL(p.obj, r.opts.AllowRestURLAnnotation)
	if err != nil {
		o.badRestURL, o.urlErr = true, err
		return o, nil
	}
	o.restURL = cmp.Or(annotated, pool.Spec.RestURL)
	if o.fc, err = r.flink.Get(p.obj.GetNamespace(), o.restURL); err != nil {
		o.badRestURL, o.urlErr = true, err
		return o, nil
	}
	o.dfc = o.fc
	if o.moved() {
		if o.dfc, err = r.flink.Get(p.obj.GetNamespace(), o.deployedURL); err != nil {
			return nil, err
		}
	}
	c := meta.FindStatusCondition(*p.conditions, cmfv1.ConditionComputePool)
	o.poolReady = c != nil && c.Status == metav1.ConditionTrue
	return o, nil
}

// lookAtJob asks Flink about the parent's job.
func (r *reconciler) lookAtJob(ctx context.Context, p *sessionParent, o *observation) error {
	o.lookedAtJob = true
	id := o.jobID
	if named := p.obj.GetAnnotations()[cmfv1.TakeOverJobAnnotation]; o.deploys == 0 && id == "" && named != "" {
		// A job that runs already (started before the manager ran this
		// parent) is taken over, not started a second time, when the
		// parent names it by ID. Never by its name: another team's job on a
		// shared cluster may bear it.
		taken, err := r.takeOver(ctx, p, o, named)
		if err != nil {
			o.unreachable, o.unreachableErr = true, err
			return nil
		}
		if taken {
			id = named
			p.job.JobID = id // recorded with the next status write
		}
	}
	if id != "" {
		state, err := o.dfc.JobState(ctx, id)
		switch {
		case errors.Is(err, flink.ErrJobNotFound):
		case o.moved() && errors.Is(err, flink.ErrUnreachable):
			o.oldEndpointErr = err
		case err != nil:
			o.unreachable, o.unreachableErr = true, err
			return nil
		default:
			o.jobState = state
		}
	}
	if o.deploys > 0 && !o.submitted && o.jobState == "" {
		// Recorded but not (known to be) submitted. The same job ID makes a
		// second submit harmless; but the cache may not have our own last
		// write yet (a refused deploy already recorded), so the API server
		// has the say.
		stale, err := r.stale(ctx, p)
		if err != nil {
			return err
		}
		o.stale = stale
	}
	return nil
}

// takeOver says whether the job the parent names by ID runs on its pool,
// to be taken over; a job that does not run there is not, and an event says
// why (a new job is deployed). Only "no answer" is an error.
func (r *reconciler) takeOver(ctx context.Context, p *sessionParent, o *observation, jobID string) (bool, error) {
	if !flink.ValidJobID(jobID) {
		r.events.Eventf(p.obj, nil, corev1.EventTypeWarning, "TakeOverRefused", "Deploy",
			"metadata.annotations[%s]: %q is not a Flink job ID (32 lowercase hexadecimal characters): a new job is deployed instead", cmfv1.TakeOverJobAnnotation, jobID)
		return false, nil
	}
	why := ""
	switch state, err := o.fc.JobState(ctx, jobID); {
	case errors.Is(err, flink.ErrJobNotFound):
		why = "does not exist at " + o.restURL
	case errors.Is(err, flink.ErrUnreachable):
		return false, err
	case err != nil:
		why = "cannot be read at " + o.restURL + ": " + flinkop.Message(err)
	case flink.JobEnded(state):
		why = "ended (" + state + ") at " + o.restURL
	default:
		return true, nil
	}
	r.events.Eventf(p.obj, nil, corev1.EventTypeWarning, "TakeOverRefused", "Deploy",
		"metadata.annotations[%s]: job %s %s: a new job is deployed instead; to take over a running job, name its ID (flink list, or the JobManager's /jobs)", cmfv1.TakeOverJobAnnotation, jobID, why)
	return false, nil
}

// act takes the step decided.
func (r *reconciler) act(ctx context.Context, p *sessionParent, o *observation, s step) (ctrl.Result, error) {
	if o.oldEndpointErr != nil {
		r.events.Eventf(p.obj, nil, corev1.EventTypeWarning, "OldEndpointGone", "Deploy", "the job's endpoint changed from %s to %s, and %s does not answer (%s): job %s is taken as lost with it; if it still runs there, cancel it by hand", o.deployedURL, o.restURL, o.deployedURL, flinkop.Message(o.oldEndpointErr), p.job.JobID)
	}
	if o.deploys > 0 && !o.submitted && o.jobState != "" {
		p.session().Submitted = true // Flink knows the job: it was submitted
	}
	state := o.jobState
	switch s {
	case stepNothing:
		return ctrl.Result{}, nil
	case stepFinalizeAtDeployed, stepFinalize:
		return r.finalize(ctx, p, o.dfc)
	case stepDropFinalizer:
		return ctrl.Result{}, r.dropFinalizer(ctx, p)
	case stepWaitForPool:
		msg := fmt.Sprintf("spec.computePoolName %q: no ComputePool %s in namespace %s yet: create it (kubectl get computepools) or name an existing one", p.pool, p.pool, p.obj.GetNamespace())
		if p.job.JobID != "" && o.deployedURL != "" && !flink.JobEnded(p.job.State) {
			msg = fmt.Sprintf("ComputePool %s was deleted; job %s keeps running at %s: recreate the pool to manage it again, or delete this %s to stop it", p.pool, p.job.JobID, o.deployedURL, p.kind)
		}
		return ctrl.Result{}, r.update(ctx, p, func() {
			if p.job.JobID == "" {
				p.phase(phaseWaiting)
			}
			r.condition(p, cmfv1.ConditionComputePool, metav1.ConditionFalse, cmfv1.ReasonComputePoolNotFound, msg)
		})
	case stepBadRestURL:
		return ctrl.Result{}, r.update(ctx, p, func() {
			r.condition(p, cmfv1.ConditionComputePool, metav1.ConditionFalse, cmfv1.ReasonBadRestURL, fmt.Sprintf("ComputePool %s: spec.restURL: %v", o.pool.Name, o.urlErr))
		})
	case stepRecordEndpoint:
		return ctrl.Result{RequeueAfter: r.opts.Protocol.PollMin}, r.update(ctx, p, func() { p.session().RestURL = o.restURL })
	case stepPoolFound:
		return ctrl.Result{RequeueAfter: r.opts.Protocol.PollMin}, r.update(ctx, p, func() {
			r.condition(p, cmfv1.ConditionComputePool, metav1.ConditionTrue, cmfv1.ReasonComputePoolFound, "runs on ComputePool "+o.pool.Name+" at "+o.restURL)
		})
	case stepAddFinalizer:
		return ctrl.Result{RequeueAfter: r.opts.Protocol.PollMin}, patch.Meta(ctx, r.client, p.obj, func() { controllerutil.AddFinalizer(p.obj, SessionFinalizer) })
	case stepPollStop:
		return r.pollStop(ctx, p, o.dfc)
	case stepUnreachable:
		return r.unreachable(ctx, p, o.unreachableErr)
	case stepWaitForCache:
		return ctrl.Result{RequeueAfter: r.opts.Protocol.PollMin}, nil
	case stepResubmit:
		return r.submit(ctx, p, o.pool, o.dfc)
	case stepSuspend:
		return r.startStop(ctx, p, o.dfc, cmfv1.OriginSuspend)
	case stepShowSuspended:
		return ctrl.Result{}, r.update(ctx, p, func() {
			r.recordJobState(p, state)
			p.phase(phaseSuspended)
			r.condition(p, cmfv1.ConditionReady, metav1.ConditionFalse, cmfv1.ReasonSuspended, suspendedMessage(p))
		})
	case stepCancelForRedeploy:
		return r.cancelForRedeploy(ctx, p, o.dfc)
	case stepUpgrade:
		if o.moved() {
			r.events.Eventf(p.obj, nil, corev1.EventTypeNormal, "EndpointChanged", "Upgrade", "the job's endpoint changed from %s to %s: stopping job %s there before deploying at the new one", o.deployedURL, o.restURL, p.job.JobID)
		}
		return r.startStop(ctx, p, o.dfc, cmfv1.OriginUpgrade)
	case stepWatch:
		return r.steady(ctx, p, o.dfc, state)
	case stepShowRefused:
		return ctrl.Result{}, r.update(ctx, p, func() { r.recordJobState(p, state) })
	case stepShowEnded:
		return ctrl.Result{RequeueAfter: r.opts.PollInterval}, r.update(ctx, p, func() {
			r.recordJobState(p, state)
			if state == "FINISHED" {
				p.phase(phaseFinished)
				r.condition(p, cmfv1.ConditionReady, metav1.ConditionFalse, cmfv1.ReasonJobFinished, "job "+p.job.JobID+" finished")
				return
			}
			p.phase(phaseFailed)
			r.condition(p, cmfv1.ConditionReady, metav1.ConditionFalse, cmfv1.ReasonJobEnded,
				fmt.Sprintf("job %s ended %s: change the spec or its savepointRedeployNonce to deploy again", p.job.JobID, cmp.Or(state, "(gone from the cluster)")))
		})
	case stepRedeployLost:
		from, err := r.newestSavepointOf(ctx, p)
		if err != nil {
			return ctrl.Result{}, err
		}
		r.events.Eventf(p.obj, nil, corev1.EventTypeWarning, "JobLost", "Deploy", "job %s is gone from the cluster: deploying again from %s", p.job.JobID, cmp.Or(from, "no savepoint"))
		p.session().ResumeFrom = from
	}
	return r.newDeploy(ctx, p, o.pool, o.fc, o.restURL)
}

// newestSavepointOf is the newest COMPLETED savepoint of the parent's
// current job, else the one that job started from.
func (r *reconciler) newestSavepointOf(ctx context.Context, p *sessionParent) (string, error) {
	var list cmfv1.SavepointList
	if err := r.client.List(ctx, &list, client.InNamespace(p.obj.GetNamespace()), client.MatchingFields{index.Parent: index.ParentKey(p.kind, p.obj.GetName())}); err != nil {
		return "", err
	}
	newest, at := p.job.RestoredFrom, time.Time{}
	for _, sp := range list.Items {
		if sp.Status.State == cmfv1.StateCompleted && sp.Status.Path != "" && sp.Status.JobID == p.job.JobID &&
			sp.Status.ResultTimestamp != nil && sp.Status.ResultTimestamp.After(at) {
			newest, at = sp.Status.Path, sp.Status.ResultTimestamp.Time
		}
	}
	return newest, nil
}

func suspendedMessage(p *sessionParent) string {
	if p.session().ResumeFrom != "" {
		return "suspended; resumes from " + p.session().ResumeFrom
	}
	return "suspended"
}

// stale reports whether the API server has a newer parent than p.
func (r *reconciler) stale(ctx context.Context, p *sessionParent) (bool, error) {
	live := r.kind.NewParent()
	if err := r.live.Get(ctx, client.ObjectKeyFromObject(p.obj), live); err != nil {
		return false, err
	}
	return live.GetResourceVersion() != p.obj.GetResourceVersion(), nil
}

// newDeploy records the next deploy (its job ID and the savepoint it starts
// from) and then submits it.
func (r *reconciler) newDeploy(ctx context.Context, p *sessionParent, pool *cmfv1.ComputePool, fc *flink.Client, restURL string) (ctrl.Result, error) {
	from, allow := p.session().ResumeFrom, p.allowNonRestored
	what := "the last suspend or upgrade savepoint"
	if p.session().Deploys == 0 || p.nonceChanged() {
		from, what = p.initialPath, "job.initialSavepointPath"
		if from == "" {
			what = ""
		}
		resolved, err := rules.ResolveStartFromSavepoint(ctx, r.lookup, p.kind, p.obj.GetNamespace(), p.obj.GetName(), p.startFrom)
		if err != nil {
			return ctrl.Result{RequeueAfter: r.opts.PollInterval}, r.update(ctx, p, func() {
				p.phase(phaseFailed)
				p.setError(err.Error())
				r.condition(p, cmfv1.ConditionReady, metav1.ConditionFalse, cmfv1.ReasonSavepointNotResolved, err.Error())
			})
		}
		if resolved != nil {
			from, what, allow = resolved.Path, resolved.Description, allow || resolved.AllowNonRestoredState
		}
	}
	p.allowNonRestored = allow
	n := p.session().Deploys + 1
	jobID := flink.TriggerIDFor(string(p.obj.GetUID()), "deploy", strconv.Itoa(int(n)))
	if err := r.update(ctx, p, func() {
		p.session().Deploys = n
		p.session().RestURL = restURL
		p.session().DeployedSpec = p.spec
		p.session().DeployedNonce = p.nonce
		p.session().Submitted = false
		p.session().StoppedByManager = false
		p.session().StopFailures = 0
		p.session().NextStopTime = nil
		p.session().AdoptedCheckpointID = 0
		p.session().ResumeFrom = from
		*p.job = cmfv1.JobStatus{JobID: jobID, State: jobSubmitting, JobName: p.obj.GetName(), RestoredFrom: from}
		p.phase(phaseDeploying)
		p.setError("")
		msg := "deploying job " + jobID
		if from != "" {
			msg += " from " + what + " at " + from
		}
		r.condition(p, cmfv1.ConditionReady, metav1.ConditionFalse, cmfv1.ReasonDeploying, msg)
	}); err != nil {
		return ctrl.Result{}, err
	}
	return r.submit(ctx, p, pool, fc)
}

// submit sends the recorded deploy to Flink.
func (r *reconciler) submit(ctx context.Context, p *sessionParent, pool *cmfv1.ComputePool, fc *flink.Client) (ctrl.Result, error) {
	jobID, from := p.job.JobID, p.job.RestoredFrom
	err := p.jobs.deploy(ctx, r, p, pool, fc, jobID, from)
	var cacheErr *jarCacheError
	switch {
	case err == nil, errors.Is(err, flink.ErrDuplicateJob):
	case errors.Is(err, flink.ErrUnreachable):
		return r.unreachable(ctx, p, err)
	case errors.As(err, &cacheErr):
		return r.jarCacheUnavailable(ctx, p, cacheErr)
	default:
		msg := flinkop.Message(err)
		r.events.Eventf(p.obj, nil, corev1.EventTypeWarning, cmfv1.ReasonDeployFailed, "Deploy", "job %s: %s", jobID, msg)
		return ctrl.Result{}, r.update(ctx, p, func() {
			p.session().Submitted = true
			p.session().FailedDeploy = p.key()
			p.job.State = "FAILED"
			p.phase(phaseFailed)
			p.setError(msg)
			r.condition(p, cmfv1.ConditionReady, metav1.ConditionFalse, cmfv1.ReasonDeployFailed, msg+": fix the spec (or set a new savepointRedeployNonce) to deploy again")
		})
	}
	note := "deployed job " + jobID
	if from != "" {
		note += " from " + from
	}
	r.events.Eventf(p.obj, nil, corev1.EventTypeNormal, cmfv1.ReasonDeployed, "Deploy", "%s", note)
	err = r.update(ctx, p, func() {
		p.session().Submitted = true
		p.session().FailedDeploy = ""
		p.setError("") // e.g. an earlier attempt's jarCacheUnavailable
		p.job.State = "CREATED"
		p.job.StartTime = &metav1.Time{Time: r.opts.Now()}
		p.phase(phaseDeploying)
		r.condition(p, cmfv1.ConditionReady, metav1.ConditionFalse, cmfv1.ReasonDeployed, note+"; waiting for it to run")
	})
	if apierrors.IsNotFound(err) {
		// The parent is gone without its finalizer having run: a delete
		// that read it before the finalizer was added removes it outright.
		// Nothing else would ever cancel this job.
		if cerr := fc.CancelJob(ctx, jobID); cerr != nil && !errors.Is(cerr, flink.ErrJobNotFound) {
			logf.FromContext(ctx).Error(cerr, "the parent was deleted while its job was submitted, and cancelling the job failed: cancel it by hand", "job", jobID)
		}
		return ctrl.Result{}, nil
	}
	return ctrl.Result{RequeueAfter: r.opts.Protocol.PollMin}, err
}

// steady watches a job that runs as asked, and adopts savepoints taken of
// it outside any Savepoint resource.
func (r *reconciler) steady(ctx context.Context, p *sessionParent, fc *flink.Client, state string) (ctrl.Result, error) {
	adoptedUpTo, err := r.adoptManual(ctx, p, fc)
	if err != nil {
		logf.FromContext(ctx).Info("looking for savepoints taken outside failed; trying again later", "error", err.Error())
		adoptedUpTo = p.session().AdoptedCheckpointID
	}
	next := r.opts.PollInterval
	if state != "RUNNING" {
		// Starting: report RUNNING soon, looking often at first (a job
		// starts in a second or so) and less often as the start takes longer.
		since := time.Time{}
		if c := meta.FindStatusCondition(*p.conditions, cmfv1.ConditionReady); c != nil && c.Reason == cmfv1.ReasonStarting {
			since = c.LastTransitionTime.Time
		}
		next = min(next, r.opts.Protocol.PollInterval(since))
	}
	if p.session().Deploys == 0 {
		r.events.Eventf(p.obj, nil, corev1.EventTypeNormal, "JobTakenOver", "Deploy", "job %s was running already; the manager runs it from now on, as deployed from the current spec", p.job.JobID)
	}
	return ctrl.Result{RequeueAfter: next}, r.update(ctx, p, func() {
		if st := p.session(); st.Deploys == 0 {
			st.Deploys, st.DeployedSpec, st.DeployedNonce, st.Submitted = 1, p.spec, p.nonce, true
		}
		r.recordJobState(p, state)
		p.session().AdoptedCheckpointID = adoptedUpTo
		p.setError("")
		if state == "RUNNING" {
			p.phase(phaseRunning)
			r.condition(p, cmfv1.ConditionReady, metav1.ConditionTrue, cmfv1.ReasonRunning, "job "+p.job.JobID+" is running")
		} else {
			p.phase(phaseDeploying)
			r.condition(p, cmfv1.ConditionReady, metav1.ConditionFalse, cmfv1.ReasonStarting, "job "+p.job.JobID+" is "+state)
		}
	})
}

// adoptManual makes a Savepoint (origin MANUAL) of every savepoint in the
// job's checkpoint history that no Savepoint holds: one taken by hand
// through Flink's REST API or CLI. It returns the newest history entry it
// looked at. While a Savepoint of the parent is in flight, its result may be
// in the history before it is in the Savepoint: nothing is adopted then.
func (r *reconciler) adoptManual(ctx context.Context, p *sessionParent, fc *flink.Client) (int64, error) {
	var list cmfv1.SavepointList
	if err := r.client.List(ctx, &list, client.InNamespace(p.obj.GetNamespace()), client.MatchingFields{index.Parent: index.ParentKey(p.kind, p.obj.GetName())}); err != nil {
		return 0, err
	}
	for _, sp := range list.Items {
		if !sp.Status.State.Terminal() {
			return p.session().AdoptedCheckpointID, nil
		}
	}
	stats, err := fc.Checkpoints(ctx, p.job.JobID)
	if err != nil {
		return 0, err
	}
	newest := p.session().AdoptedCheckpointID
	for i := len(stats.History) - 1; i >= 0; i-- { // oldest first
		cp := stats.History[i]
		if cp.ID <= p.session().AdoptedCheckpointID || cp.Status == "IN_PROGRESS" {
			continue
		}
		if cp.IsSavepoint && cp.Status == "COMPLETED" && cp.ExternalPath != "" && !deleted(p.session().DeletedPaths, cp.ExternalPath) {
			name, created, err := adopt.Savepoint(ctx, r.client, adopt.Adoption{
				Namespace: p.obj.GetNamespace(), Kind: p.kind, Parent: p.obj.GetName(), Path: cp.ExternalPath,
				JobID: p.job.JobID, Origin: cmfv1.OriginManual, From: adopt.FromCheckpointHistory,
			})
			if err != nil {
				return newest, err
			}
			if created {
				r.events.Eventf(p.obj, nil, corev1.EventTypeNormal, cmfv1.ReasonAdopted, "Adopt", "savepoint %d of job %s at %s, taken outside Kubernetes, adopted as Savepoint %s", cp.ID, p.job.JobID, cp.ExternalPath, name)
			}
		}
		newest = max(newest, cp.ID)
	}
	return newest, nil
}

// deleted says whether path is among a parent's deleted savepoint paths.
func deleted(paths []string, path string) bool {
	return slices.ContainsFunc(paths, func(p string) bool { return flink.NormalizePath(p) == flink.NormalizePath(path) })
}

// startStop records a stop-with-savepoint and sends it.
func (r *reconciler) startStop(ctx context.Context, p *sessionParent, fc *flink.Client, origin cmfv1.SavepointOrigin) (ctrl.Result, error) {
	now := r.opts.Now()
	if next := p.session().NextStopTime; next != nil && now.Before(next.Time) {
		return ctrl.Result{RequeueAfter: next.Sub(now)}, nil
	}
	format := cmfv1.FormatCanonical
	if rules.NativeOnly(p.configs...) != "" {
		format = cmfv1.FormatNative
	}
	stop := &cmfv1.StopOperation{
		TriggerID: flinkop.StopTriggerID(string(p.obj.GetUID()), p.job.JobID, p.session().StopFailures+1),
		JobID:     p.job.JobID, Origin: origin, Format: format, Time: metav1.MicroTime{Time: now},
	}
	verb := "suspending"
	if origin == cmfv1.OriginUpgrade {
		verb = "upgrading"
	}
	if err := r.update(ctx, p, func() {
		p.session().Stop = stop
		if origin == cmfv1.OriginUpgrade {
			p.phase(phaseUpgrading)
		} else {
			p.phase(phaseStopping)
		}
		r.condition(p, cmfv1.ConditionReady, metav1.ConditionFalse, cmfv1.ReasonStopping, fmt.Sprintf("%s: stopping job %s with a savepoint", verb, stop.JobID))
	}); err != nil {
		return ctrl.Result{}, err
	}
	r.events.Eventf(p.obj, nil, corev1.EventTypeNormal, cmfv1.ReasonStopping, "Stop", "%s: stopping job %s with a savepoint (trigger %s)", verb, stop.JobID, stop.TriggerID)
	// Still recorded when the send had no answer: the poll finds out
	// whether it arrived.
	return r.stopOutcome(ctx, p, r.opts.Protocol.Send(ctx, fc, stopOperation(p)))
}

// stopOperation is the parent's recorded stop as the protocol reads it: it
// writes to the parent's savepoint directory, and a forgotten stop is sent
// again only while its job has not ended.
func stopOperation(p *sessionParent) flinkop.Operation {
	stop := p.session().Stop
	return flinkop.Operation{
		Request: flinkop.StopWithSavepoint, JobID: stop.JobID, TriggerID: stop.TriggerID, Recorded: stop.Time.Time,
		Dir: savepointDirectory(p.configs), Format: flink.Format(stop.Format), Resend: flinkop.ResendWhileRunning,
	}
}

// savepointDirectory is where a stop writes its savepoint: the parent's
// own savepoint directory, else the cluster's default.
func savepointDirectory(configs []map[string]string) string {
	for _, config := range configs {
		for _, key := range []string{"execution.checkpointing.savepoint-dir", "state.savepoints.dir"} {
			if dir := config[key]; dir != "" {
				return dir
			}
		}
	}
	return ""
}

// pollStop follows the recorded stop until its savepoint is adopted.
func (r *reconciler) pollStop(ctx context.Context, p *sessionParent, fc *flink.Client) (ctrl.Result, error) {
	o, err := r.opts.Protocol.Poll(ctx, fc, stopOperation(p), r.stopHeld(p))
	if err != nil {
		return ctrl.Result{}, err
	}
	return r.stopOutcome(ctx, p, o)
}

// stopHeld returns the paths that the parent's Savepoints hold, but for
// this stop's own: a job is stopped once, so a Savepoint adopted from a
// stop of this job is this stop's (adopted before a crash cut the stop
// short).
func (r *reconciler) stopHeld(p *sessionParent) flinkop.Held {
	job := p.session().Stop.JobID
	return func(ctx context.Context) ([]string, error) {
		return adopt.HeldPaths(ctx, r.live, p.obj.GetNamespace(), p.kind, p.obj.GetName(), func(sp *cmfv1.Savepoint) bool {
			return sp.Annotations[cmfv1.AdoptedFromAnnotation] == adopt.FromStop && sp.Annotations[cmfv1.AdoptedJobAnnotation] == job
		})
	}
}

// stopOutcome maps what the protocol found onto the parent: a savepoint is
// adopted (stopDone); no usable answer is the pool's condition; any other
// end of the stop is a failed stop, tried again after a backoff; otherwise
// the stop is asked about again after the protocol's wait.
func (r *reconciler) stopOutcome(ctx context.Context, p *sessionParent, o flinkop.Outcome) (ctrl.Result, error) {
	metrics.CountRESTError(o)
	stop := p.session().Stop
	if o.Resent {
		r.events.Eventf(p.obj, nil, corev1.EventTypeNormal, "Resent", "Stop", "Flink does not know stop %s and job %s still runs: sending it again", stop.TriggerID, stop.JobID)
	}
	switch o.Kind {
	case flinkop.Completed:
		if o.Recovered {
			r.events.Eventf(p.obj, nil, corev1.EventTypeNormal, "Recovered", "Stop", "Flink forgot stop %s; found its savepoint in the job's checkpoint history", stop.TriggerID)
		}
		return r.stopDone(ctx, p, o.Path)
	case flinkop.Unreachable:
		return r.unreachable(ctx, p, o.Err)
	case flinkop.Failed, flinkop.JobGone, flinkop.NotTaken:
		return r.stopFailed(ctx, p, o.Err)
	}
	// Pending, RetryAfter, Resent.
	return ctrl.Result{RequeueAfter: o.Wait}, nil
}

// stopDone adopts the stop's savepoint, then clears the stop: a crash in
// between adopts it again, which finds the same Savepoint.
func (r *reconciler) stopDone(ctx context.Context, p *sessionParent, path string) (ctrl.Result, error) {
	stop := p.session().Stop
	if !p.obj.GetDeletionTimestamp().IsZero() {
		why, err := r.retain.BulkDeletion(ctx, p.obj.GetNamespace(), p.obj.GetDeletionTimestamp())
		if err != nil {
			return ctrl.Result{}, err
		}
		if why != "" {
			// No Savepoint can be made in a namespace being deleted.
			err := r.retain.Keep(ctx, p.obj, retention.Retained{
				Namespace: p.obj.GetNamespace(), Kind: p.kind, Parent: p.obj.GetName(), UID: string(p.obj.GetUID()),
				Name: adopt.Name(p.obj.GetName(), stop.Origin, path), Path: path, Origin: stop.Origin,
			}, why)
			if err != nil {
				return ctrl.Result{}, err
			}
			return ctrl.Result{RequeueAfter: r.opts.Protocol.PollMin}, r.update(ctx, p, func() {
				p.session().Stop = nil
				p.session().StoppedByManager = true
				p.job.State = "FINISHED"
			})
		}
	}
	name, _, err := adopt.Savepoint(ctx, r.client, adopt.Adoption{
		Namespace: p.obj.GetNamespace(), Kind: p.kind, Parent: p.obj.GetName(), Path: path,
		JobID: stop.JobID, Origin: stop.Origin, From: adopt.FromStop, Format: stop.Format,
	})
	if err != nil {
		return ctrl.Result{}, err
	}
	r.events.Eventf(p.obj, nil, corev1.EventTypeNormal, "Stopped", "Stop", "job %s stopped with a savepoint at %s, kept as Savepoint %s (origin %s)", stop.JobID, path, name, stop.Origin)
	return ctrl.Result{RequeueAfter: r.opts.Protocol.PollMin}, r.update(ctx, p, func() {
		p.session().Stop = nil
		p.session().StopFailures = 0
		p.session().NextStopTime = nil
		p.session().ResumeFrom = path
		p.session().StoppedByManager = true
		p.job.State = "FINISHED"
	})
}

// stopFailed gives up this stop; the job runs on and the stop is tried
// again after a growing wait.
func (r *reconciler) stopFailed(ctx context.Context, p *sessionParent, cause error) (ctrl.Result, error) {
	failures := p.session().StopFailures + 1
	wait := r.opts.Protocol.Backoff.Wait(failures)
	msg := flinkop.Message(cause)
	job := p.session().Stop.JobID
	r.events.Eventf(p.obj, nil, corev1.EventTypeWarning, cmfv1.ReasonStopFailed, "Stop", "stop of job %s with a savepoint failed (attempt %d), trying again in %s: %s", job, failures, wait, msg)
	return ctrl.Result{RequeueAfter: wait}, r.update(ctx, p, func() {
		p.session().Stop = nil
		p.session().StopFailures = failures
		p.session().NextStopTime = &metav1.Time{Time: r.opts.Now().Add(wait)}
		p.setError(msg)
		r.condition(p, cmfv1.ConditionReady, metav1.ConditionFalse, cmfv1.ReasonStopFailed, fmt.Sprintf("stop of job %s with a savepoint failed, trying again in %s: %s", job, wait, msg))
	})
}

// cancelForRedeploy cancels the job without a savepoint: a new nonce
// redeploys from startFromSavepoint, a stateless upgrade from nothing. What
// the next deploy starts from is recorded before the cancel.
func (r *reconciler) cancelForRedeploy(ctx context.Context, p *sessionParent, fc *flink.Client) (ctrl.Result, error) {
	if !p.session().StoppedByManager {
		if err := r.update(ctx, p, func() {
			p.session().StoppedByManager = true
			if !p.nonceChanged() {
				p.session().ResumeFrom = "" // stateless
			}
			p.phase(phaseUpgrading)
			r.condition(p, cmfv1.ConditionReady, metav1.ConditionFalse, cmfv1.ReasonCancelling, "cancelling job "+p.job.JobID+" to redeploy")
		}); err != nil {
			return ctrl.Result{}, err
		}
	}
	if err := fc.CancelJob(ctx, p.job.JobID); err != nil && !errors.Is(err, flink.ErrJobNotFound) {
		if errors.Is(err, flink.ErrUnreachable) {
			return r.unreachable(ctx, p, err)
		}
		return ctrl.Result{}, err
	}
	r.events.Eventf(p.obj, nil, corev1.EventTypeNormal, "Cancelled", "Redeploy", "job %s cancelled without a savepoint, to redeploy", p.job.JobID)
	return ctrl.Result{RequeueAfter: r.opts.Protocol.PollMin}, nil
}

// finalize cancels the job of a deleted parent. The webhook admitted the
// delete only once no savepoints were attached. A stop-with-savepoint in
// flight is followed to its end first: the savepoint it takes is adopted
// like any other, never left behind unrecorded.
func (r *reconciler) finalize(ctx context.Context, p *sessionParent, fc *flink.Client) (ctrl.Result, error) {
	forced := p.obj.GetAnnotations()[cmfv1.ForceDeleteAnnotation] == "true"
	if stop := p.session().Stop; stop != nil {
		if !forced {
			return r.pollStop(ctx, p, fc)
		}
		r.events.Eventf(p.obj, nil, corev1.EventTypeWarning, "Orphaned", "Delete", "deleted with %s=true while stopping job %s: if Flink completes stop %s, its savepoint is not recorded", cmfv1.ForceDeleteAnnotation, stop.JobID, stop.TriggerID)
	}
	if id := p.job.JobID; id != "" && !forced {
		state, err := fc.JobState(ctx, id)
		switch {
		case errors.Is(err, flink.ErrJobNotFound):
		case err != nil:
			r.events.Eventf(p.obj, nil, corev1.EventTypeWarning, "CancelPending", "Delete", "cannot cancel job %s yet: %v; annotate %s=true to delete without cancelling", id, flinkop.Message(err), cmfv1.ForceDeleteAnnotation)
			return r.unreachable(ctx, p, err)
		case state == "CANCELLING":
			// Cancelled already. The finalizer goes once the job has ended:
			// a parent is gone only when its job is, and a cancel that
			// Flink does not finish stays in sight (force-delete is the way
			// out).
			return ctrl.Result{RequeueAfter: r.opts.Protocol.PollMin}, nil
		case !flink.JobEnded(state):
			why, err := r.retain.BulkDeletion(ctx, p.obj.GetNamespace(), p.obj.GetDeletionTimestamp())
			if err != nil {
				return ctrl.Result{}, err
			}
			if why != "" {
				// Nobody asked for this job's state to go: it is stopped with
				// a savepoint, kept like the namespace's other savepoints.
				return r.startStop(ctx, p, fc, cmfv1.OriginSuspend)
			}
			if err := fc.CancelJob(ctx, id); err != nil && !errors.Is(err, flink.ErrJobNotFound) {
				return r.unreachable(ctx, p, err)
			}
			r.events.Eventf(p.obj, nil, corev1.EventTypeNormal, "Cancelled", "Delete", "job %s cancelled: its %s is being deleted", id, p.kind)
			return ctrl.Result{RequeueAfter: r.opts.Protocol.PollMin}, nil
		}
	}
	return ctrl.Result{}, r.dropFinalizer(ctx, p)
}

func (r *reconciler) dropFinalizer(ctx context.Context, p *sessionParent) error {
	if !controllerutil.ContainsFinalizer(p.obj, SessionFinalizer) {
		return nil
	}
	return patch.Meta(ctx, r.client, p.obj, func() { controllerutil.RemoveFinalizer(p.obj, SessionFinalizer) })
}

// unreachable records that the pool's JobManager did not answer and tries
// again later, at the earliest when the endpoint's circuit is probed again
// (see endpoint.Health); nothing was decided.
func (r *reconciler) unreachable(ctx context.Context, p *sessionParent, err error) (ctrl.Result, error) {
	msg := flinkop.Message(err)
	wait := r.opts.Protocol.UnreachableWait()
	var open *endpoint.CircuitOpenError
	if errors.As(err, &open) {
		if next, ok := r.flink.Health.RetryIn(p.obj.GetNamespace(), open.Origin); ok {
			wait = max(wait, next)
		}
	}
	return ctrl.Result{RequeueAfter: wait}, r.update(ctx, p, func() {
		r.condition(p, cmfv1.ConditionComputePool, metav1.ConditionFalse, cmfv1.ReasonUnreachable, msg)
	})
}

// jarCacheUnavailable: the manager could not keep the parent's jar. The
// deploy stays recorded, not failed, and is sent again (same job ID) once
// the manager can, e.g. after its Deployment is fixed; the spec is fine.
func (r *reconciler) jarCacheUnavailable(ctx context.Context, p *sessionParent, err *jarCacheError) (ctrl.Result, error) {
	msg := flinkop.Message(err)
	r.events.Eventf(p.obj, nil, corev1.EventTypeWarning, cmfv1.ReasonJarCacheUnavailable, "Deploy", "job %s: %s", p.job.JobID, msg)
	return ctrl.Result{RequeueAfter: r.opts.PollInterval}, r.update(ctx, p, func() {
		p.setError(msg)
		r.condition(p, cmfv1.ConditionReady, metav1.ConditionFalse, cmfv1.ReasonJarCacheUnavailable, msg)
	})
}

// recordJobState copies the job's live state into status.
func (r *reconciler) recordJobState(p *sessionParent, state string) {
	if state != "" {
		p.job.State = state
	} else if p.job.JobID != "" && p.job.State != "FAILED" {
		p.job.State = "GONE"
	}
}

func (r *reconciler) condition(p *sessionParent, kind string, status metav1.ConditionStatus, reason, msg string) {
	meta.SetStatusCondition(p.conditions, metav1.Condition{Type: kind, Status: status, Reason: reason, Message: msg, ObservedGeneration: p.obj.GetGeneration()})
}

// update applies change to the parent's status and writes it when it changed.
func (r *reconciler) update(ctx context.Context, p *sessionParent, change func()) error {
	before := p.obj.DeepCopyObject()
	change()
	p.jobs.setObservedGeneration(p.obj)
	if equality.Semantic.DeepEqual(before, p.obj) {
		return nil
	}
	return r.client.Status().Update(ctx, p.obj)
}
