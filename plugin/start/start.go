// Package start is `kubectl savepoint start`: redeploy an application or a
// statement from a savepoint.
package start

import (
	"errors"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/plugin/cmdutil"
)

// Options are the inputs of `kubectl savepoint start`.
type Options struct {
	*cmdutil.Factory
	Parent                cmdutil.ParentFlags
	Savepoint, UID, Path  string
	AllowNonRestoredState bool
	DryRun                cmdutil.DryRun
	Wait                  bool
	Timeout               time.Duration
}

// NewCmd returns `kubectl savepoint start`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	o := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "start (--application APP | --statement STATEMENT) (--savepoint NAME | --uid UID | --path PATH)",
		Short: "Redeploy an application or a statement from a savepoint",
		Long: `Redeploy a FlinkApplication or a Statement from a savepoint.

The parent's startFromSavepoint is set and its savepointRedeployNonce bumped,
so it always redeploys, even from the savepoint it already names. An
application starts from its own savepoints, any detached savepoint, or a raw
path; a statement only from its own savepoints.`,
		Example: `  # An application from one of its savepoints
  kubectl savepoint start -a orders --savepoint orders-20261125t101500-3f9a

  # From a detached savepoint, dropping state no operator claims
  kubectl savepoint start -a orders-v2 --savepoint orders-before-migration --allow-non-restored-state

  # From a path no resource tracks
  kubectl savepoint start -a orders --path s3://flink/savepoints/savepoint-1a2b3c

  # ... and wait until the new job runs
  kubectl savepoint start -a orders --savepoint nightly --wait

  # A statement from its own savepoint, by UID
  kubectl savepoint start -s clicks --uid 0d3c52a8-1d7a-4a63-9c39-2b9a4a6d3a10`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd)
		},
	}
	o.Parent.AddFlags(cmd)
	cmdutil.CompleteParents(f, cmd)
	cmd.Flags().StringVar(&o.Savepoint, "savepoint", "", "Name of a Savepoint of the parent, or of a DetachedSavepoint.")
	cmd.Flags().StringVar(&o.UID, "uid", "", "UID of a Savepoint or DetachedSavepoint.")
	cmd.Flags().StringVar(&o.Path, "path", "", "A savepoint path no resource tracks (applications only).")
	cmd.Flags().BoolVar(&o.AllowNonRestoredState, "allow-non-restored-state", false, "Start even if the savepoint holds state no operator claims (that state is dropped).")
	cmd.Flags().BoolVar(&o.Wait, "wait", false, "Wait until the redeployed job runs (the parent is Ready), showing each phase.")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 5*time.Minute, "How long --wait waits.")
	cmdutil.AddDryRunFlag(cmd, &o.DryRun)
	return cmd
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
	return nil
}

// Run sets startFromSavepoint and bumps the nonce, with optimistic locking.
func (o *Options) Run(cmd *cobra.Command) error {
	ctx := cmdutil.Context(cmd)
	ns, err := o.Namespace()
	if err != nil {
		return err
	}
	c, err := o.Client()
	if err != nil {
		return err
	}
	ref := &cmfv1.StartFromSavepoint{SavepointName: o.Savepoint, UID: o.UID, InitialSavepointPath: o.Path}
	if o.AllowNonRestoredState {
		ref.AllowNonRestoredState = &o.AllowNonRestoredState
	}
	kind, name := o.Parent.Kind()
	key := client.ObjectKey{Namespace: ns, Name: name}
	var obj client.Object
	var nonce int64
	var patch client.Patch
	if kind == cmfv1.ParentStatement {
		stmt := &cmfv1.Statement{}
		if err := c.Get(ctx, key, stmt); err != nil {
			return cmdutil.UserError(err)
		}
		patch = client.MergeFromWithOptions(stmt.DeepCopy(), client.MergeFromWithOptimisticLock{})
		nonce = next(stmt.Spec.SavepointRedeployNonce)
		stmt.Spec.StartFromSavepoint, stmt.Spec.SavepointRedeployNonce = ref, &nonce
		obj = stmt
	} else {
		app := &cmfv1.FlinkApplication{}
		if err := c.Get(ctx, key, app); err != nil {
			return cmdutil.UserError(err)
		}
		patch = client.MergeFromWithOptions(app.DeepCopy(), client.MergeFromWithOptimisticLock{})
		if app.Spec.Job == nil {
			app.Spec.Job = &cmfv1.JobSpec{}
		}
		nonce = next(app.Spec.Job.SavepointRedeployNonce)
		app.Spec.Job.StartFromSavepoint, app.Spec.Job.SavepointRedeployNonce = ref, &nonce
		obj = app
	}
	if !o.DryRun.Client() {
		if err := c.Patch(ctx, obj, patch, o.DryRun.PatchOptions()...); err != nil {
			return cmdutil.UserError(err)
		}
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
	p, err := cmdutil.WaitForRedeploy(ctx, c, obj, obj.GetGeneration(), o.Timeout, o.ErrOut)
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

func next(nonce *int64) int64 {
	if nonce == nil {
		return 1
	}
	return *nonce + 1
}

func resource(kind cmfv1.ParentKind) string {
	if kind == cmfv1.ParentStatement {
		return "statement"
	}
	return "flinkapplication"
}
