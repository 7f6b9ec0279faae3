package cmdutil

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

// The waits below watch their one object (see watchObject): the API server
// tells them of each change as it happens, and nothing is asked in between.
// A wait that ends by its timeout (or its context) says what it waited for
// and how to wait longer.

// WaitForState waits until the savepoint reaches one of states (or any
// terminal state, which ends the wait too), printing each state change with
// the elapsed time to progress (nil: silent; a spinner on a terminal). It
// returns the savepoint as last read.
func WaitForState(ctx context.Context, c client.WithWatch, key client.ObjectKey, states []cmfv1.SavepointState, timeout time.Duration, progress io.Writer) (*cmfv1.Savepoint, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	spin := startSpinner(progress, start)
	defer spin.stop()
	var read *cmfv1.Savepoint
	last := cmfv1.SavepointState("-")
	changed := func(sp *cmfv1.Savepoint) (bool, error) {
		read = sp
		state := sp.Status.EffectiveState()
		if state != last {
			spin.printf("%6.1fs  %s\n", time.Since(start).Seconds(), describeState(sp, state))
		}
		last = state
		spin.show(string(state))
		return slices.Contains(states, state) || state.Terminal(), nil
	}
	sp := &cmfv1.Savepoint{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	err := watchObject(ctx, c, sp, changed, func() (bool, error) { return false, notFound(c, sp) })
	switch {
	case err == nil:
		return read, nil
	case ctx.Err() != nil && read == nil:
		return nil, fmt.Errorf("savepoint %s still %s after %s: wait longer with --timeout", key.Name, last, timeout)
	case ctx.Err() != nil:
		return read, fmt.Errorf("savepoint %s still %s after %s: wait longer with --timeout, or look with kubectl savepoint describe %s", key.Name, last, timeout, key.Name)
	}
	return read, UserError(err)
}

func describeState(sp *cmfv1.Savepoint, state cmfv1.SavepointState) string {
	switch {
	case state == cmfv1.StateCompleted:
		return fmt.Sprintf("%s  %s", state, sp.Status.Path)
	case sp.Status.Error != "":
		return fmt.Sprintf("%s  (failures: %d) %s", state, sp.Status.Failures, OneLine(sp.Status.Error))
	}
	return string(state)
}

// WaitGone waits until obj no longer exists.
func WaitGone(ctx context.Context, c client.WithWatch, obj client.Object, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stays := func(client.Object) (bool, error) { return false, nil }
	err := watchObject(ctx, c, obj, stays, func() (bool, error) { return true, nil })
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("%s still exists after %s: wait longer with --timeout", obj.GetName(), timeout)
	}
	return UserError(err)
}

// ParentProgress is what WaitForRedeploy reads of a parent.
type ParentProgress struct {
	// Ready is the parent's Ready condition, if any.
	Ready *metav1.Condition
	// Phase is its lifecycleState or phase; JobID, JobState and
	// RestoredFrom its job.
	Phase, JobID, JobState, RestoredFrom string
}

// JobRuns reports whether the parent's job runs: its jobStatus.state or its
// phase says RUNNING.
func (p ParentProgress) JobRuns() bool {
	return p.JobState == "RUNNING" || p.Phase == "RUNNING"
}

// ParentProgressOf reads a FlinkApplication or a Statement.
func ParentProgressOf(obj client.Object) ParentProgress {
	p, ok := obj.(cmfv1.Parent)
	if !ok {
		return ParentProgress{}
	}
	job := p.ObservedJob()
	return ParentProgress{meta.FindStatusCondition(*p.StatusConditions(), cmfv1.ConditionReady), p.Phase(), job.JobID, job.State, job.RestoredFrom}
}

// WaitForRedeploy waits until the parent, at generation or later, is Ready
// (its new job runs), printing each phase with the elapsed time to
// progress. A failure the manager will not retry ends the wait with its
// message.
func WaitForRedeploy(ctx context.Context, c client.WithWatch, parent client.Object, generation int64, timeout time.Duration, progress io.Writer) (ParentProgress, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	name := parent.GetName()
	last := "-"
	read := false
	var p ParentProgress
	changed := func(obj client.Object) (bool, error) {
		read = true
		p = ParentProgressOf(obj)
		current := p.Ready != nil && p.Ready.ObservedGeneration >= generation
		if current && p.Phase != last && progress != nil {
			Fprintf(progress, "%6.1fs  %s\n", time.Since(start).Seconds(), p.Phase)
			last = p.Phase
		}
		switch {
		case current && p.Ready.Status == metav1.ConditionTrue:
			return true, nil
		case current && slices.Contains(cmfv1.StaysUntilSpecChanges, p.Ready.Reason):
			return true, fmt.Errorf("%s did not start: %s", name, p.Ready.Message)
		}
		return false, nil
	}
	err := watchObject(ctx, c, parent, changed, func() (bool, error) { return false, notFound(c, parent) })
	switch {
	case err == nil:
		return p, nil
	case ctx.Err() != nil && !read:
		return ParentProgress{}, fmt.Errorf("%s still %s after %s: wait longer with --timeout", name, last, timeout)
	case ctx.Err() != nil:
		return p, fmt.Errorf("%s still %s after %s: wait longer with --timeout, or look with kubectl describe %s", name, last, timeout, name)
	}
	return p, UserError(err)
}

// WaitForRunRequest waits until the manager has carried out the run request
// token on the SavepointPolicy key (its status.lastRunRequest says token),
// printing the elapsed time once it has to progress. It returns the policy
// as last read.
func WaitForRunRequest(ctx context.Context, c client.WithWatch, key client.ObjectKey, token string, timeout time.Duration, progress io.Writer) (*cmfv1.SavepointPolicy, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	spin := startSpinner(progress, start)
	defer spin.stop()
	var read *cmfv1.SavepointPolicy
	changed := func(p *cmfv1.SavepointPolicy) (bool, error) {
		read = p
		if p.Status.LastRunRequest == token {
			spin.printf("%6.1fs  run request carried out\n", time.Since(start).Seconds())
			return true, nil
		}
		spin.show("waiting for the manager")
		return false, nil
	}
	policy := &cmfv1.SavepointPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	err := watchObject(ctx, c, policy, changed, func() (bool, error) { return false, notFound(c, policy) })
	switch {
	case err == nil:
		return read, nil
	case ctx.Err() != nil:
		return read, fmt.Errorf("savepointpolicy %s has not carried out run request %s after %s: wait longer with --timeout, or look with kubectl savepoint policy describe %s", key.Name, token, timeout, key.Name)
	}
	return read, UserError(err)
}
