package policy

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdutil"
)

// SuspendOptions are the inputs of `kubectl savepoint policy suspend` and
// `resume`.
type SuspendOptions struct {
	Names   []string
	Suspend bool // true: suspend; false: resume
	DryRun  cmdutil.DryRun
	genericiooptions.IOStreams

	namespace string
	client    client.Client
}

var _ cmdutil.Options = &SuspendOptions{}

// NewSuspendCmd returns `kubectl savepoint policy suspend` (suspend true)
// or `kubectl savepoint policy resume` (suspend false).
func NewSuspendCmd(f cmdutil.Factory, streams genericiooptions.IOStreams, suspend bool) *cobra.Command {
	o := &SuspendOptions{Suspend: suspend, DryRun: "none", IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "suspend NAME...",
		Short: "Stop a SavepointPolicy's scheduled savepoints (retention still runs)",
		Long: `Suspend SavepointPolicies (spec.suspend: true): no scheduled savepoints
are taken until they are resumed; savepoints in flight finish, and retention
still runs. Runs that come due while suspended are let go: a resumed policy
starts with the next one.`,
		Example: `  kubectl savepoint policy suspend nightly

  # Resume it: the next scheduled run is the first
  kubectl savepoint policy resume nightly`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: cmdutil.CompletePolicies(f),
		RunE:              cmdutil.RunE(f, o),
	}
	if !suspend {
		cmd.Use = "resume NAME..."
		cmd.Short = "Resume a suspended SavepointPolicy: scheduled savepoints start again from the next run"
		cmd.Long = `Resume SavepointPolicies (spec.suspend: false): scheduled savepoints start
again with the next run; the runs that came due while suspended are not
caught up.`
		cmd.Example = `  kubectl savepoint policy resume nightly`
	}
	cmdutil.AddDryRunFlag(cmd, &o.DryRun)
	return cmd
}

// Complete takes the names, the namespace and the client.
func (o *SuspendOptions) Complete(f cmdutil.Factory, _ *cobra.Command, args []string) error {
	o.Names = args
	var err error
	o.namespace, o.client, err = cmdutil.NamespaceAndClient(f)
	return err
}

// Validate checks --dry-run.
func (o *SuspendOptions) Validate() error { return o.DryRun.Validate() }

// Run patches each policy's spec.suspend: one that cannot be changed is
// told and the others are changed still.
func (o *SuspendOptions) Run(ctx context.Context) error {
	var failed []string
	for _, name := range o.Names {
		if err := o.one(ctx, name); err != nil {
			if len(o.Names) == 1 {
				return err
			}
			cmdutil.Fprintf(o.ErrOut, "error: %v\n", err)
			failed = append(failed, name)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d not %s: %s", len(failed), len(o.Names), o.verb(), strings.Join(failed, ", "))
	}
	return nil
}

func (o *SuspendOptions) verb() string {
	if o.Suspend {
		return "suspended"
	}
	return "resumed"
}

func (o *SuspendOptions) one(ctx context.Context, name string) error {
	p := &cmfv1.SavepointPolicy{}
	if err := o.client.Get(ctx, client.ObjectKey{Namespace: o.namespace, Name: name}, p); err != nil {
		return notFound(err, name, o.namespace)
	}
	if p.Spec.Suspend == o.Suspend {
		cmdutil.Fprintf(o.Out, "savepointpolicy/%s already %s\n", name, o.verb())
		return nil
	}
	if !o.DryRun.Client() {
		patch := client.RawPatch(types.MergePatchType, fmt.Appendf(nil, `{"spec":{"suspend":%t}}`, o.Suspend))
		if err := o.client.Patch(ctx, p, patch, o.DryRun.PatchOptions()...); err != nil {
			return cmdutil.UserError(err)
		}
	}
	cmdutil.Fprintf(o.Out, "savepointpolicy/%s %s%s\n", name, o.verb(), o.DryRun.Suffix())
	return nil
}
