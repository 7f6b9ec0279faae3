// Package abandon is `kubectl savepoint abandon`: stop a savepoint's
// triggers and retries.
package abandon

import (
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdutil"
)

// Options are the inputs of `kubectl savepoint abandon`.
type Options struct {
	*cmdutil.Factory
	Names  []string
	DryRun cmdutil.DryRun

	namespace string
	client    client.Client
}

// NewCmd returns `kubectl savepoint abandon`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	o := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "abandon NAME...",
		Short: "Abandon savepoints: no more triggers or retries",
		Long: `Abandon savepoints that are TRIGGER_PENDING or IN_PROGRESS: the manager
stops triggering and retrying them and marks them ABANDONED.`,
		Example:           `  kubectl savepoint abandon orders-20261125t101500-3f9a`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: cmdutil.CompleteSavepoints(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Names = args
			if err := o.DryRun.Validate(); err != nil {
				return err
			}
			if err := o.Complete(); err != nil {
				return err
			}
			return o.Run(cmd)
		},
	}
	cmdutil.AddDryRunFlag(cmd, &o.DryRun)
	return cmd
}

// Complete resolves the namespace and the client.
func (o *Options) Complete() error {
	var err error
	o.namespace, o.client, err = o.NamespaceAndClient()
	return err
}

// Run sets the abandon annotation on each savepoint that has not ended.
func (o *Options) Run(cmd *cobra.Command) error {
	ctx := cmdutil.Context(cmd)
	patch := client.RawPatch(types.MergePatchType, []byte(fmt.Sprintf(`{"metadata":{"annotations":{%q:"true"}}}`, cmfv1.AbandonAnnotation)))
	for _, name := range o.Names {
		sp := &cmfv1.Savepoint{}
		if err := o.client.Get(ctx, client.ObjectKey{Namespace: o.namespace, Name: name}, sp); err != nil {
			return cmdutil.UserError(err)
		}
		switch sp.Status.State {
		case cmfv1.StateCompleted, cmfv1.StateFailed, cmfv1.StateAbandoned:
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
