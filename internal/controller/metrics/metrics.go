// Package metrics holds the manager's Prometheus metrics, served on its
// /metrics endpoint.
package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/flinkop"
)

// Prometheus metrics, served on the manager's /metrics.
var (
	savepointsByState = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "savepoint_manager_savepoints",
		Help: "Attached savepoints by state.",
	}, []string{"state"})
	TriggerToComplete = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "savepoint_manager_trigger_to_complete_seconds",
		Help:    "Time from recording a trigger to observing the savepoint COMPLETED.",
		Buckets: prometheus.ExponentialBuckets(0.025, 2, 14),
	})
	DisposalFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "savepoint_manager_disposal_failures_total",
		Help: "Disposals of savepoint data that failed or could not reach the cluster.",
	})
	RESTErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "savepoint_manager_flink_rest_errors_total",
		Help: "Failed JobManager REST calls by operation.",
	}, []string{"operation"})

	// LastSuccess is the number to alert on: when each parent covered by a
	// SavepointPolicy last got a savepoint it can be restored from.
	LastSuccess = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "savepoint_last_success_timestamp_seconds",
		Help: "Unix time of the newest COMPLETED savepoint of each parent covered by a SavepointPolicy.",
	}, []string{"namespace", "kind", "parent"})
	PolicyInterval = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "savepoint_manager_policy_interval_seconds",
		Help: "The time between a covered parent's last and next scheduled savepoint.",
	}, []string{"namespace", "kind", "parent", "policy"})
	PolicyRuns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "savepoint_manager_policy_runs_total",
		Help: "Savepoints taken by SavepointPolicies (scheduled runs and run requests).",
	}, []string{"namespace", "policy"})
	PolicySkips = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "savepoint_manager_policy_skips_total",
		Help: "Scheduled runs that took no savepoint, by reason: Blackout, InFlight, NotRunning, MissedDeadline.",
	}, []string{"namespace", "policy", "reason"})
	PolicyRetentionDeletions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "savepoint_manager_policy_retention_deletions_total",
		Help: "Savepoints deleted by SavepointPolicies' retention (their data disposed through the normal delete).",
	}, []string{"namespace", "policy"})
	UnreachableAttempts = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "savepoint_manager_unreachable_attempts_total",
		Help: "Savepoint attempts spent because the cluster did not answer before anything was sent.",
	})
)

// CountRESTError counts the JobManager REST call that an outcome of the
// savepoint-operation protocol says failed.
func CountRESTError(o flinkop.Outcome) {
	if o.Call != "" {
		RESTErrors.WithLabelValues(o.Call).Inc()
	}
}

func init() {
	crmetrics.Registry.MustRegister(savepointsByState, TriggerToComplete, DisposalFailures, RESTErrors, UnreachableAttempts,
		LastSuccess, PolicyInterval, PolicyRuns, PolicySkips, PolicyRetentionDeletions)
}

// StateGauge refreshes savepointsByState from the cache.
type StateGauge struct {
	// Client lists the Savepoints (the cache).
	Client client.Reader
	// Interval is the time between two counts.
	Interval time.Duration
}

// Start counts until ctx ends.
func (g *StateGauge) Start(ctx context.Context) error {
	ticker := time.NewTicker(g.Interval)
	defer ticker.Stop()
	for {
		var list cmfv1.SavepointList
		if err := g.Client.List(ctx, &list); err != nil {
			logf.FromContext(ctx).Error(err, "count savepoints by state")
		} else {
			counts := map[cmfv1.SavepointState]float64{
				cmfv1.StateTriggerPending: 0, cmfv1.StateInProgress: 0, cmfv1.StateCompleted: 0,
				cmfv1.StateFailed: 0, cmfv1.StateAbandoned: 0,
			}
			for _, sp := range list.Items {
				counts[sp.Status.EffectiveState()]++
			}
			for state, n := range counts {
				savepointsByState.WithLabelValues(string(state)).Set(n)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// NeedLeaderElection: only the leader reports, so that replicas agree.
func (g *StateGauge) NeedLeaderElection() bool { return true }
