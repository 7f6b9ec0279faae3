// Package patch writes the manager's changes to the metadata of objects it
// does not own the whole of.
package patch

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Meta writes what change does to obj's metadata (a finalizer, an
// annotation) as a merge patch with an optimistic lock, never as an update
// of the whole object: fields that the stored object has and our Go types
// lack (a FlinkApplication's podTemplate or ingress, which its CRD keeps)
// are never written back, so never lost.
func Meta(ctx context.Context, c client.Client, obj client.Object, change func()) error {
	base := obj.DeepCopyObject().(client.Object)
	change()
	return c.Patch(ctx, obj, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
}
