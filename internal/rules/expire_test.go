package rules

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

func TestExpired(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	// sp makes a COMPLETED savepoint of app "orders" that completed hoursAgo.
	sp := func(name string, origin cmfv1.SavepointOrigin, hoursAgo int, edit ...func(*cmfv1.Savepoint)) cmfv1.Savepoint {
		done := metav1.NewTime(now.Add(-time.Duration(hoursAgo) * time.Hour))
		s := cmfv1.Savepoint{
			ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name), CreationTimestamp: done},
			Spec:       cmfv1.SavepointSpec{Application: "orders"},
			Status:     cmfv1.SavepointStatus{State: cmfv1.StateCompleted, Path: "file:/sp/" + name, Origin: origin, ResultTimestamp: &done},
		}
		for _, e := range edit {
			e(&s)
		}
		return s
	}
	keep := func(n int32) *int32 { return &n }
	periodic := func(n int) []cmfv1.Savepoint {
		var out []cmfv1.Savepoint
		for i := range n {
			out = append(out, sp(fmt.Sprintf("p%d", i), cmfv1.OriginPeriodic, i+1))
		}
		return out
	}
	running := cmfv1.FlinkApplication{ObjectMeta: metav1.ObjectMeta{Name: "orders"},
		Spec:   cmfv1.FlinkApplicationSpec{Job: &cmfv1.JobSpec{State: cmfv1.JobRunning}},
		Status: cmfv1.FlinkApplicationStatus{JobStatus: cmfv1.JobStatus{State: "RUNNING"}}}
	parents := Parents{Applications: []cmfv1.FlinkApplication{running}}
	for _, tc := range []struct {
		name      string
		retention *cmfv1.Retention
		siblings  []cmfv1.Savepoint
		want      []string
	}{
		{"no retention", nil, periodic(5), nil},
		{"retention without a rule", &cmfv1.Retention{}, periodic(5), nil},
		{"keepLast 2 of 5", &cmfv1.Retention{KeepLast: keep(2)}, periodic(5), []string{"p2", "p3", "p4"}},
		{"maxAge 3h", &cmfv1.Retention{MaxAge: &metav1.Duration{Duration: 3*time.Hour + time.Minute}}, periodic(5), []string{"p3", "p4"}},
		{"either rule is enough", &cmfv1.Retention{KeepLast: keep(4), MaxAge: &metav1.Duration{Duration: 150 * time.Minute}}, periodic(5), []string{"p2", "p3", "p4"}},
		{"MANUAL and IMPORTED stay, and do not count",
			&cmfv1.Retention{KeepLast: keep(1)},
			append(periodic(3), sp("m", cmfv1.OriginManual, 10), sp("i", cmfv1.OriginImported, 11)),
			[]string{"p1", "p2"}},
		{"the newest of all stays even past maxAge", &cmfv1.Retention{MaxAge: &metav1.Duration{Duration: time.Minute}}, periodic(3), []string{"p1", "p2"}},
		{"the newest is a MANUAL one: keepLast still keeps that many periodic",
			&cmfv1.Retention{KeepLast: keep(1)},
			append(periodic(3), sp("m", cmfv1.OriginManual, 0)),
			[]string{"p1", "p2"}},
		{"UPGRADE only when named",
			&cmfv1.Retention{KeepLast: keep(1)},
			append(periodic(2), sp("u", cmfv1.OriginUpgrade, 5)),
			[]string{"p1"}},
		{"UPGRADE named",
			&cmfv1.Retention{KeepLast: keep(1), Origins: []cmfv1.RetentionOrigin{"PERIODIC", "UPGRADE"}},
			append(periodic(2), sp("u", cmfv1.OriginUpgrade, 5)),
			[]string{"p1", "u"}},
		{"in flight, failed and abandoned are not retention's",
			&cmfv1.Retention{KeepLast: keep(1)},
			append(periodic(2),
				sp("pending", cmfv1.OriginPeriodic, 9, func(s *cmfv1.Savepoint) { s.Status.State, s.Status.Path = cmfv1.StateTriggerPending, "" }),
				sp("running", cmfv1.OriginPeriodic, 9, func(s *cmfv1.Savepoint) { s.Status.State, s.Status.Path = cmfv1.StateInProgress, "" }),
				sp("failed", cmfv1.OriginPeriodic, 9, func(s *cmfv1.Savepoint) { s.Status.State, s.Status.Path = cmfv1.StateFailed, "" })),
			[]string{"p1"}},
		{"one already being deleted is not deleted again, but counts",
			&cmfv1.Retention{KeepLast: keep(2)},
			[]cmfv1.Savepoint{sp("p0", cmfv1.OriginPeriodic, 1), sp("p1", cmfv1.OriginPeriodic, 2, func(s *cmfv1.Savepoint) { s.DeletionTimestamp = &metav1.Time{Time: now} }), sp("p2", cmfv1.OriginPeriodic, 3)},
			[]string{"p2"}},
		{"a restore point stays",
			&cmfv1.Retention{KeepLast: keep(1)},
			periodic(3),
			[]string{"p2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps := parents
			if tc.name == "a restore point stays" {
				app := running.DeepCopy()
				app.Spec.Job.StartFromSavepoint = &cmfv1.StartFromSavepoint{SavepointName: "p1"}
				ps = Parents{Applications: []cmfv1.FlinkApplication{*app}}
			}
			var got []string
			for _, sp := range Expired(tc.retention, tc.siblings, ps, now) {
				got = append(got, sp.Name)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}
