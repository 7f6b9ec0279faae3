package controller

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/rules"
)

// savepointLookup answers rules.Lookup from the manager's cache, with the
// indexes of rules.AddIndexes.
type savepointLookup struct {
	reader client.Reader
}

var _ rules.Lookup = savepointLookup{}

func (l savepointLookup) Savepoint(ctx context.Context, namespace, name string) (*cmfv1.Savepoint, error) {
	sp := &cmfv1.Savepoint{}
	err := l.reader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, sp)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return sp, err
}

func (l savepointLookup) SavepointByUID(ctx context.Context, namespace, uid string) (*cmfv1.Savepoint, error) {
	var list cmfv1.SavepointList
	if err := l.reader.List(ctx, &list, client.InNamespace(namespace), client.MatchingFields{rules.IndexUID: uid}); err != nil || len(list.Items) == 0 {
		return nil, err
	}
	return &list.Items[0], nil
}

func (l savepointLookup) DetachedSavepoint(ctx context.Context, name string) (*cmfv1.DetachedSavepoint, error) {
	var list cmfv1.DetachedSavepointList
	if err := l.reader.List(ctx, &list, client.MatchingFields{rules.IndexName: name}); err != nil || len(list.Items) == 0 {
		return nil, err
	}
	return &list.Items[0], nil
}

func (l savepointLookup) DetachedSavepointByUID(ctx context.Context, uid string) (*cmfv1.DetachedSavepoint, error) {
	var list cmfv1.DetachedSavepointList
	if err := l.reader.List(ctx, &list, client.MatchingFields{rules.IndexUID: uid}); err != nil || len(list.Items) == 0 {
		return nil, err
	}
	return &list.Items[0], nil
}
