package controller

import (
	"context"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
)

// clockSkew is how much earlier than our record of a trigger Flink may
// stamp the savepoint it took: the JobManager's clock and the manager's
// are different machines' clocks.
const clockSkew = 2 * time.Second

// historyQuery says which savepoint of a job's checkpoint history a
// trigger that Flink has forgotten took.
type historyQuery struct {
	// Since is when the trigger was recorded, before it was sent.
	Since time.Time
	// Dir is the target directory the trigger named; empty: any.
	Dir string
	// Held are the paths other Savepoints of the job already hold.
	Held []string
}

// pickFromHistory returns the savepoint a forgotten trigger took: the
// earliest completed savepoint triggered at or after q.Since (else within
// the clock skew before it), under q.Dir, that no other Savepoint holds. Taking the
// earliest, not the newest, keeps two triggers that were in flight
// together on their own savepoints: each is matched to the first one not
// yet taken. It returns false when there is none.
func pickFromHistory(stats *flink.CheckpointStats, q historyQuery) (string, bool) {
	held := make(map[string]bool, len(q.Held))
	for _, p := range q.Held {
		held[flink.NormalizePath(p)] = true
	}
	dir := flink.NormalizePath(q.Dir)
	// First at or after the trigger by the clocks as they are, then within
	// the skew: of two triggers in flight together, the later one does not
	// take the earlier one's savepoint while its own is there.
	for _, since := range []time.Time{q.Since, q.Since.Add(-clockSkew)} {
		found := stats.SavepointsSince(since.UnixMilli())
		for i := len(found) - 1; i >= 0; i-- { // oldest first
			path := flink.NormalizePath(found[i].ExternalPath)
			if held[path] || (dir != "" && !strings.HasPrefix(path, dir+"/")) {
				continue
			}
			return found[i].ExternalPath, true
		}
	}
	return "", false
}

// heldPaths returns the paths that the parent's Savepoints hold (completed,
// or adopted), but for those that are the trigger's own. It reads live
// (a Savepoint that took a path a moment ago must count), by the CRD's
// selectable fields.
func heldPaths(ctx context.Context, live client.Reader, namespace string, kind cmfv1.ParentKind, parent string, own func(*cmfv1.Savepoint) bool) ([]string, error) {
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
