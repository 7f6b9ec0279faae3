// Package wait is `kubectl savepoint wait`: wait for a savepoint's state.
package wait

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdutil"
)

// Options are the inputs of `kubectl savepoint wait`.
type Options struct {
	Name    string
	For     string
	Timeout time.Duration
	genericiooptions.IOStreams

	want      cmfv1.SavepointState // --for, in capitals
	namespace string
	client    client.WithWatch
}

var _ cmdutil.Options = &Options{}

// NewOptions returns the options of a plain `kubectl savepoint wait`.
func NewOptions(streams genericiooptions.IOStreams) *Options {
	return &Options{For: string(cmfv1.StateCompleted), Timeout: 5 * time.Minute, IOStreams: streams}
}

// NewCmd returns `kubectl savepoint wait`.
func NewCmd(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := NewOptions(streams)
	cmd := &cobra.Command{
		Use:   "wait NAME [--for STATE] [--timeout DURATION]",
		Short: "Wait until a savepoint reaches a state",
		Example: `  # Until COMPLETED (fails if it ends FAILED or ABANDONED instead)
  kubectl savepoint wait orders-20261125t101500-3f9a

  kubectl savepoint wait orders-20261125t101500-3f9a --for IN_PROGRESS --timeout 30s`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: cmdutil.CompleteSavepoints(f),
		RunE:              cmdutil.RunE(f, o),
	}
	cmd.Flags().StringVar(&o.For, "for", o.For, "The state to wait for.")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", o.Timeout, "How long to wait.")
	return cmd
}

// Complete takes the name, --for in capitals, the namespace and the client.
func (o *Options) Complete(f cmdutil.Factory, _ *cobra.Command, args []string) error {
	o.Name = args[0]
	o.want = cmfv1.SavepointState(strings.ToUpper(o.For))
	var err error
	o.namespace, o.client, err = cmdutil.NamespaceAndClient(f)
	return err
}

// Validate checks --for.
func (o *Options) Validate() error {
	switch o.want {
	case cmfv1.StateTriggerPending, cmfv1.StateInProgress, cmfv1.StateCompleted, cmfv1.StateFailed, cmfv1.StateAbandoned:
		return nil
	}
	return fmt.Errorf("--for %q: use TRIGGER_PENDING, IN_PROGRESS, COMPLETED, FAILED or ABANDONED", o.For)
}

// Run waits, showing each state change.
func (o *Options) Run(ctx context.Context) error {
	sp, err := cmdutil.WaitForState(ctx, o.client, client.ObjectKey{Namespace: o.namespace, Name: o.Name}, []cmfv1.SavepointState{o.want}, o.Timeout, o.ErrOut)
	if err != nil {
		return err
	}
	if sp.Status.State != o.want {
		return fmt.Errorf("savepoint %s ended %s, not %s: %s", sp.Name, sp.Status.State, o.want, sp.Status.Error)
	}
	cmdutil.Fprintf(o.Out, "savepoint/%s %s\n", sp.Name, sp.Status.State)
	return nil
}
