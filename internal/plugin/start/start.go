// Package start is `kubectl savepoint start`: redeploy an application or a
// statement from a savepoint.
package start

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdutil"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/create"
)

// Options are the inputs of `kubectl savepoint start`.
type Options struct {
	Parent                cmdutil.ParentFlags
	Savepoint, UID, Path  string
	AllowNonRestoredState bool
	DryRun                cmdutil.DryRun
	Wait                  bool
	Timeout               time.Duration
	// Yes redeploys a running job without asking.
	Yes bool
	// SavepointFirst takes a savepoint of a running job before the redeploy
	// discards its state.
	SavepointFirst bool
	genericiooptions.IOStreams

	namespace string
	client    client.WithWatch
	// first takes the savepoint of --savepoint-first, as create does.
	first *create.Options
}

var _ cmdutil.Options = &Options{}

// NewOptions returns the options of a plain `kubectl savepoint start`.
func NewOptions(streams genericiooptions.IOStreams) *Options {
	return &Options{DryRun: "none", Timeout: 5 * time.Minute, IOStreams: streams}
}

// NewCmd returns `kubectl savepoint start`.
func NewCmd(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := NewOptions(streams)
	cmd := &cobra.Command{
		Use:   "start (--application APP | --statement STATEMENT) (--savepoint NAME | --uid UID | --path PATH)",
		Short: "Redeploy an application or a statement from a savepoint",
		Long: `Redeploy a FlinkApplication or a Statement from a savepoint.

The parent's startFromSavepoint is set and its savepointRedeployNonce bumped,
so it always redeploys, even from the savepoint it already names. An
application starts from its own savepoints, any detached savepoint, or a raw
path; a statement only from its own savepoints.

A redeploy cancels the running job, and the state it built since that
savepoint is gone. So when the parent's job runs, start first says what it
discards and asks (y/N); without a terminal to ask on, it refuses. --yes
redeploys without asking; --savepoint-first keeps that state: it takes a
savepoint of the running job as create does, waits until it is COMPLETED
(and stops there if it fails), then redeploys without asking. A dry run
says what it would discard and asks nothing.`,
		Example: `  # An application from one of its savepoints
  kubectl savepoint start -a orders --savepoint orders-20261125t101500-3f9a

  # The job runs: keep what it built in a new savepoint, then redeploy
  kubectl savepoint start -a orders --savepoint orders-20261125t101500-3f9a --savepoint-first

  # In a script, discarding the running job's state on purpose
  kubectl savepoint start -a orders --savepoint nightly --yes

  # From a detached savepoint, dropping state no operator claims
  kubectl savepoint start -a orders-v2 --savepoint orders-before-migration --allow-non-restored-state

  # From a path no resource tracks
  kubectl savepoint start -a orders --path s3://flink/savepoints/savepoint-1a2b3c

  # ... and wait until the new job runs
  kubectl savepoint start -a orders --savepoint nightly --wait

  # A statement from its own savepoint, by UID
  kubectl savepoint start -s clicks --uid 0d3c52a8-1d7a-4a63-9c39-2b9a4a6d3a10`,
		Args: cobra.NoArgs,
		RunE: cmdutil.RunE(f, o),
	}
	o.Parent.AddFlags(cmd)
	cmdutil.CompleteParents(f, cmd)
	cmd.Flags().StringVar(&o.Savepoint, "savepoint", "", "Name of a Savepoint of the parent, or of a DetachedSavepoint.")
	cmd.Flags().StringVar(&o.UID, "uid", "", "UID of a Savepoint or DetachedSavepoint.")
	cmd.Flags().StringVar(&o.Path, "path", "", "A savepoint path no resource tracks (applications only).")
	cmd.Flags().BoolVar(&o.AllowNonRestoredState, "allow-non-restored-state", false, "Start even if the savepoint holds state no operator claims (that state is dropped).")
	cmd.Flags().BoolVarP(&o.Yes, "yes", "y", false, "Redeploy a running job without asking, discarding the state it built since the savepoint.")
	cmd.Flags().BoolVar(&o.SavepointFirst, "savepoint-first", false, "If the job runs, take a savepoint of it first (as create does) and wait until it is COMPLETED, then redeploy without asking.")
	cmd.Flags().BoolVar(&o.Wait, "wait", false, "Wait until the redeployed job runs (the parent is Ready), showing each phase.")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", o.Timeout, "How long --wait, and --savepoint-first for its savepoint, wait.")
	cmdutil.AddDryRunFlag(cmd, &o.DryRun)
	return cmd
}

// Complete takes the namespace and the client and, with --savepoint-first,
// the options of the savepoint to take first: those of
// `kubectl savepoint create -a APP --wait` with start's --timeout and
// --dry-run.
func (o *Options) Complete(f cmdutil.Factory, cmd *cobra.Command, _ []string) error {
	var err error
	if o.namespace, o.client, err = cmdutil.NamespaceAndClient(f); err != nil {
		return err
	}
	if !o.SavepointFirst {
		return nil
	}
	o.first = create.NewOptions(o.IOStreams)
	o.first.Parent, o.first.Wait, o.first.Timeout, o.first.DryRun = o.Parent, true, o.Timeout, o.DryRun
	return o.first.Complete(f, cmd, nil)
}

// Validate checks that exactly one parent and one savepoint are named.
func (o *Options) Validate() error {
	if err := o.Parent.Validate(true); err != nil {
		return err
	}
	if err := o.DryRun.Validate(); err != nil {
		return err
	}
	set := 0
	for _, v := range []string{o.Savepoint, o.UID, o.Path} {
		if v != "" {
			set++
		}
	}
	if set != 1 {
		return errors.New("name the savepoint with exactly one of --savepoint NAME, --uid UID or --path PATH")
	}
	if o.Wait && (o.DryRun.Client() || o.DryRun.Server()) {
		return errors.New("--wait and --dry-run: a dry run redeploys nothing to wait for; drop one")
	}
	if kind, _ := o.Parent.Kind(); kind == cmfv1.ParentStatement && o.Path != "" {
		return errors.New("--path is for applications: a statement starts only from its own savepoints (--savepoint or --uid)")
	}
	if o.first != nil {
		return o.first.Validate()
	}
	return nil
}

// Run sets startFromSavepoint and bumps the nonce, with optimistic locking;
// a running job's state is first kept in a savepoint (--savepoint-first),
// or its loss confirmed (see guard).
func (o *Options) Run(ctx context.Context) error {
	ref := &cmfv1.StartFromSavepoint{SavepointName: o.Savepoint, UID: o.UID, InitialSavepointPath: o.Path}
	if o.AllowNonRestoredState {
		ref.AllowNonRestoredState = &o.AllowNonRestoredState
	}
	kind, name := o.Parent.Kind()
	key := client.ObjectKey{Namespace: o.namespace, Name: name}
	parent, err := getParent(ctx, o.client, kind, key)
	if err != nil {
		return err
	}
	if err := o.guard(ctx, parent, ref); err != nil {
		return err
	}
	// Read again: a savepoint or a question takes time, and the manager
	// writes the parent's status meanwhile.
	obj, nonce, err := o.redeploy(ctx, kind, key, ref)
	if err != nil {
		return err
	}
	what := "savepoint " + o.Savepoint
	switch {
	case o.UID != "":
		what = "savepoint with uid " + o.UID
	case o.Path != "":
		what = "path " + o.Path
	}
	cmdutil.Fprintf(o.Out, "%s/%s redeploying from %s (savepointRedeployNonce %d)%s\n", resource(kind), name, what, nonce, o.DryRun.Suffix())
	if !o.Wait {
		return nil
	}
	p, err := cmdutil.WaitForRedeploy(ctx, o.client, obj, obj.GetGeneration(), o.Timeout, o.ErrOut)
	if err != nil {
		return err
	}
	from := ""
	if p.RestoredFrom != "" {
		from = " restored from " + p.RestoredFrom
	}
	cmdutil.Fprintf(o.Out, "%s/%s running job %s%s\n", resource(kind), name, p.JobID, from)
	return nil
}

// getParent reads the application or statement.
func getParent(ctx context.Context, c client.Client, kind cmfv1.ParentKind, key client.ObjectKey) (client.Object, error) {
	obj := kind.NewParent()
	if err := c.Get(ctx, key, obj); err != nil {
		return nil, cmdutil.UserError(err)
	}
	return obj, nil
}

// redeploy reads the parent and patches startFromSavepoint and the next
// nonce into it (a server dry run with --dry-run=server, nothing sent with
// --dry-run=client). It returns the parent and the nonce. The patch is
// locked to the version read, so that two redeploys never write the same
// nonce; the manager writes the parent's status all the time, which moves
// that version too, so a conflict is met by reading again and counting
// from the nonce found then.
func (o *Options) redeploy(ctx context.Context, kind cmfv1.ParentKind, key client.ObjectKey, ref *cmfv1.StartFromSavepoint) (client.Object, int64, error) {
	var obj client.Object
	var nonce int64
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		p := kind.NewParent()
		obj = p
		if err := o.client.Get(ctx, key, p); err != nil {
			return err
		}
		patch := client.MergeFromWithOptions(p.DeepCopyObject().(client.Object), client.MergeFromWithOptimisticLock{})
		nonce = next(p.RedeployNonce())
		p.SetStartFrom(ref, &nonce)
		if o.DryRun.Client() {
			return nil
		}
		return o.client.Patch(ctx, obj, patch, o.DryRun.PatchOptions()...)
	})
	if err != nil {
		return nil, 0, cmdutil.UserError(err)
	}
	return obj, nonce, nil
}

func next(nonce *int64) int64 {
	if nonce == nil {
		return 1
	}
	return *nonce + 1
}

// resource is how the confirmation names the kind, as kubectl names a
// resource in "deployment/web restarted".
func resource(kind cmfv1.ParentKind) string {
	return strings.ToLower(string(kind))
}
