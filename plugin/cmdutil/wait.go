package cmdutil

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

// pollInterval is how often waits look again: small savepoints complete in
// tens of milliseconds.
const pollInterval = 100 * time.Millisecond

// terminalStates are the states a savepoint does not leave.
var terminalStates = []cmfv1.SavepointState{cmfv1.StateCompleted, cmfv1.StateFailed, cmfv1.StateAbandoned}

// WaitForState waits until the savepoint reaches one of states (or any
// terminal state, which ends the wait too), printing each state change with
// the elapsed time to progress (nil: silent). It returns the savepoint.
func WaitForState(ctx context.Context, c client.Client, key client.ObjectKey, states []cmfv1.SavepointState, timeout time.Duration, progress io.Writer) (*cmfv1.Savepoint, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	last := cmfv1.SavepointState("-")
	for {
		sp := &cmfv1.Savepoint{}
		if err := c.Get(ctx, key, sp); err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("savepoint %s still %s after %s: wait longer with --timeout", key.Name, last, timeout)
			}
			return nil, UserError(err)
		}
		state := sp.Status.State
		if state == "" {
			state = cmfv1.StateTriggerPending
		}
		if state != last && progress != nil {
			Fprintf(progress, "%6.1fs  %s\n", time.Since(start).Seconds(), describeState(sp, state))
		}
		last = state
		if slices.Contains(states, state) || slices.Contains(terminalStates, state) {
			return sp, nil
		}
		select {
		case <-ctx.Done():
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
		return fmt.Sprintf("%s  (failures: %d) %s", state, sp.Status.Failures, oneLine(sp.Status.Error))
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
