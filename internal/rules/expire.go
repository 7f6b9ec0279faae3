package rules

import (
	"slices"
	"time"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

// Expired are the Savepoints of one parent that a policy's retention
// deletes now. siblings are all the Savepoints attached to that parent;
// parents are the namespace's, for the restore-point guard. Retention looks
// only at COMPLETED savepoints of its origins (PERIODIC by default): it
// keeps the newest keepLast of them and deletes those older than maxAge
// (either rule is enough to go). Whatever it says, it never deletes a
// MANUAL or IMPORTED savepoint, one in flight or already being deleted, the
// parent's newest COMPLETED savepoint of any origin, or a restore point
// (RestorePoint).
func Expired(r *cmfv1.Retention, siblings []cmfv1.Savepoint, parents Parents, now time.Time) []*cmfv1.Savepoint {
	if r == nil || (r.KeepLast == nil && r.MaxAge == nil) {
		return nil
	}
	origins := r.RetentionOrigins()
	var completed []*cmfv1.Savepoint
	for i := range siblings {
		if sp := &siblings[i]; sp.Status.State == cmfv1.StateCompleted && sp.Status.Path != "" {
			completed = append(completed, sp)
		}
	}
	// Newest first: by completion, then creation, then name.
	slices.SortFunc(completed, func(a, b *cmfv1.Savepoint) int {
		if c := completedAt(b).Compare(completedAt(a)); c != 0 {
			return c
		}
		return b.CreationTimestamp.Compare(a.CreationTimestamp.Time)
	})
	var out []*cmfv1.Savepoint
	kept := int32(0)
	for i, sp := range completed {
		if !slices.Contains(origins, sp.Status.Origin) {
			continue // none of retention's
		}
		kept++
		if i == 0 || !sp.DeletionTimestamp.IsZero() {
			continue // the newest of all; one already going
		}
		tooMany := r.KeepLast != nil && kept > *r.KeepLast
		tooOld := r.MaxAge != nil && now.Sub(completedAt(sp)) > r.MaxAge.Duration
		if !tooMany && !tooOld {
			continue
		}
		if RestorePoint(sp, siblings, parents) != "" {
			continue
		}
		out = append(out, sp)
	}
	return out
}
