package policy

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/schedule"
)

// TestProjectRuns: the coming runs describe shows are those the manager's
// own decisions (schedule.Decide) give: jitter added, a run in a blackout
// window held until it ends, or skipped past its deadline, or given up when
// the next run comes due first.
func TestProjectRuns(t *testing.T) {
	// Wednesday 25 November 2026, 10:00 UTC.
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	at := func(day, hour, minute int) time.Time { return time.Date(2026, 11, day, hour, minute, 0, 0, time.UTC) }
	window := func(cron string, d time.Duration) cmfv1.BlackoutWindow {
		return cmfv1.BlackoutWindow{Schedule: cron, Duration: metav1.Duration{Duration: d}}
	}
	onTime := func(due time.Time) projected { return projected{Due: due, Starts: due} }
	tests := []struct {
		name   string
		spec   cmfv1.SavepointPolicySpec
		last   time.Time // zero: now
		offset time.Duration
		n      int
		want   []projected
	}{{
		name: "daily, on time",
		spec: cmfv1.SavepointPolicySpec{Schedule: "0 2 * * *"},
		n:    3,
		want: []projected{onTime(at(26, 2, 0)), onTime(at(27, 2, 0)), onTime(at(28, 2, 0))},
	}, {
		name:   "a parent's jitter: today's 10:00 run is still to come at 10:07",
		spec:   cmfv1.SavepointPolicySpec{Schedule: "0 10 * * *", Jitter: dur(10 * time.Minute)},
		last:   at(24, 10, 0),
		offset: 7 * time.Minute,
		n:      2,
		want:   []projected{onTime(at(25, 10, 7)), onTime(at(26, 10, 7))},
	}, {
		name: "a window on Saturday holds that run until it ends",
		spec: cmfv1.SavepointPolicySpec{Schedule: "0 2 * * *", BlackoutWindows: []cmfv1.BlackoutWindow{window("0 1 * * 6", 3*time.Hour)}},
		n:    4,
		want: []projected{onTime(at(26, 2, 0)), onTime(at(27, 2, 0)), {Due: at(28, 2, 0), Starts: at(28, 4, 0)}, onTime(at(29, 2, 0))},
	}, {
		name: "a window that outlasts the starting deadline skips that run",
		spec: cmfv1.SavepointPolicySpec{Schedule: "0 2 * * *", StartingDeadline: dur(time.Hour), BlackoutWindows: []cmfv1.BlackoutWindow{window("0 1 * * 6", 3*time.Hour)}},
		n:    4,
		want: []projected{onTime(at(26, 2, 0)), onTime(at(27, 2, 0)), {Due: at(28, 2, 0), Skipped: schedule.ReasonBlackout}, onTime(at(29, 2, 0))},
	}, {
		name: "runs held until the next comes due are given up; the last is taken when the window ends",
		spec: cmfv1.SavepointPolicySpec{Schedule: "@every 1h", BlackoutWindows: []cmfv1.BlackoutWindow{window("0 11 * * *", 150*time.Minute)}},
		n:    5,
		want: []projected{
			{Due: at(25, 11, 0), Skipped: schedule.ReasonBlackout, Superseded: true},
			{Due: at(25, 12, 0), Skipped: schedule.ReasonBlackout, Superseded: true},
			{Due: at(25, 13, 0), Starts: at(25, 13, 30)},
			onTime(at(25, 14, 0)),
			onTime(at(25, 15, 0)),
		},
	}, {
		name: "windows that touch make one",
		spec: cmfv1.SavepointPolicySpec{Schedule: "0 12 * * *", BlackoutWindows: []cmfv1.BlackoutWindow{window("0 11 * * *", 2*time.Hour), window("0 13 * * *", time.Hour)}},
		n:    1,
		want: []projected{{Due: at(25, 12, 0), Starts: at(25, 14, 0)}},
	}, {
		name: "@every counts from the last run, not from now",
		spec: cmfv1.SavepointPolicySpec{Schedule: "@every 6h"},
		last: at(25, 9, 59),
		n:    2,
		want: []projected{onTime(at(25, 15, 59)), onTime(at(25, 21, 59))},
	}, {
		name: "a run due already is left to status.parents[].waiting; the next ones follow",
		spec: cmfv1.SavepointPolicySpec{Schedule: "@every 1h"},
		last: at(24, 22, 30),
		n:    2,
		want: []projected{onTime(at(25, 10, 30)), onTime(at(25, 11, 30))},
	}, {
		name: "a schedule that never fires",
		spec: cmfv1.SavepointPolicySpec{Schedule: "0 0 30 2 *"},
		n:    5,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.last.IsZero() {
				tt.last = now
			}
			plan, err := schedule.Parse(&tt.spec)
			require.NoError(t, err)
			got := projectRuns(plan, tt.last, tt.offset, now, tt.n)
			for i := range got { // compare instants, not locations
				got[i].Due, got[i].Starts = got[i].Due.UTC(), got[i].Starts.UTC()
			}
			for i := range tt.want {
				tt.want[i].Starts = tt.want[i].Starts.UTC()
			}
			assert.Equal(t, tt.want, got)
		})
	}
}
