package rules

import (
	"context"
	"fmt"

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
	// IndexDetachedSource indexes DetachedSavepoints by the "namespace/name"
	// of the attached Savepoint they were detached from.
	IndexDetachedSource = "spec.source"
	// IndexComputePool indexes FlinkApplications and Statements by
	// spec.computePoolName.
	IndexComputePool = "spec.computePoolName"
)

// ParentKey is the IndexParent value of a parent.
func ParentKey(kind cmfv1.ParentKind, name string) string {
	return string(kind) + "/" + name
}

// AddIndexes registers the field indexes the webhook and the controllers
// look up with. Call it once per manager, before the cache starts.
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
		{&cmfv1.DetachedSavepoint{}, IndexDetachedSource, func(o client.Object) []string {
			src := o.(*cmfv1.DetachedSavepoint).Spec.Source
			if src == nil {
				return nil
			}
			return []string{src.Namespace + "/" + src.SavepointName}
		}},
		{&cmfv1.FlinkApplication{}, IndexComputePool, func(o client.Object) []string {
			if pool := o.(*cmfv1.FlinkApplication).Spec.ComputePoolName; pool != "" {
				return []string{pool}
			}
			return nil
		}},
		{&cmfv1.Statement{}, IndexComputePool, func(o client.Object) []string { return []string{o.(*cmfv1.Statement).Spec.ComputePoolName} }},
	}
	for _, ix := range indexes {
		if err := indexer.IndexField(ctx, ix.obj, ix.field, ix.extract); err != nil {
			return fmt.Errorf("index %T by %s: %w", ix.obj, ix.field, err)
		}
	}
	return nil
}
