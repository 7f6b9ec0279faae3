// Package schedule is the arithmetic of a SavepointPolicy's schedule: when
// each parent's savepoints are due (time zone, daylight saving time,
// per-parent jitter), whether a time lies in a blackout window, and what a
// policy does for one parent at one moment. It decides; it reads no clock
// and no API, so every rule is tested with the times written down.
package schedule

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

// parser reads what Kubernetes CronJobs read: 5 fields or a descriptor
// (@every, @hourly, @daily, ...).
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Plan is a policy's schedule, parsed once.
type Plan struct {
	slots     cron.Schedule
	every     time.Duration // the delay of an @every schedule, else 0
	jitter    time.Duration
	deadline  time.Duration // 0: no deadline
	blackouts []window
}

type window struct {
	starts cron.Schedule
	length time.Duration
}

// ParseCron reads a cron expression or descriptor in loc. field names the
// field in errors, e.g. "spec.schedule".
func ParseCron(field, expr string, loc *time.Location) (cron.Schedule, error) {
	if strings.Contains(expr, "TZ=") {
		return nil, fmt.Errorf("%s %q: write the time zone in timeZone, not in the expression", field, expr)
	}
	if d, ok := strings.CutPrefix(expr, "@every "); ok {
		if every, err := time.ParseDuration(strings.TrimSpace(d)); err == nil && every < time.Second {
			return nil, fmt.Errorf("%s %q: @every needs at least 1s", field, expr)
		}
	}
	s, err := parser.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %v: use 5 fields (minute hour day-of-month month day-of-week, e.g. \"0 2 * * *\") or @every <duration> (e.g. \"@every 6h\")", field, expr, err)
	}
	switch s := s.(type) {
	case *cron.SpecSchedule:
		s.Location = loc
	}
	return s, nil
}

// LoadLocation reads an IANA time zone; empty is UTC.
func LoadLocation(field, name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%s %q is no IANA time zone: write one such as \"Europe/Berlin\" or \"UTC\"", field, name)
	}
	return loc, nil
}

// ErrNoSchedule is returned by Parse for a policy without spec.schedule.
var ErrNoSchedule = errors.New("the policy has no schedule")

// Parse reads a policy's schedule, time zone, jitter, deadline and blackout
// windows. Its error is one line that names the field and the way out.
func Parse(spec *cmfv1.SavepointPolicySpec) (*Plan, error) {
	if spec.Schedule == "" {
		return nil, ErrNoSchedule
	}
	loc, err := LoadLocation("spec.timeZone", spec.TimeZone)
	if err != nil {
		return nil, err
	}
	slots, err := ParseCron("spec.schedule", spec.Schedule, loc)
	if err != nil {
		return nil, err
	}
	p := &Plan{slots: slots}
	if every, ok := slots.(cron.ConstantDelaySchedule); ok {
		p.every = every.Delay
	}
	if spec.Jitter != nil {
		p.jitter = spec.Jitter.Duration
		if p.jitter < 0 {
			return nil, fmt.Errorf("spec.jitter %s is negative: write a duration such as 10m", p.jitter)
		}
		if p.every > 0 && p.jitter >= p.every {
			return nil, fmt.Errorf("spec.jitter %s is not shorter than the schedule's interval %s: make it shorter, e.g. half the interval", p.jitter, p.every)
		}
	}
	if spec.StartingDeadline != nil {
		p.deadline = spec.StartingDeadline.Duration
		if p.deadline <= 0 {
			return nil, fmt.Errorf("spec.startingDeadline %s must be positive: write a duration such as 1h, or leave it out to always catch up one missed run", p.deadline)
		}
	}
	for i, w := range spec.BlackoutWindows {
		field := fmt.Sprintf("spec.blackoutWindows[%d]", i)
		wloc := loc
		if w.TimeZone != "" {
			if wloc, err = LoadLocation(field+".timeZone", w.TimeZone); err != nil {
				return nil, err
			}
		}
		starts, err := ParseCron(field+".schedule", w.Schedule, wloc)
		if err != nil {
			return nil, err
		}
		if w.Duration.Duration <= 0 {
			return nil, fmt.Errorf("%s.duration %s must be positive: write how long the window lasts, e.g. 8h", field, w.Duration.Duration)
		}
		p.blackouts = append(p.blackouts, window{starts: starts, length: w.Duration.Duration})
	}
	return p, nil
}

// Offset is a parent's jitter: a fixed offset below the policy's jitter,
// derived from the namespace, policy and parent, so each parent keeps its
// own place in the spread and every replica computes the same one.
func (p *Plan) Offset(namespace, policy string, kind cmfv1.ParentKind, parent string) time.Duration {
	if p.jitter <= 0 {
		return 0
	}
	h := fnv.New64a()
	for _, s := range []string{namespace, policy, string(kind), parent} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	// Whole milliseconds: status and names carry no finer times.
	ms := p.jitter.Milliseconds()
	if ms == 0 {
		return 0
	}
	return time.Duration(h.Sum64()%uint64(ms)) * time.Millisecond
}

// Next is the first scheduled time strictly after t (without jitter), or
// the zero time when the schedule never fires again.
func (p *Plan) Next(t time.Time) time.Time {
	return p.slots.Next(t)
}

// Blackout reports whether t lies in a blackout window, and when the
// windows holding t are all over (windows that touch or overlap make one).
func (p *Plan) Blackout(t time.Time) (bool, time.Time) {
	end := p.windowEnd(t)
	if end.IsZero() {
		return false, time.Time{}
	}
	// A window that is always open would never end: look a bounded way.
	for range 1000 {
		later := p.windowEnd(end)
		if later.IsZero() {
			break
		}
		end = later
	}
	return true, end
}

// windowEnd is the latest end of the windows holding t, or zero.
func (p *Plan) windowEnd(t time.Time) time.Time {
	var end time.Time
	for _, w := range p.blackouts {
		// A window holding t started in (t-length, t]; Next answers whole
		// seconds strictly after its argument.
		for start := w.starts.Next(t.Add(-w.length).Add(-time.Second)); !start.IsZero() && !start.After(t); start = w.starts.Next(start) {
			if e := start.Add(w.length); e.After(t) && e.After(end) {
				end = e
			}
		}
	}
	return end
}
