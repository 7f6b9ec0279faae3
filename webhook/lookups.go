package webhook

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

// Cache indexes: a decision costs the same with 100 or 100,000 objects.
const (
	// IndexParent indexes Savepoints by "FlinkApplication/<name>" or "Statement/<name>".
	IndexParent = "cmf.confluent.io/parent"
	// IndexUID indexes Savepoints and DetachedSavepoints by metadata.uid.
	IndexUID = "metadata.uid"
	// IndexName indexes DetachedSavepoints by metadata.name, across namespaces.
	IndexName = "metadata.name"
)

// ParentKey is the IndexParent value of a parent.
func ParentKey(kind cmfv1.ParentKind, name string) string {
	return string(kind) + "/" + name
}

// AddIndexes registers the field indexes the webhook and the controllers look up with.
func AddIndexes(ctx context.Context, indexer client.FieldIndexer) error {
	indexes := []struct {
		obj     client.Object
		field   string
		extract client.IndexerFunc
	}{
		{&cmfv1.Savepoint{}, IndexParent, func(o client.Object) []string {
			kind, name := o.(*cmfv1.Savepoint).Parent()
			if kind == "" {
				return nil
			}
			return []string{ParentKey(kind, name)}
		}},
		{&cmfv1.Savepoint{}, IndexUID, func(o client.Object) []string { return []string{string(o.GetUID())} }},
		{&cmfv1.DetachedSavepoint{}, IndexUID, func(o client.Object) []string { return []string{string(o.GetUID())} }},
		{&cmfv1.DetachedSavepoint{}, IndexName, func(o client.Object) []string { return []string{o.GetName()} }},
	}
	for _, ix := range indexes {
		if err := indexer.IndexField(ctx, ix.obj, ix.field, ix.extract); err != nil {
			return fmt.Errorf("index %T by %s: %w", ix.obj, ix.field, err)
		}
	}
	return nil
}

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
	if err := l.cache.List(ctx, &list, client.InNamespace(namespace), client.MatchingFields{IndexUID: uid}); err != nil {
		return nil, err
	}
	if len(list.Items) == 0 {
		return nil, nil
	}
	return &list.Items[0], nil
}

func (l *lookups) DetachedSavepoint(ctx context.Context, name string) (*cmfv1.DetachedSavepoint, error) {
	var list cmfv1.DetachedSavepointList
	if err := l.cache.List(ctx, &list, client.MatchingFields{IndexName: name}); err != nil {
		return nil, err
	}
	if len(list.Items) == 0 {
		return nil, nil
	}
	return &list.Items[0], nil
}

func (l *lookups) DetachedSavepointByUID(ctx context.Context, uid string) (*cmfv1.DetachedSavepoint, error) {
	var list cmfv1.DetachedSavepointList
	if err := l.cache.List(ctx, &list, client.MatchingFields{IndexUID: uid}); err != nil {
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
