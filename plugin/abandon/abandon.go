// Package abandon is `kubectl savepoint abandon`: stop a savepoint's
// triggers and retries.
package abandon

import (
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/plugin/cmdutil"
)

// NewCmd returns `kubectl savepoint abandon`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	var dryRun cmdutil.DryRun
	cmd := &cobra.Command{
		ValidArgsFunction: cmdutil.CompleteSavepoints(f),
		Use:               "abandon NAME...",
		Short:             "Abandon savepoints: no more triggers or retries",
		Example:           `  kubectl savepoint abandon orders-20261125t101500-3f9a`,
		Args:              cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := dryRun.Validate(); err != nil {
				return err
			}
			ns, err := f.Namespace()
			if err != nil {
				return err
			}
			c, err := f.Client()
			if err != nil {
				return err
			}
			patch := client.RawPatch(types.MergePatchType, []byte(fmt.Sprintf(`{"metadata":{"annotations":{%q:"true"}}}`, cmfv1.AbandonAnnotation)))
			for _, name := range args {
				sp := &cmfv1.Savepoint{}
				if err := c.Get(cmdutil.Context(cmd), client.ObjectKey{Namespace: ns, Name: name}, sp); err != nil {
					return cmdutil.UserError(err)
				}
				if sp.Status.State == cmfv1.StateCompleted || sp.Status.State == cmfv1.StateFailed || sp.Status.State == cmfv1.StateAbandoned {
					return fmt.Errorf("savepoint %s is already %s: nothing to abandon", name, sp.Status.State)
				}
				if !dryRun.Client() {
					if err := c.Patch(cmdutil.Context(cmd), sp, patch, dryRun.PatchOptions()...); err != nil {
						return cmdutil.UserError(err)
					}
				}
				cmdutil.Fprintf(f.Out, "savepoint/%s abandoned%s\n", name, dryRun.Suffix())
			}
			return nil
		},
	}
	cmdutil.AddDryRunFlag(cmd, &dryRun)
	return cmd
}
