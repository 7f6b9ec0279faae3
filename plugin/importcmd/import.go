// Package importcmd is `kubectl savepoint import`: register a savepoint
// that exists in storage as a DetachedSavepoint.
package importcmd

import (
	"errors"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/plugin/cmdutil"
)

// NewCmd returns `kubectl savepoint import`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	var path string
	var dryRun cmdutil.DryRun
	cmd := &cobra.Command{
		Use:   "import NAME --path PATH",
		Short: "Register an existing savepoint as a detached savepoint",
		Long: `Register a savepoint that exists in storage (taken by open-source Flink,
another platform, or an application that is gone) as a DetachedSavepoint,
which any application can start from. Its name is unique across all
namespaces; deleting it later never touches the data.`,
		Example: `  kubectl savepoint import migrated-orders --path s3://flink/savepoints/savepoint-1a2b3c-4d5e6f7a8b9c`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if path == "" {
				return errors.New("--path is required: the exact, complete location of the savepoint")
			}
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
			dsp := &cmfv1.DetachedSavepoint{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: args[0]},
				Spec:       cmfv1.DetachedSavepointSpec{Path: path},
			}
			if !dryRun.Client() {
				if err := c.Create(cmdutil.Context(cmd), dsp, dryRun.CreateOptions()...); err != nil {
					return cmdutil.UserError(err)
				}
			}
			cmdutil.Fprintf(f.Out, "detachedsavepoint/%s imported%s\n", dsp.Name, dryRun.Suffix())
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "path", "", "The exact, complete location of the savepoint (required).")
	cmdutil.AddDryRunFlag(cmd, &dryRun)
	return cmd
}
