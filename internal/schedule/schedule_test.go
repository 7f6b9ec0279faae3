package schedule

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

func at(t *testing.T, loc, s string) time.Time {
	t.Helper()
	l, err := time.LoadLocation(loc)
	require.NoError(t, err)
	tm, err := time.ParseInLocation("2006-01-02 15:04:05", s, l)
	require.NoError(t, err)
	return tm
}

func dur(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

func plan(t *testing.T, spec cmfv1.SavepointPolicySpec) *Plan {
	t.Helper()
	p, err := Parse(&spec)
	require.NoError(t, err)
	return p
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec cmfv1.SavepointPolicySpec
		want string
	}{
		{"no schedule", cmfv1.SavepointPolicySpec{}, "no schedule"},
		{"six fields", cmfv1.SavepointPolicySpec{Schedule: "0 0 2 * * *"}, `spec.schedule "0 0 2 * * *"`},
		{"garbage", cmfv1.SavepointPolicySpec{Schedule: "nightly"}, "use 5 fields"},
		{"TZ in the expression", cmfv1.SavepointPolicySpec{Schedule: "TZ=UTC 0 2 * * *"}, "write the time zone in timeZone"},
		{"unknown zone", cmfv1.SavepointPolicySpec{Schedule: "@daily", TimeZone: "Mars/Olympus"}, `spec.timeZone "Mars/Olympus" is no IANA time zone`},
		{"sub-second every", cmfv1.SavepointPolicySpec{Schedule: "@every 500ms"}, "at least 1s"},
		{"jitter as long as the interval", cmfv1.SavepointPolicySpec{Schedule: "@every 1m", Jitter: dur(time.Minute)}, "spec.jitter 1m0s is not shorter"},
		{"negative deadline", cmfv1.SavepointPolicySpec{Schedule: "@daily", StartingDeadline: dur(-time.Second)}, "spec.startingDeadline"},
		{"window without duration", cmfv1.SavepointPolicySpec{Schedule: "@daily", BlackoutWindows: []cmfv1.BlackoutWindow{{Schedule: "0 9 * * *"}}}, "spec.blackoutWindows[0].duration"},
		{"window in a bad zone", cmfv1.SavepointPolicySpec{Schedule: "@daily", BlackoutWindows: []cmfv1.BlackoutWindow{{Schedule: "0 9 * * *", Duration: metav1.Duration{Duration: time.Hour}, TimeZone: "Nowhere"}}}, "spec.blackoutWindows[0].timeZone"},
		{"window with a bad schedule", cmfv1.SavepointPolicySpec{Schedule: "@daily", BlackoutWindows: []cmfv1.BlackoutWindow{{Schedule: "99 * * * *", Duration: metav1.Duration{Duration: time.Hour}}}}, "spec.blackoutWindows[0].schedule"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(&tc.spec)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
}

func TestNextInTimeZones(t *testing.T) {
	for _, tc := range []struct {
		name, schedule, zone, after, want string
	}{
		{"daily in UTC", "0 2 * * *", "", "2026-12-02 02:00:00", "2026-12-03 02:00:00"},
		{"daily in Berlin is 01:00 UTC in winter", "0 2 * * *", "Europe/Berlin", "2026-12-02 00:00:00", "2026-12-02 01:00:00"},
		{"daily in Berlin is 00:00 UTC in summer", "0 2 * * *", "Europe/Berlin", "2026-07-01 00:00:00", "2026-07-02 00:00:00"},
		// Spring forward: 02:30 does not exist on 2026-03-29 in Berlin; like
		// a CronJob, that day's run is not taken.
		{"a time that does not exist is not run", "30 2 * * *", "Europe/Berlin", "2026-03-28 02:00:00", "2026-03-30 00:30:00"},
		// Fall back: 02:30 occurs twice on 2026-10-25; like a CronJob
		// (the same library), both are runs.
		{"a time that occurs twice runs twice", "30 2 * * *", "Europe/Berlin", "2026-10-25 00:29:00", "2026-10-25 01:30:00"},
		{"every", "@every 90m", "", "2026-12-02 10:00:00", "2026-12-02 11:30:00"},
		{"hourly descriptor", "@hourly", "", "2026-12-02 10:20:00", "2026-12-02 11:00:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := plan(t, cmfv1.SavepointPolicySpec{Schedule: tc.schedule, TimeZone: tc.zone})
			after := at(t, "UTC", tc.after)
			got := p.Next(after)
			if tc.name == "a time that occurs twice runs twice" {
				// The first 02:30 (CEST, 00:30 UTC), then the second (CET).
				require.Equal(t, at(t, "UTC", "2026-10-25 00:30:00"), got.UTC())
				got = p.Next(got)
			}
			assert.Equal(t, at(t, "UTC", tc.want), got.UTC())
		})
	}
}

func TestOffset(t *testing.T) {
	p := plan(t, cmfv1.SavepointPolicySpec{Schedule: "0 2 * * *", Jitter: dur(10 * time.Minute)})
	seen := map[time.Duration]bool{}
	for i := range 200 {
		o := p.Offset("team-a", "nightly", cmfv1.ParentApplication, fmt.Sprintf("job-%d", i))
		require.GreaterOrEqual(t, o, time.Duration(0))
		require.Less(t, o, 10*time.Minute)
		assert.Equal(t, o, p.Offset("team-a", "nightly", cmfv1.ParentApplication, fmt.Sprintf("job-%d", i)), "the same parent keeps its offset")
		seen[o.Truncate(time.Minute)] = true
	}
	assert.Len(t, seen, 10, "200 parents spread over every minute of a 10 minute jitter")
	assert.NotEqual(t, p.Offset("team-a", "nightly", cmfv1.ParentApplication, "orders"), p.Offset("team-a", "nightly", cmfv1.ParentStatement, "orders"),
		"an application and a statement of one name are two parents")
	assert.Zero(t, plan(t, cmfv1.SavepointPolicySpec{Schedule: "@daily"}).Offset("a", "b", cmfv1.ParentApplication, "c"))
}

func TestBlackout(t *testing.T) {
	hour := metav1.Duration{Duration: time.Hour}
	p := plan(t, cmfv1.SavepointPolicySpec{Schedule: "@hourly", BlackoutWindows: []cmfv1.BlackoutWindow{
		{Schedule: "0 9 * * 1-5", Duration: metav1.Duration{Duration: 8 * time.Hour}, TimeZone: "Europe/Berlin"}, // office hours
		{Schedule: "0 17 * * 1-5", Duration: hour, TimeZone: "Europe/Berlin"},                                    // touches the first
		{Schedule: "30 20 * * *", Duration: hour},                                                                // UTC
	}})
	for _, tc := range []struct {
		name, at string
		in       bool
		end      string
	}{
		{"before the office opens", "2026-12-02 07:59:59", false, ""},
		{"at the window's start", "2026-12-02 08:00:00", true, "2026-12-02 17:00:00"},
		{"two touching windows are one", "2026-12-02 12:00:00", true, "2026-12-02 17:00:00"},
		{"the second window alone", "2026-12-02 16:30:00", true, "2026-12-02 17:00:00"},
		{"the end is outside", "2026-12-02 17:00:00", false, ""},
		{"a weekend", "2026-12-05 12:00:00", false, ""},
		{"a daily window in UTC", "2026-12-05 21:00:00", true, "2026-12-05 21:30:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, end := p.Blackout(at(t, "UTC", tc.at))
			assert.Equal(t, tc.in, in)
			if tc.in {
				assert.Equal(t, at(t, "UTC", tc.end), end.UTC())
			}
		})
	}
	always := plan(t, cmfv1.SavepointPolicySpec{Schedule: "@hourly", BlackoutWindows: []cmfv1.BlackoutWindow{{Schedule: "* * * * *", Duration: hour}}})
	in, end := always.Blackout(at(t, "UTC", "2026-12-02 12:00:00"))
	assert.True(t, in)
	assert.True(t, end.After(at(t, "UTC", "2026-12-02 13:00:00")), "a window always open ends nowhere near: the answer is bounded, not a hang")
}

func TestDecide(t *testing.T) {
	ts := func(s string) time.Time { return at(t, "UTC", s) }
	hourly := cmfv1.SavepointPolicySpec{Schedule: "@hourly"}
	withDeadline := cmfv1.SavepointPolicySpec{Schedule: "@hourly", StartingDeadline: dur(10 * time.Minute)}
	withWindow := cmfv1.SavepointPolicySpec{Schedule: "@hourly", StartingDeadline: dur(30 * time.Minute),
		BlackoutWindows: []cmfv1.BlackoutWindow{{Schedule: "50 9 * * *", Duration: metav1.Duration{Duration: 20 * time.Minute}}}}
	for _, tc := range []struct {
		name   string
		spec   cmfv1.SavepointPolicySpec
		now    string
		facts  Facts
		action Action
		reason string
		slot   string
		last   string
		missed map[string]int64
		wake   string
	}{
		{name: "nothing due", spec: hourly, now: "2026-12-02 10:30:00", facts: Facts{Last: ts("2026-12-02 10:00:00"), Running: true},
			action: Wait, last: "2026-12-02 10:00:00", wake: "2026-12-02 11:00:00"},
		{name: "due: take it", spec: hourly, now: "2026-12-02 11:00:01", facts: Facts{Last: ts("2026-12-02 10:00:00"), Running: true},
			action: Take, slot: "2026-12-02 11:00:00", last: "2026-12-02 11:00:00", missed: map[string]int64{}, wake: "2026-12-02 12:00:00"},
		{name: "jitter delays the run", spec: hourly, now: "2026-12-02 11:00:01", facts: Facts{Last: ts("2026-12-02 10:00:00"), Offset: 5 * time.Minute, Running: true},
			action: Wait, last: "2026-12-02 10:00:00", wake: "2026-12-02 11:05:00"},
		{name: "jitter: due at the offset", spec: hourly, now: "2026-12-02 11:05:00", facts: Facts{Last: ts("2026-12-02 10:00:00"), Offset: 5 * time.Minute, Running: true},
			action: Take, slot: "2026-12-02 11:00:00", last: "2026-12-02 11:00:00", missed: map[string]int64{}, wake: "2026-12-02 12:05:00"},
		{name: "manager down 3 runs: one catch-up, two counted", spec: hourly, now: "2026-12-02 13:20:00", facts: Facts{Last: ts("2026-12-02 10:00:00"), Running: true},
			action: Take, slot: "2026-12-02 13:00:00", last: "2026-12-02 13:00:00", missed: map[string]int64{ReasonMissedDeadline: 2}, wake: "2026-12-02 14:00:00"},
		{name: "missed by more than the deadline: skipped", spec: withDeadline, now: "2026-12-02 11:20:00", facts: Facts{Last: ts("2026-12-02 10:00:00"), Running: true},
			action: Skip, reason: ReasonMissedDeadline, slot: "2026-12-02 11:00:00", last: "2026-12-02 11:00:00", missed: map[string]int64{}, wake: "2026-12-02 12:00:00"},
		{name: "within the deadline: taken late", spec: withDeadline, now: "2026-12-02 11:09:00", facts: Facts{Last: ts("2026-12-02 10:00:00"), Running: true},
			action: Take, slot: "2026-12-02 11:00:00", last: "2026-12-02 11:00:00", missed: map[string]int64{}, wake: "2026-12-02 12:00:00"},
		{name: "in flight: skipped", spec: hourly, now: "2026-12-02 11:00:01", facts: Facts{Last: ts("2026-12-02 10:00:00"), Running: true, InFlight: true},
			action: Skip, reason: ReasonInFlight, slot: "2026-12-02 11:00:00", last: "2026-12-02 11:00:00", missed: map[string]int64{}, wake: "2026-12-02 12:00:00"},
		{name: "not running: held, the last run unchanged", spec: hourly, now: "2026-12-02 11:00:01", facts: Facts{Last: ts("2026-12-02 10:00:00")},
			action: Hold, reason: ReasonNotRunning, slot: "2026-12-02 11:00:00", last: "2026-12-02 10:00:00", missed: map[string]int64{}, wake: "2026-12-02 12:00:00"},
		{name: "not running past the next run: counted as not running", spec: hourly, now: "2026-12-02 12:00:01", facts: Facts{Last: ts("2026-12-02 10:00:00"), Waiting: ReasonNotRunning},
			action: Hold, reason: ReasonNotRunning, slot: "2026-12-02 12:00:00", last: "2026-12-02 11:00:00", missed: map[string]int64{ReasonNotRunning: 1}, wake: "2026-12-02 13:00:00"},
		{name: "not running until the deadline: skipped as not running", spec: withDeadline, now: "2026-12-02 11:10:01", facts: Facts{Last: ts("2026-12-02 10:00:00"), Waiting: ReasonNotRunning},
			action: Skip, reason: ReasonNotRunning, slot: "2026-12-02 11:00:00", last: "2026-12-02 11:00:00", missed: map[string]int64{}, wake: "2026-12-02 12:00:00"},
		{name: "running again within the deadline: taken", spec: withDeadline, now: "2026-12-02 11:08:00", facts: Facts{Last: ts("2026-12-02 10:00:00"), Waiting: ReasonNotRunning, Running: true},
			action: Take, slot: "2026-12-02 11:00:00", last: "2026-12-02 11:00:00", missed: map[string]int64{}, wake: "2026-12-02 12:00:00"},
		{name: "held by a window until its end", spec: withWindow, now: "2026-12-02 10:00:01", facts: Facts{Last: ts("2026-12-02 09:00:00"), Running: true},
			action: Hold, reason: ReasonBlackout, slot: "2026-12-02 10:00:00", last: "2026-12-02 09:00:00", missed: map[string]int64{}, wake: "2026-12-02 10:10:00"},
		{name: "taken when the window ends, within the deadline", spec: withWindow, now: "2026-12-02 10:10:00", facts: Facts{Last: ts("2026-12-02 09:00:00"), Waiting: ReasonBlackout, Running: true},
			action: Take, slot: "2026-12-02 10:00:00", last: "2026-12-02 10:00:00", missed: map[string]int64{}, wake: "2026-12-02 11:00:00"},
		{name: "a window outlasting the deadline: skipped as blackout", spec: withWindow, now: "2026-12-02 10:31:00", facts: Facts{Last: ts("2026-12-02 09:00:00"), Waiting: ReasonBlackout, Running: true},
			action: Skip, reason: ReasonBlackout, slot: "2026-12-02 10:00:00", last: "2026-12-02 10:00:00", missed: map[string]int64{}, wake: "2026-12-02 11:00:00"},
		{name: "suspended: runs go by uncounted", spec: hourly, now: "2026-12-02 13:20:00", facts: Facts{Last: ts("2026-12-02 10:00:00"), Suspended: true, Running: true},
			action: Wait, slot: "2026-12-02 13:00:00", last: "2026-12-02 13:00:00", wake: "2026-12-02 14:00:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := plan(t, tc.spec).Decide(ts(tc.now), tc.facts)
			assert.Equal(t, tc.action, d.Action, "action")
			assert.Equal(t, tc.reason, d.Reason, "reason")
			if tc.slot != "" {
				assert.Equal(t, ts(tc.slot), d.Slot.UTC(), "slot")
			}
			assert.Equal(t, ts(tc.last), d.Last.UTC(), "last")
			assert.Equal(t, tc.missed, d.Missed, "missed")
			assert.Equal(t, ts(tc.wake), d.Wake.UTC(), "wake")
		})
	}
}

func TestDecideEveryAfterALongOutage(t *testing.T) {
	p := plan(t, cmfv1.SavepointPolicySpec{Schedule: "@every 3s"})
	last := at(t, "UTC", "2026-12-01 00:00:00")
	d := p.Decide(last.Add(24*time.Hour+time.Second), Facts{Last: last, Running: true})
	assert.Equal(t, Take, d.Action)
	assert.Equal(t, last.Add(24*time.Hour), d.Slot)
	assert.Equal(t, int64(24*3600/3-1), d.Missed[ReasonMissedDeadline])
}
