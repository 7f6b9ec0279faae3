// Package wait is `kubectl savepoint wait`: wait for a savepoint's state.
package wait

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdutil"
)

// Options are the inputs of `kubectl savepoint wait`.
type Options struct {
	*cmdutil.Factory
	Name    string
	For     string
	Timeout time.Duration

	want      cmfv1.SavepointState
	namespace string
	client    client.Client
}

// NewCmd returns `kubectl savepoint wait`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	o := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "wait NAME [--for STATE] [--timeout DURATION]",
		Short: "Wait until a savepoint reaches a state",
		Example: `  # Until COMPLETED (fails if it ends FAILED or ABANDONED instead)
  kubectl savepoint wait orders-20261125t101500-3f9a

  kubectl savepoint wait orders-20261125t101500-3f9a --for IN_PROGRESS --timeout 30s`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: cmdutil.CompleteSavepoints(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			if err := o.Validate(); err != nil {
				return err
			}
			if err := o.Complete(); err != nil {
				return err
			}
			return o.Run(cmd)
		},
	}
	cmd.Flags().StringVar(&o.For, "for", string(cmfv1.StateCompleted), "The state to wait for.")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 5*time.Minute, "How long to wait.")
	return cmd
}

// Validate checks --for.
func (o *Options) Validate() error {
	o.want = cmfv1.SavepointState(strings.ToUpper(o.For))
	switch o.want {
	case cmfv1.StateTriggerPending, cmfv1.StateInProgress, cmfv1.StateCompleted, cmfv1.StateFailed, cmfv1.StateAbandoned:
		return nil
	}
	return fmt.Errorf("--for %q: use TRIGGER_PENDING, IN_PROGRESS, COMPLETED, FAILED or ABANDONED", o.For)
}

// Complete resolves the namespace and the client.
func (o *Options) Complete() error {
	var err error
	o.namespace, o.client, err = o.NamespaceAndClient()
	return err
}

// Run waits, showing each state change.
func (o *Options) Run(cmd *cobra.Command) error {
	sp, err := cmdutil.WaitForState(cmdutil.Context(cmd), o.client, client.ObjectKey{Namespace: o.namespace, Name: o.Name}, []cmfv1.SavepointState{o.want}, o.Timeout, o.ErrOut)
	if err != nil {
		return err
	}
	if sp.Status.State != o.want {
		return fmt.Errorf("savepoint %s ended %s, not %s: %s", sp.Name, sp.Status.State, o.want, sp.Status.Error)
	}
	cmdutil.Fprintf(o.Out, "savepoint/%s %s\n", sp.Name, sp.Status.State)
	return nil
}
