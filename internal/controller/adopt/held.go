package adopt

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

// HeldPaths returns the paths that the parent's Savepoints hold (completed,
// or adopted), but for those that are the trigger's own. It reads live
// (a Savepoint that took a path a moment ago must count), by the CRD's
// selectable fields.
func HeldPaths(ctx context.Context, live client.Reader, namespace string, kind cmfv1.ParentKind, parent string, own func(*cmfv1.Savepoint) bool) ([]string, error) {
	var list cmfv1.SavepointList
	if err := live.List(ctx, &list, client.InNamespace(namespace), client.MatchingFields{kind.SavepointField(): parent}); err != nil {
		return nil, err
	}
	var paths []string
	for i := range list.Items {
		sp := &list.Items[i]
		if own(sp) {
			continue
		}
		for _, p := range []string{sp.Status.Path, sp.Annotations[cmfv1.AdoptedPathAnnotation]} {
			if p != "" {
				paths = append(paths, p)
			}
		}
	}
	return paths, nil
}
