package policy

import (
	"bytes"
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
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdutil"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/schedule"
)

// nextRuns is how many coming runs describe shows per parent.
const nextRuns = 5

// DescribeOptions are the inputs of `kubectl savepoint policy describe`.
type DescribeOptions struct {
	Name string
	genericiooptions.IOStreams

	namespace string
	client    client.Client
	now       func() time.Time
}

var _ cmdutil.Options = &DescribeOptions{}

// NewDescribeOptions returns the options of a plain `kubectl savepoint
// policy describe`.
func NewDescribeOptions(streams genericiooptions.IOStreams) *DescribeOptions {
	return &DescribeOptions{IOStreams: streams, now: time.Now}
}

func newDescribeCmd(f cmdutil.Factory, o *DescribeOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "describe NAME",
		Short: "Show a SavepointPolicy in full: what it does, and per parent its newest good savepoint, counts and next runs",
		Long: `Show a SavepointPolicy: its schedule, windows, retention and template in
words; for each parent it applies to, the newest COMPLETED savepoint and its
age, the last scheduled time, why a due run waits, the runs taken, the runs
skipped by reason and the savepoints retention deleted; the next 5 runs of
each parent with its jitter and the blackout windows applied (assuming its
job runs); the conditions (Conflict: another policy is as specific for a
parent) and events.`,
		Example:           `  kubectl savepoint policy describe nightly`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: cmdutil.CompletePolicies(f),
		RunE:              cmdutil.RunE(f, o),
	}
}

// Complete takes the name, the namespace and the client.
func (o *DescribeOptions) Complete(f cmdutil.Factory, _ *cobra.Command, args []string) error {
	o.Name = args[0]
	var err error
	o.namespace, o.client, err = cmdutil.NamespaceAndClient(f)
	return err
}

// Validate has nothing to check: a name is all describe takes.
func (o *DescribeOptions) Validate() error { return nil }

// Run reads the policy and the events about it, and describes it.
func (o *DescribeOptions) Run(ctx context.Context) error {
	p := &cmfv1.SavepointPolicy{}
	if err := o.client.Get(ctx, client.ObjectKey{Namespace: o.namespace, Name: o.Name}, p); err != nil {
		return notFound(err, o.Name, o.namespace)
	}
	var events eventsv1.EventList
	_ = o.client.List(ctx, &events, client.InNamespace(o.namespace), client.MatchingFields{ // events are a help, not a need
		"regarding.kind": "SavepointPolicy", "regarding.name": p.Name, "regarding.uid": string(p.UID),
	})
	return Describe(o.Out, p, events.Items, o.now())
}

// Describe writes the description of p at now, with the events about it.
func Describe(out io.Writer, p *cmfv1.SavepointPolicy, events []eventsv1.Event, now time.Time) error {
	loc, locErr := schedule.LoadLocation("spec.timeZone", p.Spec.TimeZone)
	if locErr != nil {
		loc = time.UTC
	}
	plan, planErr := schedule.Parse(&p.Spec)
	at := func(t time.Time) string { return t.In(loc).Format("Mon 2006-01-02 15:04:05 MST") }

	w := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	line := func(k, v string) { cmdutil.Fprintf(w, "%s:\t%s\n", k, v) }
	line("Name", p.Name)
	line("Namespace", p.Namespace)
	if p.NamespaceDefault() {
		line("Covers", fmt.Sprintf("every application and statement of %s that no other policy names or selects (the namespace default)", p.Namespace))
	} else {
		line("Covers", covers(p))
	}
	switch {
	case p.Spec.Schedule == "":
		line("Schedule", "<none>: no savepoints are scheduled; the policy keeps its retention and template")
	case planErr != nil:
		line("Schedule", fmt.Sprintf("%s (invalid: %v)", p.Spec.Schedule, planErr))
	case strings.HasPrefix(p.Spec.Schedule, "@every"):
		line("Schedule", p.Spec.Schedule+", counted from each parent's last scheduled run")
	default:
		line("Schedule", fmt.Sprintf("%s in %s", p.Spec.Schedule, orDefault(p.Spec.TimeZone, "UTC")))
	}
	if j := p.Spec.Jitter; j != nil && j.Duration > 0 {
		line("Jitter", fmt.Sprintf("each parent at its own fixed offset within %s after the scheduled time", short(j.Duration)))
	}
	if d := p.Spec.StartingDeadline; d != nil {
		line("Starting deadline", fmt.Sprintf("%s: a run that cannot start within %s of its time is skipped", short(d.Duration), short(d.Duration)))
	} else if p.Spec.Schedule != "" {
		line("Starting deadline", "<none>: one missed run is taken late")
	}
	for i, b := range p.Spec.BlackoutWindows {
		key := ""
		if i == 0 {
			key = "Blackout windows"
		}
		cmdutil.Fprintf(w, "%s\t%s for %s (%s)\n", keyed(key), b.Schedule, short(b.Duration.Duration), orDefault(b.TimeZone, orDefault(p.Spec.TimeZone, "UTC")))
	}
	if p.Spec.Suspend {
		line("Suspended", "yes: no savepoints are scheduled (retention still runs); resume with kubectl savepoint policy resume "+p.Name)
	} else {
		line("Suspended", "no")
	}
	line("Template", template(p))
	line("Retention", retention(p.Spec.Retention))
	if t := p.Status.LastSuccessTime; t != nil {
		line("Last success", fmt.Sprintf("%s ago: every parent it applies to has a COMPLETED savepoint at least this recent", duration.HumanDuration(now.Sub(t.Time))))
	} else {
		line("Last success", "<none>: a parent it applies to has no COMPLETED savepoint yet")
	}
	if t := p.Status.NextScheduleTime; t != nil && !p.Spec.Suspend {
		line("Next run", fmt.Sprintf("%s (%s)", at(t.Time), next(p, now)))
	}
	line("Last run request", orNone(p.Status.LastRunRequest))
	line("Created", p.CreationTimestamp.UTC().Format(time.RFC3339))
	if err := w.Flush(); err != nil {
		return err
	}

	cmdutil.Fprintf(out, "Parents (%d):\n", len(p.Status.Parents))
	if len(p.Status.Parents) == 0 {
		cmdutil.Fprintf(out, "  <none reported yet>\n")
		if plan != nil && !p.Spec.Suspend {
			// The schedule's own times, before any parent's jitter.
			cmdutil.Fprintf(out, "Next scheduled times:\n")
			writeRuns(out, "  ", projectRuns(plan, p.CreationTimestamp.Time, 0, now, nextRuns), at, now)
		}
	}
	for i := range p.Status.Parents {
		ps := &p.Status.Parents[i]
		cmdutil.Fprintf(out, "  %s %s:\n", ps.Kind, ps.Name)
		pw := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
		pline := func(k, v string) { cmdutil.Fprintf(pw, "    %s:\t%s\n", k, v) }
		newest := "<none>"
		if ps.LastSuccessfulSavepoint != "" {
			newest = ps.LastSuccessfulSavepoint
			if ps.LastSuccessTime != nil {
				newest += fmt.Sprintf(" (%s ago)", duration.HumanDuration(now.Sub(ps.LastSuccessTime.Time)))
			}
		}
		pline("Newest good savepoint", newest)
		if ps.LastSavepoint != "" && ps.LastSavepoint != ps.LastSuccessfulSavepoint {
			pline("Last taken by the policy", ps.LastSavepoint)
		}
		if ps.LastScheduleTime != nil {
			pline("Last scheduled", at(ps.LastScheduleTime.Time))
		} else {
			pline("Last scheduled", "<none>")
		}
		pline("Waiting", waiting(ps.Waiting))
		pline("Runs", fmt.Sprint(ps.Runs))
		s := ps.Skipped
		pline("Skipped", fmt.Sprintf("blackout %d, in flight %d, not running %d, missed deadline %d", s.Blackout, s.InFlight, s.NotRunning, s.MissedDeadline))
		pline("Retention deletions", fmt.Sprint(ps.RetentionDeletions))
		if err := pw.Flush(); err != nil {
			return err
		}
		switch {
		case plan == nil:
		case p.Spec.Suspend:
			cmdutil.Fprintf(out, "    Next runs: none while suspended\n")
		default:
			cmdutil.Fprintf(out, "    Next runs:\n")
			last := p.CreationTimestamp.Time
			if ps.LastScheduleTime != nil {
				last = ps.LastScheduleTime.Time
			}
			writeRuns(out, "      ", projectRuns(plan, last, plan.Offset(p.Namespace, p.Name, ps.Kind, ps.Name), now, nextRuns), at, now)
		}
	}

	cmdutil.Fprintf(out, "Conditions:\n")
	if len(p.Status.Conditions) == 0 {
		cmdutil.Fprintf(out, "  <none>\n")
	}
	for _, c := range p.Status.Conditions {
		cmdutil.Fprintf(out, "  %s=%s  %s: %s\n", c.Type, c.Status, c.Reason, c.Message)
	}
	return writeEvents(out, events, now)
}

// keyed is a key column of the description, empty for a continued line.
func keyed(key string) string {
	if key == "" {
		return ""
	}
	return key + ":"
}

func writeRuns(out io.Writer, indent string, runs []projected, at func(time.Time) string, now time.Time) {
	if len(runs) == 0 {
		cmdutil.Fprintf(out, "%s<none>: the schedule does not fire again\n", indent)
		return
	}
	var buf bytes.Buffer
	defer func() { // without the padding of an empty last column
		for _, l := range strings.SplitAfter(buf.String(), "\n") {
			cmdutil.Fprintf(out, "%s", strings.TrimRight(l, " \n")+strings.Repeat("\n", strings.Count(l, "\n")))
		}
	}()
	tw := tabwriter.NewWriter(&buf, 0, 8, 2, ' ', 0)
	for _, r := range runs {
		var what string
		switch {
		case r.Superseded && r.Skipped == schedule.ReasonBlackout:
			what = "skipped: a blackout window holds it until the next run is due"
		case r.Skipped == schedule.ReasonBlackout:
			what = "skipped: a blackout window holds it past its starting deadline"
		case r.Skipped != "":
			what = "skipped: " + r.Skipped
		case r.Starts.After(r.Due):
			what = "held by a blackout window until " + at(r.Starts)
		}
		cmdutil.Fprintf(tw, "%s%s\tin %s\t%s\n", indent, at(r.Due), duration.HumanDuration(r.Due.Sub(now)), what)
	}
	_ = tw.Flush()
}

func waiting(reason string) string {
	switch reason {
	case "":
		return "<none>"
	case schedule.ReasonBlackout:
		return "Blackout: the due run starts when the blackout window ends"
	case schedule.ReasonNotRunning:
		return "NotRunning: the due run starts when the job runs again"
	}
	return reason
}

// template says how the policy's savepoints are made.
func template(p *cmfv1.SavepointPolicy) string {
	t := p.Spec.Template
	if t == nil {
		t = &cmfv1.SavepointTemplate{}
	}
	format := orDefault(string(t.FormatType), string(cmfv1.FormatCanonical))
	path := orDefault(t.Path, "the cluster's savepoint directory")
	limit := "retried until it succeeds"
	if t.BackoffLimit != nil && *t.BackoffLimit >= 0 {
		limit = fmt.Sprintf("retried %d time(s)", *t.BackoffLimit)
	}
	s := fmt.Sprintf("%s, into %s, %s", format, path, limit)
	if p.NamespaceDefault() && p.Spec.Template != nil {
		s += "; also the default of every Savepoint of the namespace that leaves " + templateFields(t) + " out"
	}
	return s
}

// retention says which savepoints the policy deletes.
func retention(r *cmfv1.Retention) string {
	if r == nil || (r.KeepLast == nil && r.MaxAge == nil) {
		return "<none>: the policy deletes no savepoints"
	}
	var rules []string
	if r.KeepLast != nil {
		rules = append(rules, fmt.Sprintf("keeps the newest %d", *r.KeepLast))
	}
	if r.MaxAge != nil {
		rules = append(rules, fmt.Sprintf("deletes those older than %s", duration.HumanDuration(r.MaxAge.Duration)))
	}
	var origins []string
	for _, o := range r.RetentionOrigins() {
		origins = append(origins, string(o))
	}
	return fmt.Sprintf("%s of each parent's COMPLETED %s savepoints; never a MANUAL or IMPORTED one, a parent's newest COMPLETED one, or a restore point",
		strings.Join(rules, " and "), strings.Join(origins, " and "))
}

func writeEvents(out io.Writer, events []eventsv1.Event, now time.Time) error {
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

func eventTime(e eventsv1.Event) time.Time {
	if !e.EventTime.IsZero() {
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

// short is a duration as written in a spec: 10m, 1h, 1h30m (not 1h0m0s).
func short(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
