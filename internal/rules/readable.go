package rules

import (
	"context"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

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
