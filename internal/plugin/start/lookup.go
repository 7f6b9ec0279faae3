package start

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/rules"
)

// liveLookup answers the rules' lookups from the API server, as the user
// the plugin runs as, and keeps what it found for the question to date.
type liveLookup struct {
	reader    client.Reader
	namespace string
	attached  *cmfv1.Savepoint
	detached  *cmfv1.DetachedSavepoint
}

var _ rules.Lookup = &liveLookup{}

func (l *liveLookup) Savepoint(ctx context.Context, namespace, name string) (*cmfv1.Savepoint, error) {
	sp := &cmfv1.Savepoint{}
	if err := l.reader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, sp); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	l.attached = sp
	return sp, nil
}

// SavepointByUID lists the namespace's Savepoints: the API server selects
// no custom resource by metadata.uid.
func (l *liveLookup) SavepointByUID(ctx context.Context, namespace, uid string) (*cmfv1.Savepoint, error) {
	var list cmfv1.SavepointList
	if err := l.reader.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return nil, err
	}
	for i := range list.Items {
		if string(list.Items[i].UID) == uid {
			l.attached = &list.Items[i]
			return l.attached, nil
		}
	}
	return nil, nil
}

// DetachedSavepoint looks in the parent's namespace, then (the name being
// unique across namespaces) in all of them.
func (l *liveLookup) DetachedSavepoint(ctx context.Context, name string) (*cmfv1.DetachedSavepoint, error) {
	d := &cmfv1.DetachedSavepoint{}
	err := l.reader.Get(ctx, client.ObjectKey{Namespace: l.namespace, Name: name}, d)
	if err == nil {
		l.detached = d
		return d, nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, err
	}
	return l.detachedWhere(ctx, func(d *cmfv1.DetachedSavepoint) bool { return d.Name == name }, client.MatchingFields{"metadata.name": name})
}

// DetachedSavepointByUID looks in the parent's namespace, then in all.
func (l *liveLookup) DetachedSavepointByUID(ctx context.Context, uid string) (*cmfv1.DetachedSavepoint, error) {
	match := func(d *cmfv1.DetachedSavepoint) bool { return string(d.UID) == uid }
	if d, err := l.detachedWhere(ctx, match, client.InNamespace(l.namespace)); d != nil || err != nil {
		return d, err
	}
	return l.detachedWhere(ctx, match)
}

// detachedWhere finds the DetachedSavepoint that matches among those listed.
func (l *liveLookup) detachedWhere(ctx context.Context, match func(*cmfv1.DetachedSavepoint) bool, opts ...client.ListOption) (*cmfv1.DetachedSavepoint, error) {
	var list cmfv1.DetachedSavepointList
	if err := l.reader.List(ctx, &list, opts...); err != nil {
		return nil, err
	}
	for i := range list.Items {
		if match(&list.Items[i]) {
			l.detached = &list.Items[i]
			return l.detached, nil
		}
	}
	return nil, nil
}
