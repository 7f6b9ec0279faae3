// Package describe is `kubectl savepoint describe`: one savepoint in full,
// with its parent, conditions, events and the command that starts from it.
package describe

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdutil"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/rules"
)

// Options are the inputs of `kubectl savepoint describe`.
type Options struct {
	Name     string
	Detached bool
	genericiooptions.IOStreams

	namespace string
	client    client.Client
}

var _ cmdutil.Options = &Options{}

// NewOptions returns the options of a plain `kubectl savepoint describe`.
func NewOptions(streams genericiooptions.IOStreams) *Options {
	return &Options{IOStreams: streams}
}

// NewCmd returns `kubectl savepoint describe`.
func NewCmd(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := NewOptions(streams)
	cmd := &cobra.Command{
		Use:   "describe NAME",
		Short: "Show a savepoint in full: spec, status, conditions, events, and how to start from it",
		Example: `  kubectl savepoint describe orders-20261125t101500-3f9a
  kubectl savepoint describe --detached orders-before-migration`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: cmdutil.CompleteSavepoints(f),
		RunE:              cmdutil.RunE(f, o),
	}
	cmd.Flags().BoolVar(&o.Detached, "detached", false, "Describe a DetachedSavepoint.")
	return cmd
}

// Complete takes the name, the namespace and the client.
func (o *Options) Complete(f cmdutil.Factory, _ *cobra.Command, args []string) error {
	o.Name = args[0]
	var err error
	o.namespace, o.client, err = cmdutil.NamespaceAndClient(f)
	return err
}

// Validate has nothing to check: a name is all describe takes.
func (o *Options) Validate() error { return nil }

// Run reads the savepoint and the events about it, and describes it.
func (o *Options) Run(ctx context.Context) error {
	key := client.ObjectKey{Namespace: o.namespace, Name: o.Name}
	if o.Detached {
		dsp := &cmfv1.DetachedSavepoint{}
		if err := o.client.Get(ctx, key, dsp); err != nil {
			return notFound(err, o.Name, o.namespace, "kubectl savepoint list --detached")
		}
		return describeDetached(o.Out, dsp, time.Now())
	}
	sp := &cmfv1.Savepoint{}
	if err := o.client.Get(ctx, key, sp); err != nil {
		return notFound(err, o.Name, o.namespace, "kubectl savepoint list")
	}
	var events eventsv1.EventList
	_ = o.client.List(ctx, &events, client.InNamespace(o.namespace), aboutSavepoint(sp)) // events are a help, not a need
	return Savepoint(o.Out, sp, events.Items, time.Now())
}

// aboutSavepoint selects the events about sp, as kubectl describe does
// (events.k8s.io/v1 calls core/v1's involvedObject "regarding"): the UID
// keeps out the events of an earlier savepoint of the same name.
func aboutSavepoint(sp *cmfv1.Savepoint) client.MatchingFields {
	return client.MatchingFields{
		"regarding.kind": "Savepoint",
		"regarding.name": sp.Name,
		"regarding.uid":  string(sp.UID),
	}
}

func notFound(err error, name, ns, hint string) error {
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("%s not found in namespace %s: list them with %s", name, ns, hint)
	}
	return cmdutil.UserError(err)
}

// Savepoint writes the description of sp, with events about it (in any
// order: they are listed by time).
func Savepoint(out io.Writer, sp *cmfv1.Savepoint, events []eventsv1.Event, now time.Time) error {
	w := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	kind, parent := sp.Parent()
	line := func(k, v string) { cmdutil.Fprintf(w, "%s:\t%s\n", k, orNone(v)) }
	line("Name", sp.Name)
	line("Namespace", sp.Namespace)
	line("UID", string(sp.UID))
	line("Parent", fmt.Sprintf("%s %s", kind, parent))
	line("State", string(sp.Status.State))
	line("Path", sp.Status.Path)
	line("Format", string(sp.Spec.FormatType))
	line("Target directory", orDefault(sp.Spec.Path, "<cluster default>"))
	limit := "-1 (retry until it succeeds)"
	if sp.Spec.BackoffLimit != nil && *sp.Spec.BackoffLimit >= 0 {
		limit = fmt.Sprint(*sp.Spec.BackoffLimit)
	}
	line("Backoff limit", limit)
	line("Failures", fmt.Sprint(sp.Status.Failures))
	line("Error", sp.Status.Error)
	line("Origin", string(sp.Status.Origin))
	line("Job ID", sp.Status.JobID)
	line("Trigger ID", sp.Status.TriggerID)
	if t := sp.Status.TriggerTimestamp; t != nil {
		line("Triggered", t.UTC().Format(time.RFC3339))
	}
	if t := sp.Status.ResultTimestamp; t != nil {
		line("Finished", t.UTC().Format(time.RFC3339))
	}
	if sp.Status.PendingDeletion {
		line("Deletion", "pending: waiting for the Flink cluster to dispose the data (delete with --force to keep the data and remove the resource)")
	}
	line("Created", sp.CreationTimestamp.UTC().Format(time.RFC3339))
	if err := w.Flush(); err != nil {
		return err
	}

	cmdutil.Fprintf(out, "Conditions:\n")
	if len(sp.Status.Conditions) == 0 {
		cmdutil.Fprintf(out, "  <none>\n")
	}
	for _, c := range sp.Status.Conditions {
		cmdutil.Fprintf(out, "  %s=%s  %s: %s\n", c.Type, c.Status, c.Reason, c.Message)
	}

	if sp.Status.State == cmfv1.StateCompleted {
		flag := "--" + kind.Noun() + " " + parent
		cmdutil.Fprintf(out, "Start from it:\n  kubectl savepoint start %s --savepoint %s\n", flag, sp.Name)
		if rules.CanDetach(sp) == nil {
			cmdutil.Fprintf(out, "Keep it beyond the application:\n  kubectl savepoint detach %s\n", sp.Name)
		}
	}

	events = slices.Clone(events)
	sort.Slice(events, func(i, j int) bool { return eventTime(events[i]).Before(eventTime(events[j])) })
	cmdutil.Fprintf(out, "Events:\n")
	if len(events) == 0 {
		cmdutil.Fprintf(out, "  <none>\n")
		return nil
	}
	ew := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	cmdutil.Fprintf(ew, "  TYPE\tREASON\tAGE\tMESSAGE\n")
	for _, e := range events {
		cmdutil.Fprintf(ew, "  %s\t%s\t%s\t%s\n", e.Type, e.Reason, duration.HumanDuration(now.Sub(eventTime(e))), e.Note)
	}
	return ew.Flush()
}

func describeDetached(out io.Writer, d *cmfv1.DetachedSavepoint, now time.Time) error {
	w := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	line := func(k, v string) { cmdutil.Fprintf(w, "%s:\t%s\n", k, orNone(v)) }
	line("Name", d.Name)
	line("Namespace", d.Namespace)
	line("UID", string(d.UID))
	line("State", string(cmfv1.StateCompleted))
	line("Path", d.Spec.Path)
	if s := d.Spec.Source; s != nil {
		line("Detached from", fmt.Sprintf("Savepoint %s/%s of FlinkApplication %s", s.Namespace, s.SavepointName, s.Application))
	} else {
		line("Detached from", "<imported>")
	}
	line("Age", duration.HumanDuration(now.Sub(d.CreationTimestamp.Time)))
	if err := w.Flush(); err != nil {
		return err
	}
	cmdutil.Fprintf(out, "Start an application from it:\n  kubectl savepoint start --application NAME --savepoint %s\n", d.Name)
	cmdutil.Fprintf(out, "Deleting it keeps the data at %s.\n", d.Spec.Path)
	return nil
}

func eventTime(e eventsv1.Event) time.Time {
	if !e.EventTime.IsZero() {
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "<none>"
	}
	return s
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
