package policy

import (
	"context"
	"errors"
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

// CreateOptions are the inputs of `kubectl savepoint policy create`.
type CreateOptions struct {
	Name             string
	Schedule         string
	TimeZone         string
	Applications     []string
	Statements       []string
	Selector         string
	Jitter           time.Duration
	StartingDeadline time.Duration
	Blackouts        []string
	KeepLast         int32
	MaxAge           time.Duration
	RetainOrigins    []string
	Format           string
	Path             string
	BackoffLimit     int32
	Suspend          bool
	DryRun           cmdutil.DryRun
	Output           *cmdutil.Output
	genericiooptions.IOStreams

	given     func(flag string) bool // whether the user gave the flag
	policy    *cmfv1.SavepointPolicy // built by Validate
	namespace string
	client    client.Client // nil on a client-side dry run
}

var _ cmdutil.Options = &CreateOptions{}

// NewCreateOptions returns the options of a plain `kubectl savepoint policy
// create`.
func NewCreateOptions(streams genericiooptions.IOStreams) *CreateOptions {
	return &CreateOptions{Output: cmdutil.NewOutput(), BackoffLimit: cmfv1.DefaultBackoffLimit, DryRun: "none", IOStreams: streams}
}

func newCreateCmd(f cmdutil.Factory, o *CreateOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "create NAME [--schedule CRON] [--application APP]... [--statement STATEMENT]... [--selector LABELS]",
		Short: "Create a SavepointPolicy: a schedule, blackout windows, a retention and defaults",
		Long: `Create a SavepointPolicy in the namespace.

It covers the applications and statements named with --application and
--statement and those whose labels match --selector; with none of them it is
the namespace default: it covers every parent no more specific policy
covers, and its template (--format, --path, --backoff-limit) is the default
of every Savepoint of the namespace that leaves those fields out.

--schedule is a 5-field cron expression (minute hour day-of-month month
day-of-week) read in --time-zone, or @every DURATION, @hourly, @daily, ...
--jitter gives each parent a fixed offset below it, so many jobs on one
schedule do not savepoint at the same second. --blackout CRON/DURATION is a
recurring window (start and length) in which no scheduled savepoint starts:
a run that falls in one waits for its end, unless it is then later than
--starting-deadline. Retention (--keep-last, --max-age) deletes the older
COMPLETED savepoints of the --retain-origin origins (PERIODIC by default),
never a MANUAL or IMPORTED one, the newest COMPLETED one of a parent, or a
restore point.`,
		Example: `  # Nightly at 02:00 Berlin time for two applications, keeping the newest 7
  kubectl savepoint policy create nightly -a orders -a payments \
    --schedule '0 2 * * *' --time-zone Europe/Berlin --keep-last 7

  # The namespace default: every 6 hours, spread over 20 minutes, not during
  # office hours, deleting PERIODIC and UPGRADE savepoints older than a week
  kubectl savepoint policy create default --schedule '@every 6h' --jitter 20m \
    --blackout '0 9 * * 1-5/8h' --starting-deadline 1h \
    --max-age 168h --retain-origin PERIODIC,UPGRADE

  # Every statement labelled tier=critical, hourly, NATIVE savepoints into a bucket
  kubectl savepoint policy create critical --selector tier=critical --schedule @hourly \
    --format NATIVE --path s3://bucket/savepoints

  # Print the manifest instead of creating it
  kubectl savepoint policy create nightly --schedule '0 2 * * *' --dry-run=client -o yaml`,
		Args: cobra.ExactArgs(1),
		RunE: cmdutil.RunE(f, o),
	}
	flags := cmd.Flags()
	flags.StringVar(&o.Schedule, "schedule", "", `When savepoints are taken: 5 cron fields, e.g. "0 2 * * *", or "@every 6h", @hourly, @daily, ...`)
	flags.StringVar(&o.TimeZone, "time-zone", "", `IANA time zone the schedule and the blackout windows are read in, e.g. Europe/Berlin; default UTC.`)
	flags.StringSliceVarP(&o.Applications, "application", "a", nil, "A FlinkApplication the policy covers (repeat or comma-separate).")
	flags.StringSliceVarP(&o.Statements, "statement", "s", nil, "A Statement the policy covers (repeat or comma-separate).")
	flags.StringVarP(&o.Selector, "selector", "l", "", "Cover the applications and statements whose labels match, e.g. env=prod,tier in (a,b).")
	flags.DurationVar(&o.Jitter, "jitter", 0, "Spread the parents' savepoints over this time after each scheduled time, e.g. 10m.")
	flags.DurationVar(&o.StartingDeadline, "starting-deadline", 0, "Skip a run that could not start within this time of its schedule (default: take one missed run late).")
	flags.StringArrayVar(&o.Blackouts, "blackout", nil, `A window in which no scheduled savepoint starts: CRON/DURATION, e.g. "0 9 * * 1-5/8h" (repeat).`)
	flags.Int32Var(&o.KeepLast, "keep-last", 0, "Keep the newest N COMPLETED savepoints of the retained origins per parent; delete older ones.")
	flags.DurationVar(&o.MaxAge, "max-age", 0, "Delete COMPLETED savepoints of the retained origins older than this, e.g. 168h.")
	flags.StringSliceVar(&o.RetainOrigins, "retain-origin", nil, "Origins retention deletes: PERIODIC (default), UPGRADE, SUSPEND.")
	flags.StringVar(&o.Format, "format", "", "Format of the policy's savepoints: CANONICAL (default) or NATIVE.")
	flags.StringVar(&o.Path, "path", "", "Directory the policy's savepoints are written below; default: the cluster's execution.checkpointing.savepoint-dir.")
	flags.Int32Var(&o.BackoffLimit, "backoff-limit", o.BackoffLimit, "Retries of a failed savepoint of the policy: -1 until it succeeds, 0 none.")
	flags.BoolVar(&o.Suspend, "suspend", false, "Create it suspended: no savepoints are scheduled until kubectl savepoint policy resume.")
	cmdutil.AddDryRunFlag(cmd, &o.DryRun)
	o.Output.PrintFlags.AddFlags(cmd)
	cmdutil.CompleteParents(f, cmd)
	_ = cmd.RegisterFlagCompletionFunc("retain-origin", cobra.FixedCompletions([]string{"PERIODIC", "UPGRADE", "SUSPEND"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"CANONICAL", "NATIVE"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Complete takes the name, which flags were given, the namespace and,
// unless nothing is to be sent, the client.
func (o *CreateOptions) Complete(f cmdutil.Factory, cmd *cobra.Command, args []string) error {
	o.Name = args[0]
	o.given = func(flag string) bool { return cmd.Flags().Changed(flag) }
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

// Validate builds the policy from the flags and checks it as the manager
// will read it (schedule.Parse), each error naming its flag.
func (o *CreateOptions) Validate() error {
	if err := o.DryRun.Validate(); err != nil {
		return err
	}
	if err := o.Output.Validate(); err != nil {
		return err
	}
	spec := cmfv1.SavepointPolicySpec{Schedule: o.Schedule, TimeZone: o.TimeZone, Suspend: o.Suspend}
	if err := o.parents(&spec); err != nil {
		return err
	}
	if err := o.timing(&spec); err != nil {
		return err
	}
	if err := o.retention(&spec); err != nil {
		return err
	}
	if err := o.template(&spec); err != nil {
		return err
	}
	if spec.Schedule == "" && spec.Retention == nil && spec.Template == nil {
		return errors.New("the policy would do nothing: give --schedule, a retention (--keep-last, --max-age) or a template (--format, --path, --backoff-limit)")
	}
	o.policy = &cmfv1.SavepointPolicy{
		TypeMeta:   typeMeta,
		ObjectMeta: metav1.ObjectMeta{Namespace: o.namespace, Name: o.Name},
		Spec:       spec,
	}
	return nil
}

func (o *CreateOptions) parents(spec *cmfv1.SavepointPolicySpec) error {
	if len(o.Applications) == 0 && len(o.Statements) == 0 && o.Selector == "" {
		return nil
	}
	parents := &cmfv1.PolicyParents{Applications: o.Applications, Statements: o.Statements}
	if o.Selector != "" {
		sel, err := metav1.ParseToLabelSelector(o.Selector)
		if err != nil {
			return fmt.Errorf("--selector %q: %v: write it as kubectl -l takes it, e.g. env=prod,tier in (a,b)", o.Selector, err)
		}
		parents.Selector = sel
	}
	for _, names := range [][]string{parents.Applications, parents.Statements} {
		if slices.Contains(names, "") {
			return errors.New("--application and --statement take a name each: drop the empty one")
		}
	}
	spec.Parents = parents
	return nil
}

// timing reads the schedule, time zone, jitter, deadline and blackout
// windows, and checks them together as the manager does.
func (o *CreateOptions) timing(spec *cmfv1.SavepointPolicySpec) error {
	if spec.Schedule == "" {
		for _, flag := range []string{"time-zone", "jitter", "starting-deadline", "blackout"} {
			if o.given(flag) {
				return fmt.Errorf("--%s needs --schedule: it only shapes scheduled savepoints", flag)
			}
		}
		return nil
	}
	loc, err := schedule.LoadLocation("--time-zone", spec.TimeZone)
	if err != nil {
		return err
	}
	if _, err := schedule.ParseCron("--schedule", spec.Schedule, loc); err != nil {
		return err
	}
	for _, raw := range o.Blackouts {
		w, err := blackout(raw, loc)
		if err != nil {
			return err
		}
		spec.BlackoutWindows = append(spec.BlackoutWindows, w)
	}
	if o.given("jitter") {
		spec.Jitter = &metav1.Duration{Duration: o.Jitter}
	}
	if o.given("starting-deadline") {
		spec.StartingDeadline = &metav1.Duration{Duration: o.StartingDeadline}
	}
	if _, err := schedule.Parse(spec); err != nil {
		return errors.New(flagNames.Replace(err.Error()))
	}
	return nil
}

// flagNames are the flags of the fields schedule.Parse names.
var flagNames = strings.NewReplacer(
	"spec.schedule", "--schedule", "spec.timeZone", "--time-zone",
	"spec.jitter", "--jitter", "spec.startingDeadline", "--starting-deadline",
)

// blackout reads --blackout CRON/DURATION: the length follows the last
// slash (a cron step such as */15 has one too, but never a unit).
func blackout(raw string, loc *time.Location) (cmfv1.BlackoutWindow, error) {
	usage := fmt.Errorf("--blackout %q: write CRON/DURATION, when each window starts and how long it lasts, e.g. '0 9 * * 1-5/8h'", raw)
	i := strings.LastIndex(raw, "/")
	if i < 0 {
		return cmfv1.BlackoutWindow{}, usage
	}
	length, err := time.ParseDuration(strings.TrimSpace(raw[i+1:]))
	if err != nil {
		return cmfv1.BlackoutWindow{}, usage
	}
	if length <= 0 {
		return cmfv1.BlackoutWindow{}, fmt.Errorf("--blackout %q: the window's length %s must be positive, e.g. 8h", raw, length)
	}
	expr := strings.TrimSpace(raw[:i])
	if _, err := schedule.ParseCron("--blackout", expr, loc); err != nil {
		return cmfv1.BlackoutWindow{}, err
	}
	return cmfv1.BlackoutWindow{Schedule: expr, Duration: metav1.Duration{Duration: length}}, nil
}

// retainable are the origins retention may delete.
var retainable = []string{string(cmfv1.OriginPeriodic), string(cmfv1.OriginUpgrade), string(cmfv1.OriginSuspend)}

func (o *CreateOptions) retention(spec *cmfv1.SavepointPolicySpec) error {
	keepLast, maxAge := o.given("keep-last"), o.given("max-age")
	if !keepLast && !maxAge {
		if len(o.RetainOrigins) > 0 {
			return errors.New("--retain-origin needs --keep-last or --max-age: it says which savepoints they delete")
		}
		return nil
	}
	r := &cmfv1.Retention{}
	if keepLast {
		if o.KeepLast < 1 {
			return fmt.Errorf("--keep-last %d: keep at least 1 (a parent's newest COMPLETED savepoint is never deleted anyway)", o.KeepLast)
		}
		r.KeepLast = &o.KeepLast
	}
	if maxAge {
		if o.MaxAge <= 0 {
			return fmt.Errorf("--max-age %s must be positive, e.g. 168h", o.MaxAge)
		}
		r.MaxAge = &metav1.Duration{Duration: o.MaxAge}
	}
	for _, origin := range o.RetainOrigins {
		origin = strings.ToUpper(strings.TrimSpace(origin))
		switch {
		case origin == string(cmfv1.OriginManual) || origin == string(cmfv1.OriginImported):
			return fmt.Errorf("--retain-origin %s: a policy never deletes MANUAL or IMPORTED savepoints; use %s", origin, strings.Join(retainable, ", "))
		case !slices.Contains(retainable, origin):
			return fmt.Errorf("--retain-origin %q: use %s", origin, strings.Join(retainable, ", "))
		case !slices.Contains(r.Origins, cmfv1.RetentionOrigin(origin)):
			r.Origins = append(r.Origins, cmfv1.RetentionOrigin(origin))
		}
	}
	spec.Retention = r
	return nil
}

func (o *CreateOptions) template(spec *cmfv1.SavepointPolicySpec) error {
	if o.Format == "" && o.Path == "" && !o.given("backoff-limit") {
		return nil
	}
	t := &cmfv1.SavepointTemplate{Path: o.Path}
	switch o.Format {
	case "", string(cmfv1.FormatCanonical), string(cmfv1.FormatNative):
		t.FormatType = cmfv1.FormatType(o.Format)
	default:
		return fmt.Errorf("--format %q: use CANONICAL or NATIVE", o.Format)
	}
	if o.given("backoff-limit") {
		if o.BackoffLimit < -1 {
			return fmt.Errorf("--backoff-limit %d: use -1 (retry until it succeeds), 0 (no retry) or more", o.BackoffLimit)
		}
		t.BackoffLimit = &o.BackoffLimit
	}
	spec.Template = t
	return nil
}

// Run creates the policy, or prints it on a client-side dry run, and warns
// when another policy is exactly as specific for some of its parents.
func (o *CreateOptions) Run(ctx context.Context) error {
	p := o.policy
	if o.DryRun.Client() {
		return o.print(p, "created"+o.DryRun.Suffix())
	}
	if err := o.client.Create(ctx, p, o.DryRun.CreateOptions()...); err != nil {
		return cmdutil.UserError(err)
	}
	p.TypeMeta = typeMeta
	if err := o.print(p, "created"+o.DryRun.Suffix()); err != nil {
		return err
	}
	var existing cmfv1.SavepointPolicyList
	if o.client.List(ctx, &existing, client.InNamespace(o.namespace)) == nil { // a help, not a need
		for _, w := range tiedWith(existing.Items, p, time.Now()) {
			cmdutil.Fprintf(o.ErrOut, "Warning: %s\n", w)
		}
	}
	return nil
}

func (o *CreateOptions) print(p *cmfv1.SavepointPolicy, verb string) error {
	if o.Output.PrintFlags.OutputFormat != nil && *o.Output.PrintFlags.OutputFormat != "" {
		printer, err := o.Output.PrintFlags.ToPrinter()
		if err != nil {
			return err
		}
		return printer.PrintObj(p, o.Out)
	}
	line := fmt.Sprintf("savepointpolicy/%s %s", p.Name, verb)
	if p.NamespaceDefault() {
		line += fmt.Sprintf(": the namespace default of %s, covering every application and statement no other policy names or selects", p.Namespace)
		if p.Spec.Template != nil {
			line += ", and the default of its savepoints' " + templateFields(p.Spec.Template)
		}
	}
	cmdutil.Fprintf(o.Out, "%s\n", line)
	return nil
}

// templateFields names the fields a template sets, e.g. "formatType and path".
func templateFields(t *cmfv1.SavepointTemplate) string {
	var fields []string
	if t.FormatType != "" {
		fields = append(fields, "formatType")
	}
	if t.Path != "" {
		fields = append(fields, "path")
	}
	if t.BackoffLimit != nil {
		fields = append(fields, "backoffLimit")
	}
	switch len(fields) {
	case 0:
		return "fields"
	case 1:
		return fields[0]
	}
	return strings.Join(fields[:len(fields)-1], ", ") + " and " + fields[len(fields)-1]
}

// tiedWith says where another policy is exactly as specific as p for a
// parent (both the namespace default, or both naming it): one of them
// applies there, by rules.PolicyFor (the older), and both report a
// Conflict. A selector's overlap depends on the parents' labels; the
// manager reports it. now stands in for p's creation when the server did
// not say.
func tiedWith(existing []cmfv1.SavepointPolicy, p *cmfv1.SavepointPolicy, now time.Time) []string {
	mine := p.DeepCopy()
	if mine.CreationTimestamp.IsZero() {
		mine.CreationTimestamp = metav1.NewTime(now)
	}
	var out []string
	for i := range existing {
		other := &existing[i]
		if other.Name == p.Name || other.DeletionTimestamp != nil {
			continue
		}
		pair := []cmfv1.SavepointPolicy{*other, *mine}
		if p.NamespaceDefault() && other.NamespaceDefault() {
			winner, _ := rules.PolicyFor(pair, cmfv1.ParentApplication, "", nil)
			out = append(out, fmt.Sprintf("savepointpolicy/%s is a namespace default too: savepointpolicy/%s applies (the older), and both will report a Conflict; give one --application, --statement or --selector, or delete one", other.Name, winner.Name))
			continue
		}
		if p.NamespaceDefault() || other.NamespaceDefault() {
			continue
		}
		var both []string
		var kind cmfv1.ParentKind
		var name string
		for _, a := range p.Spec.Parents.Applications {
			if slices.Contains(other.Spec.Parents.Applications, a) {
				both, kind, name = append(both, "application "+a), cmfv1.ParentApplication, a
			}
		}
		for _, s := range p.Spec.Parents.Statements {
			if slices.Contains(other.Spec.Parents.Statements, s) {
				both, kind, name = append(both, "statement "+s), cmfv1.ParentStatement, s
			}
		}
		if len(both) > 0 {
			winner, _ := rules.PolicyFor(pair, kind, name, nil)
			out = append(out, fmt.Sprintf("savepointpolicy/%s also names %s: savepointpolicy/%s applies to them (the older), and both will report a Conflict", other.Name, strings.Join(both, ", "), winner.Name))
		}
	}
	return out
}
