// Package controller wires the manager's controllers: each lives in a
// package of its own beside this one (savepoint, session, operator, parents,
// computepool), with the pieces they share (flinkop, the savepoint-operation
// protocol against Flink; endpoint, where a parent's JobManager is; adopt,
// retention, metrics, patch). Setup builds each one's options from Options.
package controller

import (
	"fmt"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/computepool"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/endpoint"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/flinkop"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/metrics"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/operator"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/parents"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/policy"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/retention"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/savepoint"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/session"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/egress"
)

// Options configure the controllers. Zero values take the defaults.
type Options struct {
	// RestURLTemplate is where a parent's JobManager is when neither the
	// rest-url annotation nor a ComputePool says; {name} and {namespace} are
	// replaced. Default DefaultRestURLTemplate.
	RestURLTemplate string
	// BackoffBase is the wait after the first failure, doubled per failure,
	// and the wait before a JobManager that gave no usable answer is asked
	// again (by the savepoint and the session controller alike); default 1s.
	BackoffBase time.Duration
	// BackoffCap caps the wait between attempts; default 5 minutes.
	BackoffCap time.Duration
	// PollMin and PollMax bound the interval between status polls of a
	// running trigger, which grows with its age; default 50ms and 2s.
	PollMin, PollMax time.Duration
	// ForgottenTriggerGrace is how long after a trigger was recorded a 404
	// from Flink is answered by waiting for its checkpoint history (cached
	// for web.refresh-interval) rather than by triggering again; and how
	// long a trigger's job must have ended before a trigger that Flink still
	// reports IN_PROGRESS is taken as one that will never complete; default
	// 10s.
	ForgottenTriggerGrace time.Duration
	// SessionPollInterval is how often a running job in session mode is
	// looked at (its state, savepoints taken outside); default 10s.
	SessionPollInterval time.Duration
	// PoolCheckInterval is how often a ComputePool's JobManager is asked
	// for its version; default 30s.
	PoolCheckInterval time.Duration
	// JarCacheDir holds the job jars downloaded from http(s) URIs; default
	// a folder in the system's temporary directory. It is made when the
	// first such jar is downloaded; until it can be written, the parents
	// that need one say so in their Ready condition (JarCacheUnavailable).
	JarCacheDir string
	// JarDir is the one folder file:// jar URIs are read from; empty refuses
	// them (a jar URI is what a namespace user writes, read with the
	// manager's own file system).
	JarDir string
	// MaxJarBytes caps a jar, local or downloaded; default 512 MiB.
	MaxJarBytes int64
	// Endpoints is the admin's allow-list of the URLs the manager calls for
	// a namespace (pools' REST and SQL Gateway URLs, the rest-url template
	// and annotation, jar downloads). Its zero value allows nothing.
	Endpoints egress.Policy
	// AllowRestURLAnnotation honours the cmf.confluent.io/rest-url
	// annotation on parents (still within Endpoints); without it, a parent
	// that has one is told to remove it.
	AllowRestURLAnnotation bool
	// BulkDeletePolicy is what becomes of a COMPLETED attached savepoint's
	// data when it is deleted with its namespace or with the Savepoint CRD
	// (no user asked for it to go); default BulkDetach.
	BulkDeletePolicy retention.BulkDeletePolicy
	// RetentionNamespace holds the DetachedSavepoints that BulkDetach makes;
	// without one, BulkDetach keeps the data as BulkKeep does.
	RetentionNamespace string
	// DisposablePrefixes are the locations, besides each cluster's own
	// savepoint directory, under which the data of a savepoint adopted from
	// a FlinkStateSnapshot or a FlinkDeployment's status may be disposed.
	DisposablePrefixes []string
	// Flink configures the JobManager clients. Their requests are not
	// repeated inline (Retries -1 unless set): a request that gets no answer
	// is the endpoint's health tracker's business (see endpoint.Health), and
	// the object is looked at again when the endpoint answers, instead of a
	// worker waiting between attempts.
	Flink flink.Options
	// MaxConcurrentReconciles is how many objects each controller works on
	// at once; default 8. The work queue never hands one object to two
	// workers.
	MaxConcurrentReconciles int
	// ReconcileTimeout bounds one reconcile of every controller but the
	// session controllers; default 1 minute.
	ReconcileTimeout time.Duration
	// SessionReconcileTimeout bounds one reconcile of a session-mode parent,
	// which may upload a jar (Flink.UploadTimeout) and run it; default 15
	// minutes.
	SessionReconcileTimeout time.Duration
	// EndpointThreshold is how many failures in a row open an endpoint's
	// circuit; default 3. EndpointProbeCap caps the wait between probes of
	// an endpoint whose circuit is open (the first is BackoffBase); default
	// 30s, and never more than BackoffCap.
	EndpointThreshold int
	EndpointProbeCap  time.Duration
	// Now returns the time; default time.Now.
	Now func() time.Time
	// SkipNameValidation lets one process set the controllers up more than
	// once (tests that restart the manager, as a crash would).
	SkipNameValidation bool
}

// protocol is the savepoint-operation protocol with these options' timings:
// one backoff, one unreachable wait and one poll interval for the
// savepoint controller and the session controller alike.
func (o *Options) protocol() flinkop.Protocol {
	return flinkop.Protocol{
		Backoff: flinkop.Backoff{Base: o.BackoffBase, Cap: o.BackoffCap},
		PollMin: o.PollMin, PollMax: o.PollMax,
		ForgottenTriggerGrace: o.ForgottenTriggerGrace,
		Now:                   o.Now,
	}.WithDefaults()
}

func (o *Options) defaults() {
	if o.RestURLTemplate == "" {
		o.RestURLTemplate = endpoint.DefaultRestURLTemplate
	}
	if o.SessionPollInterval == 0 {
		o.SessionPollInterval = 10 * time.Second
	}
	if o.PoolCheckInterval == 0 {
		o.PoolCheckInterval = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.BulkDeletePolicy == "" {
		o.BulkDeletePolicy = retention.BulkDetach
	}
	if o.Flink.Retries == 0 {
		o.Flink.Retries = -1
	}
	if o.MaxConcurrentReconciles <= 0 {
		o.MaxConcurrentReconciles = 8
	}
	if o.ReconcileTimeout <= 0 {
		o.ReconcileTimeout = time.Minute
	}
	if o.SessionReconcileTimeout <= 0 {
		o.SessionReconcileTimeout = 15 * time.Minute
	}
	if o.EndpointProbeCap <= 0 {
		o.EndpointProbeCap = 30 * time.Second
	}
}

// health is the endpoint health tracker with these options' timings.
func (o *Options) health() *endpoint.Health {
	backoff := o.protocol().Backoff
	return &endpoint.Health{Threshold: o.EndpointThreshold, Base: backoff.Base, Cap: min(o.EndpointProbeCap, backoff.Cap), Now: o.Now}
}

// Setup registers every controller with mgr. They look up with the indexes
// of index.Add, which the caller adds once.
func Setup(mgr ctrl.Manager, opts Options) error {
	opts.defaults()
	switch opts.BulkDeletePolicy {
	case retention.BulkDetach, retention.BulkKeep, retention.BulkDispose:
	default:
		return fmt.Errorf("bulk delete policy %q: choose detach, keep or dispose", opts.BulkDeletePolicy)
	}
	// One client per JobManager URL and one retainer, shared by the
	// controllers that reach Flink and that dispose.
	health := opts.health()
	if err := mgr.Add(health); err != nil {
		return err
	}
	flinks := &endpoint.Clients{Options: opts.Flink, Policy: opts.Endpoints, Health: health}
	retain := &retention.Retainer{Client: mgr.GetClient(), Live: mgr.GetAPIReader(), Events: mgr.GetEventRecorder("savepoint-manager"),
		Policy: opts.BulkDeletePolicy, Namespace: opts.RetentionNamespace}
	resolver := &endpoint.Resolver{Client: mgr.GetClient(), Template: opts.RestURLTemplate, AllowAnnotation: opts.AllowRestURLAnnotation}
	protocol := opts.protocol()
	skip := opts.SkipNameValidation
	workers, timeout := opts.MaxConcurrentReconciles, opts.ReconcileTimeout

	if err := savepoint.Setup(mgr, savepoint.Options{Protocol: protocol, Now: opts.Now, DisposablePrefixes: opts.DisposablePrefixes, SkipNameValidation: skip,
		MaxConcurrentReconciles: workers, ReconcileTimeout: timeout}, resolver, flinks, retain); err != nil {
		return err
	}
	if err := parents.Setup(mgr, parents.Options{SkipNameValidation: skip, MaxConcurrentReconciles: workers, ReconcileTimeout: timeout}); err != nil {
		return err
	}
	sessionOpts := session.Options{
		Protocol: protocol, PollInterval: opts.SessionPollInterval,
		AllowRestURLAnnotation: opts.AllowRestURLAnnotation,
		Jars:                   session.JarOptions{CacheDir: opts.JarCacheDir, LocalDir: opts.JarDir, MaxBytes: opts.MaxJarBytes},
		Now:                    opts.Now, SkipNameValidation: skip,
		MaxConcurrentReconciles: workers, ReconcileTimeout: opts.SessionReconcileTimeout,
	}
	if err := session.Setup(mgr, sessionOpts, flinks, retain); err != nil {
		return err
	}
	if err := computepool.Setup(mgr, computepool.Options{CheckInterval: opts.PoolCheckInterval, SkipNameValidation: skip, MaxConcurrentReconciles: workers, ReconcileTimeout: timeout}, flinks); err != nil {
		return err
	}
	if err := operator.Setup(mgr, operator.Options{SkipNameValidation: skip, MaxConcurrentReconciles: workers, ReconcileTimeout: timeout}); err != nil {
		return err
	}
	if err := policy.Setup(mgr, policy.Options{Now: opts.Now, SkipNameValidation: skip}); err != nil {
		return err
	}
	return mgr.Add(&metrics.StateGauge{Client: mgr.GetClient(), Interval: 15 * time.Second})
}
