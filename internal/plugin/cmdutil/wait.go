package cmdutil

import (
	"context"
	"fmt"
	"io"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"os"
	"slices"
	"time"

	"golang.org/x/term"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

// pollInterval is how often waits look again: small savepoints complete in
// tens of milliseconds.
const pollInterval = 100 * time.Millisecond

// WaitForState waits until the savepoint reaches one of states (or any
// terminal state, which ends the wait too), printing each state change with
// the elapsed time to progress (nil: silent). It returns the savepoint.
func WaitForState(ctx context.Context, c client.Client, key client.ObjectKey, states []cmfv1.SavepointState, timeout time.Duration, progress io.Writer) (*cmfv1.Savepoint, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	last := cmfv1.SavepointState("-")
	spin := newSpinner(progress)
	defer spin.clear()
	for {
		sp := &cmfv1.Savepoint{}
		if err := c.Get(ctx, key, sp); err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("savepoint %s still %s after %s: wait longer with --timeout", key.Name, last, timeout)
			}
			return nil, UserError(err)
		}
		state := sp.Status.EffectiveState()
		if state != last && progress != nil {
			spin.clear()
			Fprintf(progress, "%6.1fs  %s\n", time.Since(start).Seconds(), describeState(sp, state))
		}
		last = state
		if slices.Contains(states, state) || state.Terminal() {
			return sp, nil
		}
		spin.tick(time.Since(start), state)
		select {
		case <-ctx.Done():
			spin.clear()
			return sp, fmt.Errorf("savepoint %s still %s after %s: wait longer with --timeout, or look with kubectl savepoint describe %s", key.Name, state, timeout, key.Name)
		case <-time.After(pollInterval):
		}
	}
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
func WaitGone(ctx context.Context, c client.Client, obj client.Object, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil && ctx.Err() == nil {
			return UserError(err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s still exists after %s: wait longer with --timeout", obj.GetName(), timeout)
		case <-time.After(pollInterval):
		}
	}
}

// spinner animates a wait on a terminal, and does nothing elsewhere (logs
// and pipes get only the state changes).
type spinner struct {
	w     io.Writer
	frame int
	shown bool
}

func newSpinner(w io.Writer) *spinner {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return &spinner{w: w}
	}
	return &spinner{}
}

func (s *spinner) tick(elapsed time.Duration, state cmfv1.SavepointState) {
	if s.w == nil {
		return
	}
	frames := `|/-\`
	Fprintf(s.w, "\r%c %6.1fs  %s ", frames[s.frame%len(frames)], elapsed.Seconds(), state)
	s.frame++
	s.shown = true
}

func (s *spinner) clear() {
	if s.w == nil || !s.shown {
		return
	}
	Fprintf(s.w, "\r\033[K")
	s.shown = false
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
func WaitForRedeploy(ctx context.Context, c client.Client, obj client.Object, generation int64, timeout time.Duration, progress io.Writer) (ParentProgress, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	last := "-"
	key := client.ObjectKeyFromObject(obj)
	for {
		if err := c.Get(ctx, key, obj); err != nil {
			if ctx.Err() != nil {
				return ParentProgress{}, fmt.Errorf("%s still %s after %s: wait longer with --timeout", key.Name, last, timeout)
			}
			return ParentProgress{}, UserError(err)
		}
		p := ParentProgressOf(obj)
		current := p.Ready != nil && p.Ready.ObservedGeneration >= generation
		if current && p.Phase != last && progress != nil {
			Fprintf(progress, "%6.1fs  %s\n", time.Since(start).Seconds(), p.Phase)
			last = p.Phase
		}
		switch {
		case current && p.Ready.Status == metav1.ConditionTrue:
			return p, nil
		case current && slices.Contains(cmfv1.StaysUntilSpecChanges, p.Ready.Reason):
			return p, fmt.Errorf("%s did not start: %s", key.Name, p.Ready.Message)
		}
		select {
		case <-ctx.Done():
			return p, fmt.Errorf("%s still %s after %s: wait longer with --timeout, or look with kubectl describe %s", key.Name, last, timeout, key.Name)
		case <-time.After(pollInterval):
		}
	}
}
