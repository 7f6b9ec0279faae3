// Package detach is `kubectl savepoint detach`: turn an application's
// COMPLETED savepoint into a detached one that outlives the application.
package detach

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdutil"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/rules"
)

// Options are the inputs of `kubectl savepoint detach`.
type Options struct {
	Name    string
	NewName string
	NoWait  bool
	Timeout time.Duration
	DryRun  cmdutil.DryRun
	genericiooptions.IOStreams

	namespace string
	client    client.WithWatch
}

var _ cmdutil.Options = &Options{}

// NewOptions returns the options of a plain `kubectl savepoint detach`.
func NewOptions(streams genericiooptions.IOStreams) *Options {
	return &Options{Timeout: 2 * time.Minute, DryRun: "none", IOStreams: streams}
}

// NewCmd returns `kubectl savepoint detach`.
func NewCmd(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := NewOptions(streams)
	cmd := &cobra.Command{
		Use:   "detach NAME [--name NEW_NAME]",
		Short: "Detach an application's COMPLETED savepoint, keeping its data",
		Long: `Detach a COMPLETED savepoint of a FlinkApplication: a DetachedSavepoint
takes over its path, and the attached savepoint is removed WITHOUT disposing
the data. The detached savepoint outlives the application and can start any
application. Savepoints attached to a Statement cannot be detached.`,
		Example: `  # Keep a savepoint before deleting its application
  kubectl savepoint detach orders-20261125t101500-3f9a

  # Under a name of your choice (unique across all namespaces)
  kubectl savepoint detach orders-20261125t101500-3f9a --name orders-before-migration`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: cmdutil.CompleteSavepoints(f),
		RunE:              cmdutil.RunE(f, o),
	}
	cmd.Flags().StringVar(&o.NewName, "name", "", "Name of the DetachedSavepoint (default: the savepoint's name); unique across all namespaces.")
	cmd.Flags().BoolVar(&o.NoWait, "no-wait", false, "Return once the DetachedSavepoint exists, before the attached savepoint is removed.")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", o.Timeout, "How long to wait for the attached savepoint to be removed.")
	cmdutil.AddDryRunFlag(cmd, &o.DryRun)
	return cmd
}

// Complete takes the name (the new one defaults to it), the namespace and
// the client.
func (o *Options) Complete(f cmdutil.Factory, _ *cobra.Command, args []string) error {
	o.Name = args[0]
	if o.NewName == "" {
		o.NewName = o.Name
	}
	var err error
	o.namespace, o.client, err = cmdutil.NamespaceAndClient(f)
	return err
}

// Validate checks --dry-run.
func (o *Options) Validate() error { return o.DryRun.Validate() }

// Run creates the DetachedSavepoint and waits for the server-side detach.
func (o *Options) Run(ctx context.Context) error {
	sp := &cmfv1.Savepoint{}
	if err := o.client.Get(ctx, client.ObjectKey{Namespace: o.namespace, Name: o.Name}, sp); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("savepoint %s not found in namespace %s: list them with kubectl savepoint list", o.Name, o.namespace)
		}
		return cmdutil.UserError(err)
	}
	if err := rules.CanDetach(sp); err != nil {
		return err
	}
	dsp := &cmfv1.DetachedSavepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: o.namespace, Name: o.NewName},
		Spec: cmfv1.DetachedSavepointSpec{Path: sp.Status.Path, Source: &cmfv1.DetachedSavepointSource{
			Namespace: sp.Namespace, Application: sp.Spec.Application, SavepointName: sp.Name, UID: string(sp.UID),
		}},
	}
	if o.DryRun != "none" {
		if o.DryRun.Server() {
			if err := o.client.Create(ctx, dsp, o.DryRun.CreateOptions()...); err != nil {
				return cmdutil.UserError(err)
			}
		}
		cmdutil.Fprintf(o.Out, "savepoint/%s detached as detachedsavepoint/%s%s\n", o.Name, dsp.Name, o.DryRun.Suffix())
		return nil
	}
	if err := o.client.Create(ctx, dsp); err != nil {
		return cmdutil.UserError(err)
	}
	if !o.NoWait {
		if err := cmdutil.WaitGone(ctx, o.client, sp, o.Timeout); err != nil {
			return fmt.Errorf("detachedsavepoint/%s created, but %w (is the savepoint-manager running?)", dsp.Name, err)
		}
	}
	cmdutil.Fprintf(o.Out, "savepoint/%s detached as detachedsavepoint/%s (data kept at %s)\n", o.Name, dsp.Name, dsp.Spec.Path)
	return nil
}
