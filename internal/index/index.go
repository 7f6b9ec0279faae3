// Package index is the manager's cache plumbing for the rules: the field
// indexes the webhook and the controllers look objects up by, and a
// rules.Lookup answered from a manager's cache.
package index

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

// Cache indexes: a decision costs the same with 100 or 100,000 objects.
const (
	// Parent indexes Savepoints by "FlinkApplication/<name>" or "Statement/<name>".
	Parent = "cmf.confluent.io/parent"
	// UID indexes Savepoints and DetachedSavepoints by metadata.uid.
	UID = "metadata.uid"
	// Name indexes DetachedSavepoints by metadata.name, across namespaces.
	Name = "metadata.name"
	// DetachedSource indexes DetachedSavepoints by the "namespace/name"
	// of the attached Savepoint they were detached from.
	DetachedSource = "spec.source"
	// ComputePool indexes FlinkApplications and Statements by
	// spec.computePoolName.
	ComputePool = "spec.computePoolName"
)

// ParentKey is the Parent value of a parent.
func ParentKey(kind cmfv1.ParentKind, name string) string {
	return string(kind) + "/" + name
}

// Add registers the field indexes the webhook and the controllers
// look up with. Call it once per manager, before the cache starts.
func Add(ctx context.Context, indexer client.FieldIndexer) error {
	indexes := []struct {
		obj     client.Object
		field   string
		extract client.IndexerFunc
	}{
		{&cmfv1.Savepoint{}, Parent, func(o client.Object) []string {
			kind, name := o.(*cmfv1.Savepoint).Parent()
			if kind == "" {
				return nil
			}
			return []string{ParentKey(kind, name)}
		}},
		{&cmfv1.Savepoint{}, UID, func(o client.Object) []string { return []string{string(o.GetUID())} }},
		{&cmfv1.DetachedSavepoint{}, UID, func(o client.Object) []string { return []string{string(o.GetUID())} }},
		{&cmfv1.DetachedSavepoint{}, Name, func(o client.Object) []string { return []string{o.GetName()} }},
		{&cmfv1.DetachedSavepoint{}, DetachedSource, func(o client.Object) []string {
			src := o.(*cmfv1.DetachedSavepoint).Spec.Source
			if src == nil {
				return nil
			}
			return []string{src.Namespace + "/" + src.SavepointName}
		}},
		{&cmfv1.FlinkApplication{}, ComputePool, func(o client.Object) []string {
			if pool := o.(*cmfv1.FlinkApplication).Spec.ComputePoolName; pool != "" {
				return []string{pool}
			}
			return nil
		}},
		{&cmfv1.Statement{}, ComputePool, func(o client.Object) []string { return []string{o.(*cmfv1.Statement).Spec.ComputePoolName} }},
	}
	for _, ix := range indexes {
		if err := indexer.IndexField(ctx, ix.obj, ix.field, ix.extract); err != nil {
			return fmt.Errorf("index %T by %s: %w", ix.obj, ix.field, err)
		}
	}
	return nil
}
