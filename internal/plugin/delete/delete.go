// Package delete is `kubectl savepoint delete`: delete savepoints, disposing
// the data of COMPLETED attached ones, or with --force keeping it.
package delete

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdutil"
)

// Options are the inputs of `kubectl savepoint delete`.
type Options struct {
	Names    []string
	Detached bool
	Force    bool
	Yes      bool
	Wait     bool
	Timeout  time.Duration
	DryRun   cmdutil.DryRun
	genericiooptions.IOStreams

	namespace string
	client    client.WithWatch
}

var _ cmdutil.Options = &Options{}

// NewOptions returns the options of a plain `kubectl savepoint delete`.
func NewOptions(streams genericiooptions.IOStreams) *Options {
	return &Options{Timeout: 5 * time.Minute, DryRun: "none", IOStreams: streams}
}

// NewCmd returns `kubectl savepoint delete`.
func NewCmd(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := NewOptions(streams)
	cmd := &cobra.Command{
		Use:   "delete NAME...",
		Short: "Delete savepoints (and dispose the data of COMPLETED attached ones)",
		Long: `Delete savepoints.

Deleting a COMPLETED attached savepoint disposes its data through its parent's
Flink cluster; while the cluster cannot be reached, the savepoint stays with
pendingDeletion until it can. --force removes it at once and keeps the data,
orphaned: the manager records its path in a Warning event. Deleting a
detached savepoint (--detached) never touches the data.`,
		Example: `  # Delete a savepoint and its data
  kubectl savepoint delete orders-20261125t101500-3f9a

  # The cluster is gone: remove the resource, keep the data
  kubectl savepoint delete orders-20261125t101500-3f9a --force --yes

  # Forget a detached savepoint (the data stays)
  kubectl savepoint delete --detached imported-1`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: cmdutil.CompleteSavepoints(f),
		RunE:              cmdutil.RunE(f, o),
	}
	cmd.Flags().BoolVar(&o.Detached, "detached", false, "Delete DetachedSavepoints (their data is never touched).")
	cmd.Flags().BoolVar(&o.Force, "force", false, "Remove at once without disposing the data, which stays orphaned.")
	cmd.Flags().BoolVarP(&o.Yes, "yes", "y", false, "Do not ask for confirmation of --force.")
	cmd.Flags().BoolVar(&o.Wait, "wait", false, "Wait until the savepoints are gone (their data disposed).")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", o.Timeout, "How long --wait waits.")
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

// Validate checks the flags before anything is sent.
func (o *Options) Validate() error {
	if err := o.DryRun.Validate(); err != nil {
		return err
	}
	if o.Force && o.Detached {
		return errors.New("--force is for attached savepoints: deleting a detached one never touches its data")
	}
	return nil
}

// Run deletes each savepoint: one that cannot be deleted is told and the
// others are deleted still. --force without --yes asks first.
func (o *Options) Run(ctx context.Context) error {
	if o.Force && !o.Yes && o.DryRun == "none" {
		question := fmt.Sprintf("--force removes %s without disposing the data: it stays in storage, orphaned. Continue?", strings.Join(o.Names, ", "))
		if !cmdutil.Confirm(o.In, o.ErrOut, question) {
			return errors.New("not deleted: confirm with y, or pass --yes")
		}
	}
	var failed []string
	for _, name := range o.Names {
		if err := o.deleteOne(ctx, name); err != nil {
			cmdutil.Fprintf(o.ErrOut, "error: %v\n", err)
			failed = append(failed, name)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d not deleted: %s", len(failed), len(o.Names), strings.Join(failed, ", "))
	}
	return nil
}

func (o *Options) deleteOne(ctx context.Context, name string) error {
	key := client.ObjectKey{Namespace: o.namespace, Name: name}
	if o.Detached {
		dsp := &cmfv1.DetachedSavepoint{}
		if err := o.client.Get(ctx, key, dsp); err != nil {
			return notFound(err, "detachedsavepoint", name, "kubectl savepoint list --detached")
		}
		if !o.DryRun.Client() {
			if err := o.client.Delete(ctx, dsp, o.DryRun.DeleteOptions()...); err != nil {
				return cmdutil.UserError(err)
			}
		}
		cmdutil.Fprintf(o.Out, "detachedsavepoint/%s deleted%s (its data at %s is kept)\n", name, o.DryRun.Suffix(), dsp.Spec.Path)
		return nil
	}
	sp := &cmfv1.Savepoint{}
	if err := o.client.Get(ctx, key, sp); err != nil {
		return notFound(err, "savepoint", name, "kubectl savepoint list")
	}
	if o.DryRun != "none" {
		cmdutil.Fprintf(o.Out, "savepoint/%s deleted%s\n", name, o.DryRun.Suffix())
		if o.DryRun.Server() {
			return cmdutil.UserError(o.client.Delete(ctx, sp, o.DryRun.DeleteOptions()...))
		}
		return nil
	}
	if o.Force {
		patch := client.RawPatch(types.MergePatchType, []byte(fmt.Sprintf(`{"metadata":{"annotations":{%q:"true"}}}`, cmfv1.ForceDeleteAnnotation)))
		if err := o.client.Patch(ctx, sp, patch); err != nil {
			return cmdutil.UserError(err)
		}
	}
	if err := o.client.Delete(ctx, sp); err != nil {
		return cmdutil.UserError(err)
	}
	switch {
	case o.Force && sp.Status.Path != "":
		cmdutil.Fprintf(o.Out, "savepoint/%s deleted; its data at %s is kept, orphaned\n", name, sp.Status.Path)
	case sp.Status.State == cmfv1.StateCompleted:
		cmdutil.Fprintf(o.Out, "savepoint/%s deleted; disposing its data at %s\n", name, sp.Status.Path)
	default:
		cmdutil.Fprintf(o.Out, "savepoint/%s deleted\n", name)
	}
	if o.Wait {
		return cmdutil.WaitGone(ctx, o.client, sp, o.Timeout)
	}
	return nil
}

func notFound(err error, kind, name, hint string) error {
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("%s %s not found: list them with %s", kind, name, hint)
	}
	return cmdutil.UserError(err)
}
