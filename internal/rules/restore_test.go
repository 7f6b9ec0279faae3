package rules

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

func TestRestorePoint(t *testing.T) {
	at := func(min int) *metav1.Time { return &metav1.Time{Time: time.Date(2026, 12, 1, 10, min, 0, 0, time.UTC)} }
	savepoint := func(name, parentKind, parent, path string, done int) cmfv1.Savepoint {
		sp := cmfv1.Savepoint{
			ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name)},
			Status:     cmfv1.SavepointStatus{State: cmfv1.StateCompleted, Path: path, ResultTimestamp: at(done)},
		}
		if parentKind == "app" {
			sp.Spec.Application = parent
		} else {
			sp.Spec.Statement = parent
		}
		return sp
	}
	older := savepoint("older", "app", "orders", "s3://b/sp/savepoint-1", 1)
	newest := savepoint("newest", "app", "orders", "s3://b/sp/savepoint-2", 2)
	stmtSP := savepoint("clicks-sp", "stmt", "clicks", "file:/sp/savepoint-3", 3)
	siblings := []cmfv1.Savepoint{older, newest}

	app := func(change func(*cmfv1.FlinkApplication)) cmfv1.FlinkApplication {
		a := cmfv1.FlinkApplication{
			ObjectMeta: metav1.ObjectMeta{Name: "orders"},
			Spec:       cmfv1.FlinkApplicationSpec{Job: &cmfv1.JobSpec{State: cmfv1.JobRunning}},
			Status:     cmfv1.FlinkApplicationStatus{JobStatus: cmfv1.JobStatus{State: "RUNNING"}},
		}
		if change != nil {
			change(&a)
		}
		return a
	}
	suspended := func(a *cmfv1.FlinkApplication) {
		a.Spec.Job.State = cmfv1.JobSuspended
		a.Status.JobStatus.State = "FINISHED"
	}
	running := app(nil)

	tests := []struct {
		name     string
		sp       cmfv1.Savepoint
		siblings []cmfv1.Savepoint
		parents  Parents
		want     string
	}{
		{"a running parent's savepoint is no restore point", older, siblings, Parents{Applications: []cmfv1.FlinkApplication{running}}, ""},
		{"the resume path of a suspended parent", older, siblings, Parents{Applications: []cmfv1.FlinkApplication{app(func(a *cmfv1.FlinkApplication) {
			suspended(a)
			a.Status.Session = &cmfv1.SessionStatus{ResumeFrom: "s3://b/sp/savepoint-1/"}
		})}}, "FlinkApplication orders will resume from it (status.session.resumeFrom)"},
		{"the newest COMPLETED savepoint of a suspended parent", newest, siblings, Parents{Applications: []cmfv1.FlinkApplication{app(suspended)}}, "FlinkApplication orders will resume from it (its newest COMPLETED savepoint)"},
		{"an older one of a suspended parent without a resume path", older, siblings, Parents{Applications: []cmfv1.FlinkApplication{app(suspended)}}, ""},
		{"the operator's upgrade savepoint", older, siblings, Parents{Applications: []cmfv1.FlinkApplication{app(func(a *cmfv1.FlinkApplication) {
			suspended(a)
			a.Status.Operator = &cmfv1.OperatorStatus{AdoptedUpgradeSavepointPath: "s3://b/sp/savepoint-1"}
		})}}, "FlinkApplication orders will resume from it (the Flink Kubernetes Operator's upgrade savepoint)"},
		{"another application starts from it by name", older, siblings, Parents{Applications: []cmfv1.FlinkApplication{running, app(func(a *cmfv1.FlinkApplication) {
			a.Name = "orders-v2"
			a.Spec.Job.StartFromSavepoint = &cmfv1.StartFromSavepoint{SavepointName: "older"}
		})}}, "FlinkApplication orders-v2 starts from it (spec.job.startFromSavepoint)"},
		{"by uid", older, siblings, Parents{Applications: []cmfv1.FlinkApplication{app(func(a *cmfv1.FlinkApplication) {
			a.Spec.Job.StartFromSavepoint = &cmfv1.StartFromSavepoint{UID: "uid-older"}
		})}}, "FlinkApplication orders starts from it (spec.job.startFromSavepoint)"},
		{"by path", older, siblings, Parents{Applications: []cmfv1.FlinkApplication{app(func(a *cmfv1.FlinkApplication) {
			a.Spec.Job.StartFromSavepoint = &cmfv1.StartFromSavepoint{InitialSavepointPath: "s3://b/sp/savepoint-1"}
		})}}, "FlinkApplication orders starts from it (spec.job.startFromSavepoint)"},
		{"job.initialSavepointPath", older, siblings, Parents{Applications: []cmfv1.FlinkApplication{app(func(a *cmfv1.FlinkApplication) {
			a.Spec.Job.InitialSavepointPath = "s3://b/sp/savepoint-1"
		})}}, "FlinkApplication orders starts from it (spec.job.initialSavepointPath)"},
		{"a stopped statement's newest savepoint", stmtSP, []cmfv1.Savepoint{stmtSP}, Parents{Statements: []cmfv1.Statement{{
			ObjectMeta: metav1.ObjectMeta{Name: "clicks"}, Spec: cmfv1.StatementSpec{Stopped: true},
		}}}, "Statement clicks will resume from it (its newest COMPLETED savepoint)"},
		{"the resume path of a job that does not run (lost, failed)", older, siblings, Parents{Applications: []cmfv1.FlinkApplication{app(func(a *cmfv1.FlinkApplication) {
			a.Status.JobStatus.State = "FAILED"
			a.Status.Session = &cmfv1.SessionStatus{ResumeFrom: "s3://b/sp/savepoint-1"}
		})}}, "FlinkApplication orders will resume from it (status.session.resumeFrom)"},
		{"the resume path of a running job is no restore point", older, siblings, Parents{Applications: []cmfv1.FlinkApplication{app(func(a *cmfv1.FlinkApplication) {
			a.Status.Session = &cmfv1.SessionStatus{ResumeFrom: "s3://b/sp/savepoint-1"}
		})}}, ""},
		{"a statement starting from its own savepoint", stmtSP, []cmfv1.Savepoint{stmtSP, savepoint("later", "stmt", "clicks", "file:/sp/savepoint-4", 9)}, Parents{Statements: []cmfv1.Statement{{
			ObjectMeta: metav1.ObjectMeta{Name: "clicks"},
			Spec:       cmfv1.StatementSpec{StartFromSavepoint: &cmfv1.StartFromSavepoint{SavepointName: "clicks-sp"}},
			Status:     cmfv1.StatementStatus{JobStatus: cmfv1.JobStatus{State: "RUNNING"}},
		}}}, "Statement clicks starts from it (spec.startFromSavepoint)"},
		{"not COMPLETED: nothing to keep", func() cmfv1.Savepoint { s := newest; s.Status.State = cmfv1.StateFailed; return s }(), siblings, Parents{Applications: []cmfv1.FlinkApplication{app(suspended)}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, RestorePoint(&tt.sp, tt.siblings, tt.parents))
		})
	}
}
