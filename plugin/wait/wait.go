// Package wait is `kubectl savepoint wait`: wait for a savepoint's state.
package wait

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/plugin/cmdutil"
)

// NewCmd returns `kubectl savepoint wait`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	var forState string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "wait NAME [--for STATE] [--timeout DURATION]",
		Short: "Wait until a savepoint reaches a state",
		Example: `  # Until COMPLETED (fails if it ends FAILED or ABANDONED instead)
  kubectl savepoint wait orders-20261125t101500-3f9a

  kubectl savepoint wait orders-20261125t101500-3f9a --for IN_PROGRESS --timeout 30s`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: cmdutil.CompleteSavepoints(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			want := cmfv1.SavepointState(strings.ToUpper(forState))
			switch want {
			case cmfv1.StateTriggerPending, cmfv1.StateInProgress, cmfv1.StateCompleted, cmfv1.StateFailed, cmfv1.StateAbandoned:
			default:
				return fmt.Errorf("--for %q: use TRIGGER_PENDING, IN_PROGRESS, COMPLETED, FAILED or ABANDONED", forState)
			}
			ns, err := f.Namespace()
			if err != nil {
				return err
			}
			c, err := f.Client()
			if err != nil {
				return err
			}
			sp, err := cmdutil.WaitForState(cmdutil.Context(cmd), c, client.ObjectKey{Namespace: ns, Name: args[0]}, []cmfv1.SavepointState{want}, timeout, f.ErrOut)
			if err != nil {
				return err
			}
			if sp.Status.State != want {
				return fmt.Errorf("savepoint %s ended %s, not %s: %s", sp.Name, sp.Status.State, want, sp.Status.Error)
			}
			cmdutil.Fprintf(f.Out, "savepoint/%s %s\n", sp.Name, sp.Status.State)
			return nil
		},
	}
	cmd.Flags().StringVar(&forState, "for", string(cmfv1.StateCompleted), "The state to wait for.")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "How long to wait.")
	return cmd
}
