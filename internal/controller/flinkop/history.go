package flinkop

import (
	"strings"
	"time"

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
	// Held are the paths other records of the job already hold.
	Held []string
}

// pickFromHistory returns the savepoint a forgotten trigger took. The
// history does not name triggers, so this is the one rule that decides which
// entry belongs to it: the earliest COMPLETED savepoint triggered at or after
// q.Since (else within the clock skew before it), under q.Dir, that no other
// record holds. Taking the earliest, not the newest, keeps two triggers that
// were in flight together on their own savepoints: each is matched to the
// first one not yet taken; and the later one does not take the earlier one's
// savepoint through the skew while its own is there. It returns false when
// there is none.
func pickFromHistory(stats *flink.CheckpointStats, q historyQuery) (string, bool) {
	held := make(map[string]bool, len(q.Held))
	for _, p := range q.Held {
		held[flink.NormalizePath(p)] = true
	}
	dir := flink.NormalizePath(q.Dir)
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

// candidates reports whether the history has any savepoint the query could
// take, held or not: without one, nobody needs to be asked what is held.
func candidates(stats *flink.CheckpointStats, since time.Time) bool {
	return len(stats.SavepointsSince(since.Add(-clockSkew).UnixMilli())) > 0
}
