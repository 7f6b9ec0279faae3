package schedule

import (
	"time"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

// Action is what a policy does for one parent now.
type Action int

const (
	// Wait: nothing is due; look again at Decision.Wake.
	Wait Action = iota
	// Take: take the savepoint of Decision.Slot now.
	Take
	// Skip: Decision.Slot is given up, for Decision.Reason.
	Skip
	// Hold: Decision.Slot is due but waits (Decision.Reason says for what)
	// until Decision.Wake or until what it waits for changes.
	Hold
)

// Reasons a due run waits or is skipped; the names of status.parents[].waiting.
const (
	ReasonBlackout       = "Blackout"
	ReasonInFlight       = "InFlight"
	ReasonNotRunning     = "NotRunning"
	ReasonMissedDeadline = "MissedDeadline"
)

// Facts are what the caller observed of one parent.
type Facts struct {
	// Last is the latest scheduled time handled (taken or skipped), or,
	// before the first, the time from which the schedule counts (the later
	// of the policy's and the parent's creation).
	Last time.Time
	// Waiting is why the run due after Last waited at the last look, if it did.
	Waiting string
	// Offset is the parent's jitter (Plan.Offset).
	Offset time.Duration
	// Suspended: the policy's spec.suspend.
	Suspended bool
	// InFlight: a savepoint of the parent is TRIGGER_PENDING or IN_PROGRESS.
	InFlight bool
	// Running: the parent's job is RUNNING.
	Running bool
}

// Decision is what to do, and what to record.
type Decision struct {
	Action Action
	// Slot is the scheduled time acted on (Take, Skip, Hold).
	Slot time.Time
	// Reason is why a Skip or Hold.
	Reason string
	// Last is the new status lastScheduleTime.
	Last time.Time
	// Missed counts the older due runs given up, by reason: never more than
	// one run is caught up.
	Missed map[string]int64
	// Wake is when to look again (zero: only when something changes).
	Wake time.Time
	// Next is when the next run is due, jitter included (zero: never).
	Next time.Time
}

// maxMissed bounds the walk over missed runs of a 5-field schedule (a year
// of minutes); longer outages count this many.
const maxMissed = 525600

// Decide says what the policy does for one parent at now. Each due run is
// taken once, at its scheduled time plus the parent's offset; a run that
// falls in a blackout window or finds the job not running waits until the
// window ends or the job runs, within spec.startingDeadline; a run that
// finds a savepoint in flight is skipped. Of several runs missed together
// (the manager was down, a long blackout), only the latest is caught up,
// and the others are counted.
func (p *Plan) Decide(now time.Time, f Facts) Decision {
	due := func(slot time.Time) time.Time { return slot.Add(f.Offset) }
	first := p.Next(f.Last)
	if first.IsZero() || due(first).After(now) {
		return Decision{Action: Wait, Last: f.Last, Wake: zeroOr(first, due), Next: zeroOr(first, due)}
	}
	// The latest due run, and the ones it supersedes.
	latest, before, superseded := p.latestDue(first, f.Last, now, f.Offset)
	next := p.Next(latest)
	d := Decision{Slot: latest, Missed: map[string]int64{}, Next: zeroOr(next, due)}
	if superseded > 0 {
		// The first of them waited for what Facts.Waiting says, if it did;
		// the others went by unseen (the manager was down), unless a window
		// held them.
		d.Missed[p.missedReason(due(first), f.Waiting)]++
		if superseded > 1 {
			d.Missed[ReasonMissedDeadline] += superseded - 1
		}
	}
	if f.Suspended {
		// A suspended policy lets its runs go by uncounted; resumed, it
		// starts with the next one instead of catching up.
		d.Action, d.Last, d.Missed, d.Wake = Wait, latest, nil, zeroOr(next, due)
		return d
	}
	late := p.deadline > 0 && now.Sub(due(latest)) > p.deadline
	waiting := ""
	if superseded == 0 {
		waiting = f.Waiting
	}
	if late {
		d.Action, d.Reason, d.Last, d.Wake = Skip, p.missedReason(due(latest), waiting), latest, zeroOr(next, due)
		return d
	}
	// It waits, if it must, with the last handled run still the one before.
	hold := func(reason string, until time.Time) Decision {
		d.Action, d.Reason, d.Last = Hold, reason, before
		d.Wake = earliest(until, zeroOr(next, due))
		if p.deadline > 0 {
			d.Wake = earliest(d.Wake, due(latest).Add(p.deadline).Add(time.Millisecond))
		}
		return d
	}
	if in, end := p.Blackout(now); in {
		return hold(ReasonBlackout, end)
	}
	if f.InFlight {
		d.Action, d.Reason, d.Last, d.Wake = Skip, ReasonInFlight, latest, zeroOr(next, due)
		return d
	}
	if !f.Running {
		return hold(ReasonNotRunning, time.Time{})
	}
	d.Action, d.Last, d.Wake = Take, latest, zeroOr(next, due)
	return d
}

// latestDue walks from first (due) to the latest run due at now; it returns
// that run, the run before it (or last), and how many due runs it passed.
func (p *Plan) latestDue(first, last, now time.Time, offset time.Duration) (latest, before time.Time, passed int64) {
	latest, before = first, last
	if p.every > 0 {
		// An @every schedule: the arithmetic, not a walk.
		n := int64(now.Sub(first.Add(offset)) / p.every)
		if n > 0 {
			latest = first.Add(time.Duration(n) * p.every)
			before = latest.Add(-p.every)
		}
		return latest, before, n
	}
	for passed < maxMissed {
		next := p.Next(latest)
		if next.IsZero() || next.Add(offset).After(now) {
			break
		}
		before, latest = latest, next
		passed++
	}
	return latest, before, passed
}

// missedReason is the reason a run due at t, which waited for waiting (or
// nothing), was given up: a window holding it, else what it waited for,
// else a missed deadline.
func (p *Plan) missedReason(t time.Time, waiting string) string {
	if in, _ := p.Blackout(t); in {
		return ReasonBlackout
	}
	if waiting != "" {
		return waiting
	}
	return ReasonMissedDeadline
}

func zeroOr(slot time.Time, due func(time.Time) time.Time) time.Time {
	if slot.IsZero() {
		return slot
	}
	return due(slot)
}

// earliest is the earlier of two times, a zero time counting as none.
func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

// AddMissed adds counts by reason to a parent's status.
func AddMissed(c *cmfv1.SkipCounts, missed map[string]int64) {
	for reason, n := range missed {
		AddSkip(c, reason, n)
	}
}

// AddSkip adds n skipped runs of one reason.
func AddSkip(c *cmfv1.SkipCounts, reason string, n int64) {
	switch reason {
	case ReasonBlackout:
		c.Blackout += n
	case ReasonInFlight:
		c.InFlight += n
	case ReasonNotRunning:
		c.NotRunning += n
	default:
		c.MissedDeadline += n
	}
}
