// Package computepool keeps each ComputePool's status current: whether its
// JobManager answers, and its Flink version.
package computepool

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/endpoint"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/flinkop"
)

// reconciler keeps each ComputePool's status current: whether
// its JobManager answers, and its Flink version.
type reconciler struct {
	client client.Client
	flink  *endpoint.Clients
	opts   Options
}

// Options configure the compute pool controller.
type Options struct {
	// CheckInterval is how often a pool's JobManager is asked for its
	// version.
	CheckInterval time.Duration
	// MaxConcurrentReconciles is how many objects are worked on at once;
	// ReconcileTimeout bounds one reconcile (zero: none).
	MaxConcurrentReconciles int
	ReconcileTimeout        time.Duration
	// SkipNameValidation lets one process set the controller up more than
	// once (tests that restart the manager).
	SkipNameValidation bool
}

// Setup registers the compute pool controller with mgr; it reaches the
// JobManagers through flinks.
func Setup(mgr ctrl.Manager, opts Options, flinks *endpoint.Clients) error {
	return ctrl.NewControllerManagedBy(mgr).
		WithOptions(controller.Options{SkipNameValidation: &opts.SkipNameValidation,
			MaxConcurrentReconciles: opts.MaxConcurrentReconciles, ReconciliationTimeout: opts.ReconcileTimeout}).
		Named("computepool").
		For(&cmfv1.ComputePool{}).
		Complete(&reconciler{client: mgr.GetClient(), flink: flinks, opts: opts})
}

func (r *reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	pool := &cmfv1.ComputePool{}
	if err := r.client.Get(ctx, req.NamespacedName, pool); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := pool.Status.DeepCopy()
	cond := metav1.Condition{Type: cmfv1.ConditionReady, ObservedGeneration: pool.Generation}
	fc, err := r.flink.Get(pool.Namespace, pool.Spec.RestURL)
	if err == nil {
		var info *flink.ClusterInfo
		if info, err = fc.Info(ctx); err == nil {
			pool.Status.Reachable = true
			pool.Status.FlinkVersion = info.FlinkVersion
			cond.Status, cond.Reason, cond.Message = metav1.ConditionTrue, cmfv1.ReasonReachable, fmt.Sprintf("Flink %s answers at %s", info.FlinkVersion, pool.Spec.RestURL)
		}
	}
	if err != nil {
		pool.Status.Reachable = false
		reason := cmfv1.ReasonUnreachable
		if !errors.Is(err, flink.ErrUnreachable) {
			reason = "BadAnswer"
		}
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, reason, "spec.restURL "+pool.Spec.RestURL+": "+flinkop.Message(err)
	}
	meta.SetStatusCondition(&pool.Status.Conditions, cond)
	pool.Status.ObservedGeneration = pool.Generation
	if !equality.Semantic.DeepEqual(before, &pool.Status) {
		if err := r.client.Status().Update(ctx, pool); err != nil && !apierrors.IsConflict(err) {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
	}
	return ctrl.Result{RequeueAfter: r.opts.CheckInterval}, nil
}
