package cmdutil_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdtesting"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdutil"
)

const ns = "team-a"

func savepoint(name string, status cmfv1.SavepointStatus) *cmfv1.Savepoint {
	return &cmfv1.Savepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       cmfv1.SavepointSpec{Application: "orders"},
		Status:     status,
	}
}

// setState is the manager writing the savepoint's status.
func setState(name string, status cmfv1.SavepointStatus) cmdtesting.Change {
	return cmdtesting.SavepointBecomes(client.ObjectKey{Namespace: ns, Name: name}, status)
}

func deleteSavepoint(name string) cmdtesting.Change {
	return func(c client.Client) error {
		return c.Delete(context.Background(), savepoint(name, cmfv1.SavepointStatus{}))
	}
}

func TestWaitForState(t *testing.T) {
	completed := cmfv1.SavepointStatus{State: cmfv1.StateCompleted, Path: "s3://flink/savepoints/savepoint-1"}
	tests := []struct {
		name    string
		objs    []client.Object
		changes []cmdtesting.Change
		want    cmfv1.SavepointState
		timeout time.Duration

		wantState    cmfv1.SavepointState // of the savepoint returned; "" none
		wantProgress []string             // without the elapsed time
		wantErr      string
	}{{
		name:      "already there: no watch needed",
		objs:      []client.Object{savepoint("sp", completed)},
		want:      cmfv1.StateCompleted,
		wantState: cmfv1.StateCompleted, wantProgress: []string{"COMPLETED  s3://flink/savepoints/savepoint-1"},
	}, {
		name: "each state change is shown once, as it happens",
		objs: []client.Object{savepoint("sp", cmfv1.SavepointStatus{})},
		changes: []cmdtesting.Change{
			setState("sp", cmfv1.SavepointStatus{State: cmfv1.StateInProgress}),
			setState("sp", cmfv1.SavepointStatus{State: cmfv1.StateInProgress, TriggerID: "t1"}),
			setState("sp", completed),
		},
		want:      cmfv1.StateCompleted,
		wantState: cmfv1.StateCompleted, wantProgress: []string{"TRIGGER_PENDING", "IN_PROGRESS", "COMPLETED  s3://flink/savepoints/savepoint-1"},
	}, {
		name: "a terminal state ends the wait, with its error in one line",
		objs: []client.Object{savepoint("sp", cmfv1.SavepointStatus{State: cmfv1.StateInProgress})},
		changes: []cmdtesting.Change{
			setState("sp", cmfv1.SavepointStatus{State: cmfv1.StateFailed, Failures: 1, Error: "java.io.IOException: disk full\n\tat x"}),
		},
		want:      cmfv1.StateCompleted,
		wantState: cmfv1.StateFailed, wantProgress: []string{"IN_PROGRESS", "FAILED  (failures: 1) java.io.IOException: disk full"},
	}, {
		name: "a neighbour's change is not this savepoint's",
		objs: []client.Object{savepoint("sp", cmfv1.SavepointStatus{State: cmfv1.StateInProgress}), savepoint("other", cmfv1.SavepointStatus{})},
		changes: []cmdtesting.Change{
			setState("other", completed),
		},
		want: cmfv1.StateCompleted, timeout: 300 * time.Millisecond,
		wantState: cmfv1.StateInProgress, wantProgress: []string{"IN_PROGRESS"},
		wantErr: "savepoint sp still IN_PROGRESS after 300ms: wait longer with --timeout, or look with kubectl savepoint describe sp",
	}, {
		name:    "no such savepoint",
		want:    cmfv1.StateCompleted,
		wantErr: `savepoints.cmf.confluent.io "sp" not found`,
	}, {
		name:         "deleted while waited for",
		objs:         []client.Object{savepoint("sp", cmfv1.SavepointStatus{State: cmfv1.StateInProgress})},
		changes:      []cmdtesting.Change{deleteSavepoint("sp")},
		want:         cmfv1.StateCompleted,
		wantState:    cmfv1.StateInProgress,
		wantProgress: []string{"IN_PROGRESS"},
		wantErr:      `savepoints.cmf.confluent.io "sp" not found`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := cmdtesting.NewFactory(ns, tt.objs...)
			c, err := f.Client()
			require.NoError(t, err)
			f.Later(t, tt.changes...)
			timeout := tt.timeout
			if timeout == 0 {
				timeout = time.Minute
			}
			var progress bytes.Buffer
			sp, err := cmdutil.WaitForState(context.Background(), c, client.ObjectKey{Namespace: ns, Name: "sp"}, []cmfv1.SavepointState{tt.want}, timeout, &progress)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			if tt.wantState == "" {
				assert.Nil(t, sp)
			} else {
				require.NotNil(t, sp)
				assert.Equal(t, tt.wantState, sp.Status.State)
			}
			assert.Equal(t, tt.wantProgress, cmdtesting.Lines(progress.String()))
			assert.Regexp(t, `^( +\d+\.\ds  .*\n)*$`, progress.String(), "each line starts with the elapsed time")
		})
	}
}

func TestWaitForStateSilent(t *testing.T) {
	f := cmdtesting.NewFactory(ns, savepoint("sp", cmfv1.SavepointStatus{State: cmfv1.StateAbandoned}))
	c, err := f.Client()
	require.NoError(t, err)
	sp, err := cmdutil.WaitForState(context.Background(), c, client.ObjectKey{Namespace: ns, Name: "sp"}, []cmfv1.SavepointState{cmfv1.StateCompleted}, time.Minute, nil)
	require.NoError(t, err)
	assert.Equal(t, cmfv1.StateAbandoned, sp.Status.State)
}

func TestWaitGone(t *testing.T) {
	tests := []struct {
		name    string
		objs    []client.Object
		changes []cmdtesting.Change
		wantErr string
	}{
		{name: "already gone"},
		{name: "deleted while waited for", objs: []client.Object{savepoint("sp", cmfv1.SavepointStatus{})}, changes: []cmdtesting.Change{deleteSavepoint("sp")}},
		{name: "a neighbour's deletion is not this savepoint's",
			objs:    []client.Object{savepoint("sp", cmfv1.SavepointStatus{}), savepoint("other", cmfv1.SavepointStatus{})},
			changes: []cmdtesting.Change{deleteSavepoint("other")},
			wantErr: "sp still exists after 300ms: wait longer with --timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := cmdtesting.NewFactory(ns, tt.objs...)
			c, err := f.Client()
			require.NoError(t, err)
			f.Later(t, tt.changes...)
			err = cmdutil.WaitGone(context.Background(), c, savepoint("sp", cmfv1.SavepointStatus{}), 300*time.Millisecond)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
		})
	}
}

func application(generation int64, phase string, ready *metav1.Condition) *cmfv1.FlinkApplication {
	app := &cmfv1.FlinkApplication{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orders", Generation: generation},
		Status:     cmfv1.FlinkApplicationStatus{LifecycleState: phase, JobStatus: cmfv1.JobStatus{JobID: "j2", State: phase, RestoredFrom: "s3://x"}},
	}
	if ready != nil {
		app.Status.Conditions = []metav1.Condition{*ready}
	}
	return app
}

func ready(status metav1.ConditionStatus, generation int64, reason, message string) *metav1.Condition {
	return &metav1.Condition{Type: cmfv1.ConditionReady, Status: status, ObservedGeneration: generation, Reason: reason, Message: message}
}

func TestWaitForRedeploy(t *testing.T) {
	update := func(app *cmfv1.FlinkApplication) cmdtesting.Change {
		return func(c client.Client) error {
			current := &cmfv1.FlinkApplication{}
			if err := c.Get(context.Background(), client.ObjectKeyFromObject(app), current); err != nil {
				return err
			}
			current.Status = app.Status
			return c.Update(context.Background(), current)
		}
	}
	tests := []struct {
		name    string
		app     *cmfv1.FlinkApplication
		changes []cmdtesting.Change
		timeout time.Duration // default a minute: a wait that ends by itself

		wantJob      string
		wantProgress []string // without the elapsed time
		wantErr      string
	}{{
		name: "the new generation runs: each phase, then the job",
		app:  application(2, "RUNNING", ready(metav1.ConditionTrue, 1, cmfv1.ReasonRunning, "")),
		changes: []cmdtesting.Change{
			update(application(2, "DEPLOYING", ready(metav1.ConditionFalse, 2, cmfv1.ReasonDeploying, ""))),
			update(application(2, "RUNNING", ready(metav1.ConditionTrue, 2, cmfv1.ReasonRunning, ""))),
		},
		wantJob: "j2", wantProgress: []string{"DEPLOYING", "RUNNING"},
	}, {
		name: "a failure the manager will not retry ends the wait with its message",
		app:  application(2, "DEPLOYING", ready(metav1.ConditionFalse, 2, cmfv1.ReasonDeploying, "")),
		changes: []cmdtesting.Change{
			update(application(2, "FAILED", ready(metav1.ConditionFalse, 2, cmfv1.ReasonJobFinished, "the job finished"))),
		},
		wantProgress: []string{"DEPLOYING", "FAILED"},
		wantErr:      "orders did not start: the job finished",
	}, {
		name:    "the old generation's Ready says nothing of the new job",
		app:     application(2, "RUNNING", ready(metav1.ConditionTrue, 1, cmfv1.ReasonRunning, "")),
		timeout: 300 * time.Millisecond,
		wantErr: "orders still - after 300ms: wait longer with --timeout, or look with kubectl describe orders",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := cmdtesting.NewFactory(ns, tt.app)
			c, err := f.Client()
			require.NoError(t, err)
			f.Later(t, tt.changes...)
			timeout := tt.timeout
			if timeout == 0 {
				timeout = time.Minute
			}
			var progress bytes.Buffer
			p, err := cmdutil.WaitForRedeploy(context.Background(), c, &cmfv1.FlinkApplication{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orders"}}, 2, timeout, &progress)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tt.wantJob, p.JobID)
			}
			assert.Equal(t, tt.wantProgress, cmdtesting.Lines(progress.String()))
			assert.Regexp(t, `^( +\d+\.\ds  .*\n)*$`, progress.String(), "each line starts with the elapsed time")
		})
	}
}
