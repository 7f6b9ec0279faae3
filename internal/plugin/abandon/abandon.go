// Package abandon is `kubectl savepoint abandon`: stop a savepoint's
// triggers and retries.
package abandon

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdutil"
)

// Options are the inputs of `kubectl savepoint abandon`.
type Options struct {
	Names  []string
	DryRun cmdutil.DryRun
	genericiooptions.IOStreams

	namespace string
	client    client.Client
}

var _ cmdutil.Options = &Options{}

// NewOptions returns the options of a plain `kubectl savepoint abandon`.
func NewOptions(streams genericiooptions.IOStreams) *Options {
	return &Options{DryRun: "none", IOStreams: streams}
}

// NewCmd returns `kubectl savepoint abandon`.
func NewCmd(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := NewOptions(streams)
	cmd := &cobra.Command{
		Use:   "abandon NAME...",
		Short: "Abandon savepoints: no more triggers or retries",
		Long: `Abandon savepoints that are TRIGGER_PENDING or IN_PROGRESS: the manager
stops triggering and retrying them and marks them ABANDONED.`,
		Example:           `  kubectl savepoint abandon orders-20261125t101500-3f9a`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: cmdutil.CompleteSavepoints(f),
		RunE:              cmdutil.RunE(f, o),
	}
	cmdutil.AddDryRunFlag(cmd, &o.DryRun)
	return cmd
}

// Complete takes the names, the namespace and the client.
func (o *Options) Complete(f cmdutil.Factory, _ *cobra.Command, args []string) error {
	o.Names = args
	var err error
	o.namespace, o.client, err = cmdutil.NamespaceAndClient(f)
	return err
}

// Validate checks --dry-run.
func (o *Options) Validate() error { return o.DryRun.Validate() }

// Run sets the abandon annotation on each savepoint that has not ended,
// stopping at the first that cannot be abandoned.
func (o *Options) Run(ctx context.Context) error {
	patch := client.RawPatch(types.MergePatchType, []byte(fmt.Sprintf(`{"metadata":{"annotations":{%q:"true"}}}`, cmfv1.AbandonAnnotation)))
	for _, name := range o.Names {
		sp := &cmfv1.Savepoint{}
		if err := o.client.Get(ctx, client.ObjectKey{Namespace: o.namespace, Name: name}, sp); err != nil {
			return cmdutil.UserError(err)
		}
		if sp.Status.State.Terminal() {
			return fmt.Errorf("savepoint %s is already %s: nothing to abandon", name, sp.Status.State)
		}
		if !o.DryRun.Client() {
			if err := o.client.Patch(ctx, sp, patch, o.DryRun.PatchOptions()...); err != nil {
				return cmdutil.UserError(err)
			}
		}
		cmdutil.Fprintf(o.Out, "savepoint/%s abandoned%s\n", name, o.DryRun.Suffix())
	}
	return nil
}
