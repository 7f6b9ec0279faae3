package start

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdutil"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/rules"
)

// guard stands before a redeploy that would cancel a running job and, with
// it, the state the job built since the savepoint it starts from. With
// --savepoint-first that state is kept in a new savepoint; with --yes the
// user said so already; otherwise the user is told what goes and asked, on
// a terminal only. A dry run is told and not asked. A job that does not run
// has nothing to lose: no question.
func (o *Options) guard(ctx context.Context, parent client.Object, ref *cmfv1.StartFromSavepoint) error {
	job := cmdutil.ParentProgressOf(parent)
	kind, name := o.Parent.Kind()
	if !job.JobRuns() {
		if o.SavepointFirst {
			cmdutil.Fprintf(o.ErrOut, "%s %s runs no job: no savepoint to take first\n", kind.Noun(), name)
		}
		return nil
	}
	if o.Yes && !o.SavepointFirst {
		return nil
	}
	// The start point is checked before a savepoint is taken or a question
	// asked: a redeploy the webhook would refuse needs neither.
	from, err := describeStart(ctx, o.client, kind, parent.GetNamespace(), name, ref, time.Now())
	if err != nil {
		return err
	}
	if o.SavepointFirst {
		return o.savepointFirst(ctx)
	}
	jobID := job.JobID
	if jobID == "" {
		jobID = "<unknown id>"
	}
	cmdutil.Fprintf(o.ErrOut, "%s %s runs job %s: redeploying from %s discards the state it built since then (%s). Take a savepoint first with --savepoint-first, or pass --yes.\n",
		kind.Noun(), name, jobID, from.what, from.when)
	switch {
	case o.DryRun != "none":
		return nil
	case !cmdutil.IsTerminal(o.In):
		return fmt.Errorf("not redeployed: %s %s runs job %s and there is no terminal to confirm on: pass --yes to discard its state, or --savepoint-first to keep it in a savepoint first", kind.Noun(), name, jobID)
	case !cmdutil.Confirm(o.In, o.ErrOut, "Redeploy anyway?"):
		return errors.New("not redeployed: confirm with y, or pass --yes or --savepoint-first")
	}
	return nil
}

// savepointFirst takes a savepoint of the parent's job exactly as
// `kubectl savepoint create -a APP --wait` does, and waits until it is
// COMPLETED: a savepoint that fails stops the redeploy.
func (o *Options) savepointFirst(ctx context.Context) error {
	sp, err := o.first.Take(ctx)
	if err != nil {
		return fmt.Errorf("not redeployed: %w", err)
	}
	if o.DryRun == "none" {
		cmdutil.Fprintf(o.Out, "savepoint/%s taken first at %s\n", sp.Name, sp.Status.Path)
	}
	return nil
}

// startPoint is the savepoint a redeploy starts from, as the question
// names it: what it is, and how old (as far as anything records it).
type startPoint struct {
	what, when string
}

// describeStart resolves ref with the rules the webhook applies, so that an
// unacceptable start point is refused in the webhook's words before
// anything else happens. A lookup the user may not make (e.g. a cluster-wide
// list of DetachedSavepoints) only makes the description vaguer: the
// webhook has the last word.
func describeStart(ctx context.Context, c client.Reader, kind cmfv1.ParentKind, namespace, parent string, ref *cmfv1.StartFromSavepoint, now time.Time) (startPoint, error) {
	lookup := &liveLookup{reader: c, namespace: namespace}
	resolved, err := rules.ResolveStartFromSavepoint(ctx, lookup, kind, namespace, parent, ref)
	var status apierrors.APIStatus
	switch {
	case errors.As(err, &status):
		what := "savepoint " + ref.SavepointName
		if ref.UID != "" {
			what = "savepoint with uid " + ref.UID
		}
		return startPoint{what: what, when: "its age unknown"}, nil
	case err != nil:
		return startPoint{}, err
	}
	switch {
	case lookup.attached != nil:
		sp := lookup.attached
		when := "created " + ago(sp.CreationTimestamp.Time, now)
		if t := sp.Status.ResultTimestamp; t != nil {
			when = "taken " + ago(t.Time, now)
		}
		return startPoint{what: fmt.Sprintf("savepoint %s at %s", sp.Name, resolved.Path), when: when}, nil
	case lookup.detached != nil:
		d := lookup.detached
		return startPoint{
			what: fmt.Sprintf("detached savepoint %s at %s", d.Name, resolved.Path),
			when: "its age unknown; registered " + ago(d.CreationTimestamp.Time, now),
		}, nil
	}
	return startPoint{what: resolved.Path, when: "its age unknown"}, nil
}

// ago is a time as a user reads it: "2026-11-25T10:15:00Z, 3h ago".
func ago(t, now time.Time) string {
	return fmt.Sprintf("%s, %s ago", t.UTC().Format(time.RFC3339), duration.HumanDuration(now.Sub(t)))
}
