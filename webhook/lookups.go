package webhook

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/rules"
)

// lookups reads through the cache, and confirms a "not found" with a live
// read where a stale cache would wrongly deny (an object created a moment ago).
type lookups struct {
	cache client.Reader
	live  client.Reader
}

// get reads namespace/name into obj; nil, nil when it does not exist.
func (l *lookups) get(ctx context.Context, namespace, name string, obj client.Object) (bool, error) {
	key := client.ObjectKey{Namespace: namespace, Name: name}
	err := l.cache.Get(ctx, key, obj)
	if apierrors.IsNotFound(err) {
		err = l.live.Get(ctx, key, obj)
	}
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

func (l *lookups) Savepoint(ctx context.Context, namespace, name string) (*cmfv1.Savepoint, error) {
	sp := &cmfv1.Savepoint{}
	if found, err := l.get(ctx, namespace, name, sp); !found {
		return nil, err
	}
	return sp, nil
}

func (l *lookups) SavepointByUID(ctx context.Context, namespace, uid string) (*cmfv1.Savepoint, error) {
	var list cmfv1.SavepointList
	if err := l.cache.List(ctx, &list, client.InNamespace(namespace), client.MatchingFields{rules.IndexUID: uid}); err != nil {
		return nil, err
	}
	if len(list.Items) == 0 {
		return nil, nil
	}
	return &list.Items[0], nil
}

func (l *lookups) DetachedSavepoint(ctx context.Context, name string) (*cmfv1.DetachedSavepoint, error) {
	var list cmfv1.DetachedSavepointList
	if err := l.cache.List(ctx, &list, client.MatchingFields{rules.IndexName: name}); err != nil {
		return nil, err
	}
	if len(list.Items) == 0 {
		return nil, nil
	}
	return &list.Items[0], nil
}

func (l *lookups) DetachedSavepointByUID(ctx context.Context, uid string) (*cmfv1.DetachedSavepoint, error) {
	var list cmfv1.DetachedSavepointList
	if err := l.cache.List(ctx, &list, client.MatchingFields{rules.IndexUID: uid}); err != nil {
		return nil, err
	}
	if len(list.Items) == 0 {
		return nil, nil
	}
	return &list.Items[0], nil
}

// parent reads a savepoint's parent; nil when it does not exist.
func (l *lookups) parent(ctx context.Context, kind cmfv1.ParentKind, namespace, name string) (client.Object, error) {
	var obj client.Object = &cmfv1.FlinkApplication{}
	if kind == cmfv1.ParentStatement {
		obj = &cmfv1.Statement{}
	}
	if found, err := l.get(ctx, namespace, name, obj); !found {
		return nil, err
	}
	return obj, nil
}

// attachedLive lists, with a live read, the Savepoints still attached to a
// parent: a parent's deletion must never miss one created a moment ago.
func (l *lookups) attachedLive(ctx context.Context, kind cmfv1.ParentKind, namespace, name string) ([]cmfv1.Savepoint, error) {
	field := "spec.application"
	if kind == cmfv1.ParentStatement {
		field = "spec.statement"
	}
	var list cmfv1.SavepointList
	if err := l.live.List(ctx, &list, client.InNamespace(namespace), client.MatchingFields{field: name}); err != nil {
		return nil, err
	}
	return list.Items, nil
}

// rawExtension wraps request bytes for the decoder.
func rawExtension(raw []byte) runtime.RawExtension { return runtime.RawExtension{Raw: raw} }
