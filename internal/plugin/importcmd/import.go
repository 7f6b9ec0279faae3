// Package importcmd is `kubectl savepoint import`: register a savepoint
// that exists in storage as a DetachedSavepoint.
package importcmd

import (
	"errors"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdutil"
)

// Options are the inputs of `kubectl savepoint import`.
type Options struct {
	*cmdutil.Factory
	Name   string
	Path   string
	DryRun cmdutil.DryRun

	namespace string
	client    client.Client
}

// NewCmd returns `kubectl savepoint import`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	o := &Options{Factory: f}
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
			if err := o.Validate(args); err != nil {
				return err
			}
			if err := o.Complete(); err != nil {
				return err
			}
			return o.Run(cmd)
		},
	}
	cmd.Flags().StringVar(&o.Path, "path", "", "The exact, complete location of the savepoint (required).")
	cmdutil.AddDryRunFlag(cmd, &o.DryRun)
	return cmd
}

// Validate checks the name and the flags before the cluster is reached.
func (o *Options) Validate(args []string) error {
	o.Name = args[0]
	if o.Path == "" {
		return errors.New("--path is required: the exact, complete location of the savepoint")
	}
	return o.DryRun.Validate()
}

// Complete resolves the namespace and the client.
func (o *Options) Complete() error {
	var err error
	o.namespace, o.client, err = o.NamespaceAndClient()
	return err
}

// Run creates the DetachedSavepoint.
func (o *Options) Run(cmd *cobra.Command) error {
	dsp := &cmfv1.DetachedSavepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: o.namespace, Name: o.Name},
		Spec:       cmfv1.DetachedSavepointSpec{Path: o.Path},
	}
	if !o.DryRun.Client() {
		if err := o.client.Create(cmdutil.Context(cmd), dsp, o.DryRun.CreateOptions()...); err != nil {
			return cmdutil.UserError(err)
		}
	}
	cmdutil.Fprintf(o.Out, "detachedsavepoint/%s imported%s\n", dsp.Name, o.DryRun.Suffix())
	return nil
}
