package policy

import (
	"time"

	"github.com/kubectl-savepoint/kubectl-savepoint/internal/schedule"
)

// projected is one coming scheduled run of a parent, as the manager will
// handle it.
type projected struct {
	// Due is the scheduled time plus the parent's jitter.
	Due time.Time
	// Starts is when the savepoint is taken: Due, or the end of the
	// blackout window that holds it. Zero when the run is skipped.
	Starts time.Time
	// Skipped is why it is not taken (schedule.Reason*), if it is not.
	Skipped string
	// Superseded: it was given up because a later run came due while it
	// waited.
	Superseded bool
}

// projectRuns returns the next n runs due after now of a parent whose
// jitter is offset and whose last scheduled time is last (or, before its
// first, the time the schedule counts from: an @every schedule counts from
// it). It asks plan.Decide what the manager will do at each moment it would
// look again, for a parent whose job runs and has no savepoint in flight
// (what the projection cannot know): a run in a blackout window waits for
// its end, or is skipped when the deadline passes or the next run comes
// first. A run due already is not among them: status.parents[].waiting
// says why it waits.
func projectRuns(plan *schedule.Plan, last time.Time, offset time.Duration, now time.Time, n int) []projected {
	if d := plan.Decide(now, schedule.Facts{Last: last, Offset: offset, Running: true}); d.Action != schedule.Wait {
		last = d.Slot // the latest run due at now
	}
	var out []projected
	t := now
	for steps := 0; len(out) < n && steps < 20*n; steps++ {
		d := plan.Decide(t, schedule.Facts{Last: last, Offset: offset, Running: true})
		// Runs between the last one handled and the one acted on were
		// given up together: a window held them until the next came.
		for slot := plan.Next(last); !slot.IsZero() && !slot.After(d.Last) && len(out) < n; slot = plan.Next(slot) {
			if (d.Action == schedule.Take || d.Action == schedule.Skip) && slot.Equal(d.Slot) {
				break
			}
			out = append(out, projected{Due: slot.Add(offset), Skipped: missed(plan, slot.Add(offset)), Superseded: true})
		}
		if len(out) == n {
			break
		}
		switch d.Action {
		case schedule.Take:
			out = append(out, projected{Due: d.Slot.Add(offset), Starts: t})
		case schedule.Skip:
			out = append(out, projected{Due: d.Slot.Add(offset), Skipped: d.Reason})
		}
		last = d.Last
		if d.Action == schedule.Wait || d.Action == schedule.Hold {
			if !d.Wake.After(t) {
				break // never again, or no later look: nothing more to project
			}
			t = d.Wake
		}
	}
	return out
}

// missed is why a run due at due, superseded by a later one, was given up.
func missed(plan *schedule.Plan, due time.Time) string {
	if in, _ := plan.Blackout(due); in {
		return schedule.ReasonBlackout
	}
	return schedule.ReasonMissedDeadline
}
