// Package importcmd is `kubectl savepoint import`: register a savepoint
// that exists in storage as a DetachedSavepoint.
package importcmd

import (
	"context"
	"errors"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdutil"
)

// Options are the inputs of `kubectl savepoint import`.
type Options struct {
	Name   string
	Path   string
	DryRun cmdutil.DryRun
	genericiooptions.IOStreams

	namespace string
	client    client.Client
}

var _ cmdutil.Options = &Options{}

// NewOptions returns the options of a plain `kubectl savepoint import`.
func NewOptions(streams genericiooptions.IOStreams) *Options {
	return &Options{DryRun: "none", IOStreams: streams}
}

// NewCmd returns `kubectl savepoint import`.
func NewCmd(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := NewOptions(streams)
	cmd := &cobra.Command{
		Use:   "import NAME --path PATH",
		Short: "Register an existing savepoint as a detached savepoint",
		Long: `Register a savepoint that exists in storage (taken by open-source Flink,
another platform, or an application that is gone) as a DetachedSavepoint,
which any application can start from. Its name is unique across all
namespaces; deleting it later never touches the data.`,
		Example: `  kubectl savepoint import migrated-orders --path s3://flink/savepoints/savepoint-1a2b3c-4d5e6f7a8b9c`,
		Args:    cobra.ExactArgs(1),
		RunE:    cmdutil.RunE(f, o),
	}
	cmd.Flags().StringVar(&o.Path, "path", "", "The exact, complete location of the savepoint (required).")
	cmdutil.AddDryRunFlag(cmd, &o.DryRun)
	return cmd
}

// Complete takes the name, the namespace and the client.
func (o *Options) Complete(f cmdutil.Factory, _ *cobra.Command, args []string) error {
	o.Name = args[0]
	var err error
	o.namespace, o.client, err = cmdutil.NamespaceAndClient(f)
	return err
}

// Validate checks the flags before the cluster is reached.
func (o *Options) Validate() error {
	if o.Path == "" {
		return errors.New("--path is required: the exact, complete location of the savepoint")
	}
	return o.DryRun.Validate()
}

// Run creates the DetachedSavepoint.
func (o *Options) Run(ctx context.Context) error {
	dsp := &cmfv1.DetachedSavepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: o.namespace, Name: o.Name},
		Spec:       cmfv1.DetachedSavepointSpec{Path: o.Path},
	}
	if !o.DryRun.Client() {
		if err := o.client.Create(ctx, dsp, o.DryRun.CreateOptions()...); err != nil {
			return cmdutil.UserError(err)
		}
	}
	cmdutil.Fprintf(o.Out, "detachedsavepoint/%s imported%s\n", dsp.Name, o.DryRun.Suffix())
	return nil
}
