package rules

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

// CacheLookup answers Lookup from a manager's cache, with the indexes of
// AddIndexes. When Live is set, a "not found" by name is confirmed with a
// live read: a stale cache must not deny an object created a moment ago.
type CacheLookup struct {
	Cache client.Reader
	Live  client.Reader
}

var _ Lookup = CacheLookup{}

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
	if err := l.Cache.List(ctx, &list, client.InNamespace(namespace), client.MatchingFields{IndexUID: uid}); err != nil || len(list.Items) == 0 {
		return nil, err
	}
	return &list.Items[0], nil
}

func (l CacheLookup) DetachedSavepoint(ctx context.Context, name string) (*cmfv1.DetachedSavepoint, error) {
	var list cmfv1.DetachedSavepointList
	if err := l.Cache.List(ctx, &list, client.MatchingFields{IndexName: name}); err != nil || len(list.Items) == 0 {
		return nil, err
	}
	return &list.Items[0], nil
}

func (l CacheLookup) DetachedSavepointByUID(ctx context.Context, uid string) (*cmfv1.DetachedSavepoint, error) {
	var list cmfv1.DetachedSavepointList
	if err := l.Cache.List(ctx, &list, client.MatchingFields{IndexUID: uid}); err != nil || len(list.Items) == 0 {
		return nil, err
	}
	return &list.Items[0], nil
}

// Readable is a Lookup for a requester in Namespace: a DetachedSavepoint of
// another namespace exists for it only when MayRead says that requester may
// read it there. So an answer built on it (a denial, a resolved path)
// reveals nothing the requester may not read: a DetachedSavepoint they may
// not read is answered exactly as one that does not exist.
type Readable struct {
	Lookup
	// Namespace is the requester's: its DetachedSavepoints are seen as they are.
	Namespace string
	// MayRead reports whether the requester may read dsp.
	MayRead func(ctx context.Context, dsp *cmfv1.DetachedSavepoint) (bool, error)
}

var _ Lookup = Readable{}

func (r Readable) DetachedSavepoint(ctx context.Context, name string) (*cmfv1.DetachedSavepoint, error) {
	dsp, err := r.Lookup.DetachedSavepoint(ctx, name)
	return r.readable(ctx, dsp, err)
}

func (r Readable) DetachedSavepointByUID(ctx context.Context, uid string) (*cmfv1.DetachedSavepoint, error) {
	dsp, err := r.Lookup.DetachedSavepointByUID(ctx, uid)
	return r.readable(ctx, dsp, err)
}

func (r Readable) readable(ctx context.Context, dsp *cmfv1.DetachedSavepoint, err error) (*cmfv1.DetachedSavepoint, error) {
	if err != nil || dsp == nil || dsp.Namespace == r.Namespace {
		return dsp, err
	}
	ok, err := r.MayRead(ctx, dsp)
	if err != nil || !ok {
		return nil, err
	}
	return dsp, nil
}
