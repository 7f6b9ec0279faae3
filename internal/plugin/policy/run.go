package policy

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdutil"
)

// RunOptions are the inputs of `kubectl savepoint policy run`.
type RunOptions struct {
	Name    string
	Wait    bool
	Timeout time.Duration
	DryRun  cmdutil.DryRun
	Output  *cmdutil.Output
	genericiooptions.IOStreams

	namespace string
	client    client.WithWatch
	now       func() time.Time
}

var _ cmdutil.Options = &RunOptions{}

// NewRunCmd returns `kubectl savepoint policy run`.
func NewRunCmd(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	return newRunCmd(f, &RunOptions{Timeout: 5 * time.Minute, DryRun: "none", Output: cmdutil.NewOutput(), IOStreams: streams, now: time.Now})
}

func newRunCmd(f cmdutil.Factory, o *RunOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run NAME [--wait]",
		Short: "Take a savepoint of every parent a SavepointPolicy covers, now",
		Long: `Ask the manager to take a savepoint of every parent the policy applies to
now, as a scheduled run would take them (PERIODIC, with the policy's
template, labelled with the policy), without waiting for the schedule. The
request is the annotation
cmf.confluent.io/run-request with a new value; the manager records it in
status.lastRunRequest once carried out, and annotates the savepoints it took
with it. --wait waits for that, then lists those savepoints.`,
		Example: `  kubectl savepoint policy run nightly

  # Wait until the manager has taken them, and list them
  kubectl savepoint policy run nightly --wait --timeout 2m`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: cmdutil.CompletePolicies(f),
		RunE:              cmdutil.RunE(f, o),
	}
	cmd.Flags().BoolVar(&o.Wait, "wait", false, "Wait until the manager has carried out the request, then list the savepoints it took.")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", o.Timeout, "How long --wait waits.")
	cmdutil.AddDryRunFlag(cmd, &o.DryRun)
	o.Output.PrintFlags.AddFlags(cmd)
	o.Output.AddFlags(cmd.Flags())
	return cmd
}

// Complete takes the name, the namespace and the client.
func (o *RunOptions) Complete(f cmdutil.Factory, _ *cobra.Command, args []string) error {
	o.Name = args[0]
	var err error
	o.namespace, o.client, err = cmdutil.NamespaceAndClient(f)
	return err
}

// Validate checks the flags.
func (o *RunOptions) Validate() error {
	if err := o.DryRun.Validate(); err != nil {
		return err
	}
	if o.Wait && o.DryRun != "none" {
		return fmt.Errorf("--wait and --dry-run: a dry run requests nothing to wait for; drop one")
	}
	return o.Output.Validate()
}

// Run annotates the policy with a new run request and, with --wait, waits
// for the manager to carry it out and lists the savepoints it took.
func (o *RunOptions) Run(ctx context.Context) error {
	key := client.ObjectKey{Namespace: o.namespace, Name: o.Name}
	p := &cmfv1.SavepointPolicy{}
	if err := o.client.Get(ctx, key, p); err != nil {
		return notFound(err, o.Name, o.namespace)
	}
	// Each request is a new value; the time to the nanosecond tells the
	// requests of one policy apart and says when it was made.
	token := o.now().UTC().Format(time.RFC3339Nano)
	if !o.DryRun.Client() {
		patch := client.RawPatch(types.MergePatchType, fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, cmfv1.RunRequestAnnotation, token))
		if err := o.client.Patch(ctx, p, patch, o.DryRun.PatchOptions()...); err != nil {
			return cmdutil.UserError(err)
		}
	}
	cmdutil.Fprintf(o.Out, "savepointpolicy/%s run requested%s (%s=%s)\n", o.Name, o.DryRun.Suffix(), cmfv1.RunRequestAnnotation, token)
	if !o.Wait {
		return nil
	}
	if _, err := cmdutil.WaitForRunRequest(ctx, o.client, key, token, o.Timeout, o.ErrOut); err != nil {
		return err
	}
	var list cmfv1.SavepointList
	if err := o.client.List(ctx, &list, client.InNamespace(o.namespace), client.MatchingLabels{cmfv1.PolicyLabel: o.Name}); err != nil {
		return cmdutil.UserError(err)
	}
	var taken []cmfv1.Savepoint
	for _, sp := range list.Items {
		if sp.Annotations[cmfv1.RunRequestAnnotation] == token {
			sp.SetGroupVersionKind(cmfv1.GroupVersion.WithKind("Savepoint"))
			taken = append(taken, sp)
		}
	}
	if len(taken) == 0 {
		cmdutil.Fprintf(o.ErrOut, "The manager took no savepoints for this request: see why with kubectl savepoint policy describe %s\n", o.Name)
		return nil
	}
	return o.Output.PrintSavepoints(o.Out, taken, nil, false, o.now())
}
