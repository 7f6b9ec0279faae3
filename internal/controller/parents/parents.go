// Package parents keeps a finalizer on each FlinkApplication and Statement
// while savepoints are attached to it.
package parents

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/patch"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/index"
)

// reconciler keeps a finalizer on a FlinkApplication or Statement while
// savepoints are attached to it: belt and braces with the webhook's denial,
// so that a parent deleted while the webhook was down still waits for them.
type reconciler struct {
	client client.Client
	kind   cmfv1.ParentKind
	newObj func() client.Object
}

// Options configure the parent controllers.
type Options struct {
	// MaxConcurrentReconciles is how many objects are worked on at once;
	// ReconcileTimeout bounds one reconcile (zero: none).
	MaxConcurrentReconciles int
	ReconcileTimeout        time.Duration
	// SkipNameValidation lets one process set the controllers up more than
	// once (tests that restart the manager).
	SkipNameValidation bool
}

// Setup registers one parent controller per parent kind with mgr.
func Setup(mgr ctrl.Manager, opts Options) error {
	parents := []*reconciler{
		{client: mgr.GetClient(), kind: cmfv1.ParentApplication, newObj: func() client.Object { return &cmfv1.FlinkApplication{} }},
		{client: mgr.GetClient(), kind: cmfv1.ParentStatement, newObj: func() client.Object { return &cmfv1.Statement{} }},
	}
	for _, p := range parents {
		kind := p.kind
		err := ctrl.NewControllerManagedBy(mgr).
			WithOptions(controller.Options{SkipNameValidation: &opts.SkipNameValidation,
				MaxConcurrentReconciles: opts.MaxConcurrentReconciles, ReconciliationTimeout: opts.ReconcileTimeout}).
			Named("parent-"+string(kind)).
			For(p.newObj()).
			Watches(&cmfv1.Savepoint{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []ctrl.Request {
				spKind, name := obj.(*cmfv1.Savepoint).Parent()
				if spKind != kind {
					return nil
				}
				return []ctrl.Request{{NamespacedName: types.NamespacedName{Namespace: obj.GetNamespace(), Name: name}}}
			})).
			Complete(p)
		if err != nil {
			return err
		}
	}
	return nil
}

func (p *reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	parent := p.newObj()
	if err := p.client.Get(ctx, req.NamespacedName, parent); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	var attached cmfv1.SavepointList
	if err := p.client.List(ctx, &attached, client.InNamespace(req.Namespace),
		client.MatchingFields{index.Parent: index.ParentKey(p.kind, req.Name)}); err != nil {
		return ctrl.Result{}, err
	}
	has := controllerutil.ContainsFinalizer(parent, cmfv1.ParentFinalizer)
	var change func()
	switch {
	case len(attached.Items) > 0 && !has && parent.GetDeletionTimestamp().IsZero():
		change = func() { controllerutil.AddFinalizer(parent, cmfv1.ParentFinalizer) }
	case len(attached.Items) == 0 && has:
		change = func() { controllerutil.RemoveFinalizer(parent, cmfv1.ParentFinalizer) }
	default:
		return ctrl.Result{}, nil
	}
	err := patch.Meta(ctx, p.client, parent, change)
	if apierrors.IsConflict(err) {
		return ctrl.Result{RequeueAfter: 10 * time.Millisecond}, nil
	}
	return ctrl.Result{}, client.IgnoreNotFound(err)
}
