package webhook

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/index"
)

// lookups reads through the cache, and confirms a "not found" with a live
// read where a stale cache would wrongly deny (an object created a moment ago).
type lookups struct {
	index.CacheLookup
}

// parent reads a savepoint's parent; nil when it does not exist.
func (l *lookups) parent(ctx context.Context, kind cmfv1.ParentKind, namespace, name string) (cmfv1.Parent, error) {
	obj := kind.NewParent()
	if obj == nil {
		return nil, nil
	}
	if found, err := l.Get(ctx, namespace, name, obj); !found {
		return nil, err
	}
	return obj, nil
}

// attachedLive lists, with a live read, the Savepoints still attached to a
// parent: a parent's deletion must never miss one created a moment ago.
func (l *lookups) attachedLive(ctx context.Context, kind cmfv1.ParentKind, namespace, name string) ([]cmfv1.Savepoint, error) {
	var list cmfv1.SavepointList
	if err := l.Live.List(ctx, &list, client.InNamespace(namespace), client.MatchingFields{kind.SavepointField(): name}); err != nil {
		return nil, err
	}
	return list.Items, nil
}
