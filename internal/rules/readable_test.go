package rules

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

// detachedOnly finds DetachedSavepoints by name or uid, nothing attached.
type detachedOnly []cmfv1.DetachedSavepoint

func (d detachedOnly) Savepoint(context.Context, string, string) (*cmfv1.Savepoint, error) {
	return nil, nil
}

func (d detachedOnly) SavepointByUID(context.Context, string, string) (*cmfv1.Savepoint, error) {
	return nil, nil
}

func (d detachedOnly) DetachedSavepoint(_ context.Context, name string) (*cmfv1.DetachedSavepoint, error) {
	for i := range d {
		if d[i].Name == name {
			return &d[i], nil
		}
	}
	return nil, nil
}

func (d detachedOnly) DetachedSavepointByUID(_ context.Context, uid string) (*cmfv1.DetachedSavepoint, error) {
	for i := range d {
		if string(d[i].UID) == uid {
			return &d[i], nil
		}
	}
	return nil, nil
}

// TestReadable: a DetachedSavepoint of another namespace that the requester
// may not read resolves exactly as one that does not exist.
func TestReadable(t *testing.T) {
	ctx := context.Background()
	all := detachedOnly{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "golden", UID: "uid-golden"}, Spec: cmfv1.DetachedSavepointSpec{Path: "s3://b/team-a/golden"}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "team-b", Name: "mine", UID: "uid-mine"}, Spec: cmfv1.DetachedSavepointSpec{Path: "s3://b/team-b/mine"}},
	}
	var asked []string
	readable := func(allowed bool) Readable {
		return Readable{Lookup: all, Namespace: "team-b", MayRead: func(_ context.Context, dsp *cmfv1.DetachedSavepoint) (bool, error) {
			asked = append(asked, dsp.Namespace+"/"+dsp.Name)
			return allowed, nil
		}}
	}
	resolve := func(l Lookup, ref cmfv1.StartFromSavepoint) (string, error) {
		r, err := ResolveStartFromSavepoint(ctx, l, cmfv1.ParentApplication, "team-b", "orders", &ref)
		if err != nil {
			return "", err
		}
		return r.Path, nil
	}

	for _, tc := range []struct {
		ref, missing cmfv1.StartFromSavepoint
		name, ghost  string
	}{
		{cmfv1.StartFromSavepoint{SavepointName: "golden"}, cmfv1.StartFromSavepoint{SavepointName: "ghost"}, "golden", "ghost"},
		{cmfv1.StartFromSavepoint{UID: "uid-golden"}, cmfv1.StartFromSavepoint{UID: "uid-ghost"}, "uid-golden", "uid-ghost"},
	} {
		_, denied := resolve(readable(false), tc.ref)
		require.Error(t, denied)
		assert.NotContains(t, denied.Error(), "s3://")
		assert.NotContains(t, denied.Error(), "team-a")
		_, notFound := resolve(all, tc.missing)
		require.Error(t, notFound)
		assert.Equal(t, strings.ReplaceAll(notFound.Error(), tc.ghost, tc.name), denied.Error(), "the same answer as for one that does not exist")

		path, err := resolve(readable(true), tc.ref)
		require.NoError(t, err)
		assert.Equal(t, "s3://b/team-a/golden", path)
	}

	asked = nil
	path, err := resolve(readable(false), cmfv1.StartFromSavepoint{SavepointName: "mine"})
	require.NoError(t, err)
	assert.Equal(t, "s3://b/team-b/mine", path)
	assert.Empty(t, asked, "the requester's own namespace is not asked about")
}
