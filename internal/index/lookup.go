package index

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/rules"
)

// CacheLookup answers Lookup from a manager's cache, with the indexes of
// Add. When Live is set, a "not found" by name is confirmed with a
// live read: a stale cache must not deny an object created a moment ago.
type CacheLookup struct {
	Cache client.Reader
	Live  client.Reader
}

var _ rules.Lookup = CacheLookup{}

// Get reads namespace/name into obj and reports whether it exists.
func (l CacheLookup) Get(ctx context.Context, namespace, name string, obj client.Object) (bool, error) {
	key := client.ObjectKey{Namespace: namespace, Name: name}
	err := l.Cache.Get(ctx, key, obj)
	if apierrors.IsNotFound(err) && l.Live != nil {
		err = l.Live.Get(ctx, key, obj)
	}
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

func (l CacheLookup) Savepoint(ctx context.Context, namespace, name string) (*cmfv1.Savepoint, error) {
	sp := &cmfv1.Savepoint{}
	if found, err := l.Get(ctx, namespace, name, sp); !found {
		return nil, err
	}
	return sp, nil
}

func (l CacheLookup) SavepointByUID(ctx context.Context, namespace, uid string) (*cmfv1.Savepoint, error) {
	var list cmfv1.SavepointList
	if err := l.Cache.List(ctx, &list, client.InNamespace(namespace), client.MatchingFields{UID: uid}); err != nil || len(list.Items) == 0 {
		return nil, err
	}
	return &list.Items[0], nil
}

func (l CacheLookup) DetachedSavepoint(ctx context.Context, name string) (*cmfv1.DetachedSavepoint, error) {
	var list cmfv1.DetachedSavepointList
	if err := l.Cache.List(ctx, &list, client.MatchingFields{Name: name}); err != nil || len(list.Items) == 0 {
		return nil, err
	}
	return &list.Items[0], nil
}

func (l CacheLookup) DetachedSavepointByUID(ctx context.Context, uid string) (*cmfv1.DetachedSavepoint, error) {
	var list cmfv1.DetachedSavepointList
	if err := l.Cache.List(ctx, &list, client.MatchingFields{UID: uid}); err != nil || len(list.Items) == 0 {
		return nil, err
	}
	return &list.Items[0], nil
}
