package webhook

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/index"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/rules"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
)

// BenchmarkStartFromSavepointLookup resolves a startFromSavepoint by uid and
// by detached name through the indexed cache, with 100 and then 5,000
// savepoints in the cluster: the cost per decision should not grow with the
// count (compare the two within one run).
func BenchmarkStartFromSavepointLookup(b *testing.B) {
	env := controlplane.Start(b, controlplane.Options{})
	ctx := context.Background()
	ns := "bench"
	require.NoError(b, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	var l *lookups
	_, _ = env.StartManager(b, func(ctx context.Context, mgr ctrl.Manager) error {
		l = &lookups{index.CacheLookup{Cache: mgr.GetClient(), Live: mgr.GetAPIReader()}}
		return index.Add(ctx, mgr.GetFieldIndexer())
	})

	created := 0
	for _, total := range []int{100, 5000} {
		var lastUID, lastDetached string
		for ; created < total; created++ {
			sp := &cmfv1.Savepoint{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("orders-%05d", created)},
				Spec:       cmfv1.SavepointSpec{Application: "orders"},
			}
			require.NoError(b, env.Client.Create(ctx, sp))
			sp.Status = cmfv1.SavepointStatus{State: cmfv1.StateCompleted, Path: "file:/sp/" + sp.Name}
			require.NoError(b, env.Client.Status().Update(ctx, sp))
			dsp := &cmfv1.DetachedSavepoint{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("imported-%05d", created)},
				Spec:       cmfv1.DetachedSavepointSpec{Path: "file:/sp/imported"},
			}
			require.NoError(b, env.Client.Create(ctx, dsp))
			lastUID, lastDetached = string(sp.UID), dsp.Name
		}
		// Wait until the cache has seen the last ones.
		require.Eventually(b, func() bool {
			sp, err := l.SavepointByUID(ctx, ns, lastUID)
			return err == nil && sp != nil && sp.Status.State == cmfv1.StateCompleted
		}, 60e9, 10e6)

		b.Run(fmt.Sprintf("savepoints=%d/by-uid", total), func(b *testing.B) {
			ref := &cmfv1.StartFromSavepoint{UID: lastUID}
			for b.Loop() {
				_, err := rules.ResolveStartFromSavepoint(ctx, l, cmfv1.ParentApplication, ns, "orders", ref)
				require.NoError(b, err)
			}
		})
		b.Run(fmt.Sprintf("savepoints=%d/detached-by-name", total), func(b *testing.B) {
			ref := &cmfv1.StartFromSavepoint{SavepointName: lastDetached}
			for b.Loop() {
				_, err := rules.ResolveStartFromSavepoint(ctx, l, cmfv1.ParentApplication, ns, "orders", ref)
				require.NoError(b, err)
			}
		})
	}
}
