// Package create is `kubectl savepoint create` (alias `trigger`): take a
// savepoint of an application's or a statement's job.
package create

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdutil"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/rules"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/schedule"
)

// Options are the inputs of `kubectl savepoint create`.
type Options struct {
	Parent       cmdutil.ParentFlags
	Output       *cmdutil.Output
	Name         string
	Path         string
	Format       string
	BackoffLimit int32
	Wait         bool
	Timeout      time.Duration
	DryRun       cmdutil.DryRun
	genericiooptions.IOStreams

	namespace string
	client    client.WithWatch // nil on a client-side dry run
	now       func() time.Time
}

var _ cmdutil.Options = &Options{}

// NewOptions returns the options of a plain `kubectl savepoint create`:
// the flags' defaults, no parent yet.
func NewOptions(streams genericiooptions.IOStreams) *Options {
	return &Options{
		Output: cmdutil.NewOutput(), Format: string(cmfv1.FormatCanonical),
		BackoffLimit: cmfv1.DefaultBackoffLimit, Timeout: 5 * time.Minute, DryRun: "none",
		IOStreams: streams, now: time.Now,
	}
}

// NewCmd returns `kubectl savepoint create`.
func NewCmd(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	return newCmd(f, NewOptions(streams))
}

func newCmd(f cmdutil.Factory, o *Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "create [NAME] (--application APP | --statement STATEMENT)",
		Aliases: []string{"trigger"},
		Short:   "Take a savepoint of an application's or a statement's job",
		Long: `Take a savepoint of the job of a FlinkApplication or a Statement.

The savepoint is a Savepoint resource attached to its parent: the manager
triggers it through the parent's Flink JobManager and records its path once
COMPLETED. Without a NAME, one is made from the parent and the time.

A manual savepoint is never held back by a SavepointPolicy's blackout
window: when a window of the parent's policy is open now, create says so on
stderr and takes the savepoint anyway.`,
		Example: `  # A savepoint of application orders, named after it and the time
  kubectl savepoint create -a orders

  # Into a directory of your choice, in the NATIVE format, and wait for it
  kubectl savepoint create nightly -a orders --path s3://bucket/savepoints --format NATIVE --wait

  # Of a statement, failing at the first error instead of retrying
  kubectl savepoint create -s clicks --backoff-limit 0

  # Print the manifest instead of creating it
  kubectl savepoint create -a orders --dry-run=client -o yaml`,
		Args: cobra.MaximumNArgs(1),
		RunE: cmdutil.RunE(f, o),
	}
	o.Parent.AddFlags(cmd)
	cmdutil.CompleteParents(f, cmd)
	o.Output.PrintFlags.AddFlags(cmd)
	cmd.Flags().StringVar(&o.Path, "path", "", "Directory the savepoint is written below; default: the cluster's execution.checkpointing.savepoint-dir.")
	cmd.Flags().StringVar(&o.Format, "format", o.Format, "Savepoint format: CANONICAL or NATIVE.")
	cmd.Flags().Int32Var(&o.BackoffLimit, "backoff-limit", o.BackoffLimit, "Retries after a failure: -1 until it succeeds, 0 none.")
	cmd.Flags().BoolVar(&o.Wait, "wait", false, "Wait until the savepoint is COMPLETED, FAILED or ABANDONED, showing each state.")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", o.Timeout, "How long --wait waits.")
	cmdutil.AddDryRunFlag(cmd, &o.DryRun)
	return cmd
}

// Complete takes the name, --format in capitals, the namespace and,
// unless nothing is to be sent, the client.
func (o *Options) Complete(f cmdutil.Factory, _ *cobra.Command, args []string) error {
	if len(args) == 1 {
		o.Name = args[0]
	}
	o.Format = strings.ToUpper(o.Format)
	var err error
	if o.namespace, err = f.Namespace(); err != nil {
		return err
	}
	if !o.DryRun.Client() {
		o.client, err = f.Client()
	}
	return err
}

// Validate checks the flags before anything is sent.
func (o *Options) Validate() error {
	if err := o.Parent.Validate(true); err != nil {
		return err
	}
	if o.Format != string(cmfv1.FormatCanonical) && o.Format != string(cmfv1.FormatNative) {
		return fmt.Errorf("--format %q: use CANONICAL or NATIVE", o.Format)
	}
	if o.BackoffLimit < -1 {
		return fmt.Errorf("--backoff-limit %d: use -1 (retry until it succeeds), 0 (no retry) or more", o.BackoffLimit)
	}
	if err := o.DryRun.Validate(); err != nil {
		return err
	}
	return o.Output.Validate()
}

// Run creates the savepoint and, with --wait, follows it.
func (o *Options) Run(ctx context.Context) error {
	_, err := o.Take(ctx)
	return err
}

// Take creates the savepoint and prints it; with Wait, it follows it until
// it is COMPLETED, and a FAILED or ABANDONED savepoint is an error with its
// cause in one line. It returns the savepoint as last read (as sent, on a
// dry run).
func (o *Options) Take(ctx context.Context) (*cmfv1.Savepoint, error) {
	limit := o.BackoffLimit
	sp := &cmfv1.Savepoint{
		TypeMeta:   metav1.TypeMeta{APIVersion: cmfv1.GroupVersion.String(), Kind: "Savepoint"},
		ObjectMeta: metav1.ObjectMeta{Namespace: o.namespace, Name: o.Name},
		Spec: cmfv1.SavepointSpec{
			Path: o.Path, FormatType: cmfv1.FormatType(o.Format), BackoffLimit: &limit,
		},
	}
	if kind, parent := o.Parent.Kind(); kind == cmfv1.ParentStatement {
		sp.Spec.Statement = parent
	} else {
		sp.Spec.Application = parent
	}
	if o.DryRun.Client() {
		return sp, o.print(sp, "created"+o.DryRun.Suffix())
	}
	o.warnBlackout(ctx)
	if err := o.client.Create(ctx, sp, o.DryRun.CreateOptions()...); err != nil {
		return nil, cmdutil.UserError(err)
	}
	sp.SetGroupVersionKind(cmfv1.GroupVersion.WithKind("Savepoint"))
	if o.DryRun.Server() {
		return sp, o.print(sp, "created"+o.DryRun.Suffix())
	}
	if err := o.print(sp, "created"); err != nil || !o.Wait {
		return sp, err
	}
	final, err := cmdutil.WaitForState(ctx, o.client, client.ObjectKeyFromObject(sp), []cmfv1.SavepointState{cmfv1.StateCompleted}, o.Timeout, o.ErrOut)
	if err != nil {
		return final, err
	}
	if final.Status.State != cmfv1.StateCompleted {
		return final, fmt.Errorf("savepoint %s is %s: %s", final.Name, final.Status.State, cmdutil.OneLine(final.Status.Error))
	}
	return final, nil
}

func (o *Options) print(sp *cmfv1.Savepoint, verb string) error {
	if o.Output.PrintFlags.OutputFormat == nil || *o.Output.PrintFlags.OutputFormat == "" {
		name := sp.Name
		if name == "" {
			name = "<generated>"
		}
		cmdutil.Fprintf(o.Out, "savepoint/%s %s\n", name, verb)
		return nil
	}
	printer, err := o.Output.PrintFlags.ToPrinter()
	if err != nil {
		return err
	}
	return printer.PrintObj(sp, o.Out)
}

// warnBlackout says on stderr, in one line, when the parent's SavepointPolicy
// (rules.PolicyFor) is in a blackout window now: scheduled savepoints wait,
// a manual one does not. What it cannot read (the parent, the policies) it
// leaves unsaid: the warning is a help, and admission has the last word on
// the savepoint.
func (o *Options) warnBlackout(ctx context.Context) {
	kind, name := o.Parent.Kind()
	parent := kind.NewParent()
	if o.client.Get(ctx, client.ObjectKey{Namespace: o.namespace, Name: name}, parent) != nil {
		return
	}
	var list cmfv1.SavepointPolicyList
	if o.client.List(ctx, &list, client.InNamespace(o.namespace)) != nil {
		return
	}
	live := slices.DeleteFunc(list.Items, func(p cmfv1.SavepointPolicy) bool { return p.DeletionTimestamp != nil })
	policy, _ := rules.PolicyFor(live, kind, name, parent.GetLabels())
	if policy == nil {
		return
	}
	plan, err := schedule.Parse(&policy.Spec)
	if err != nil {
		return
	}
	if in, end := plan.Blackout(o.now()); in {
		// In the policy's time zone, as its windows are written.
		if loc, err := schedule.LoadLocation("spec.timeZone", policy.Spec.TimeZone); err == nil {
			end = end.In(loc)
		}
		cmdutil.Fprintf(o.ErrOut, "Warning: savepointpolicy/%s holds back scheduled savepoints of %s %s in a blackout window until %s; this manual savepoint is taken now\n",
			policy.Name, kind.Noun(), name, end.Format(time.RFC3339))
	}
}
