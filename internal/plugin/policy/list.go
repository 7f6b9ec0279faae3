package policy

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/printers"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdutil"
)

// ListOptions are the inputs of `kubectl savepoint policy list`.
type ListOptions struct {
	Output        *cmdutil.Output
	AllNamespaces bool
	Names         []string
	genericiooptions.IOStreams

	namespace string // "" with --all-namespaces
	client    client.Client
	now       func() time.Time
}

var _ cmdutil.Options = &ListOptions{}

// NewListCmd returns `kubectl savepoint policy list`.
func NewListCmd(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	return newListCmd(f, &ListOptions{Output: cmdutil.NewOutput(), IOStreams: streams, now: time.Now})
}

func newListCmd(f cmdutil.Factory, o *ListOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "list [NAME...]",
		Aliases: []string{"get", "ls"},
		Short:   "List SavepointPolicies: schedule, parents, last success and next run",
		Long: `List SavepointPolicies. LAST SUCCESS is the age of the oldest of the covered
parents' newest COMPLETED savepoints: every parent has a good savepoint at
least that recent. NEXT is when the next scheduled savepoint of any covered
parent is due.`,
		Example: `  kubectl savepoint policy list

  # In every namespace, with time zones and what each covers
  kubectl savepoint policy list -A -o wide

  kubectl savepoint policy list nightly -o yaml`,
		ValidArgsFunction: cmdutil.CompletePolicies(f),
		RunE:              cmdutil.RunE(f, o),
	}
	o.Output.PrintFlags.AddFlags(cmd)
	o.Output.AddFlags(cmd.Flags())
	cmd.Flags().BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "List across all namespaces.")
	return cmd
}

// Complete takes the names, the namespace (none with -A) and the client.
func (o *ListOptions) Complete(f cmdutil.Factory, _ *cobra.Command, args []string) error {
	o.Names = args
	o.Output.AllNamespaces = o.AllNamespaces
	var err error
	if o.namespace, o.client, err = cmdutil.NamespaceAndClient(f); err != nil {
		return err
	}
	if o.AllNamespaces {
		o.namespace = ""
	}
	return nil
}

// Validate checks -o; custom-columns are for savepoint lists.
func (o *ListOptions) Validate() error {
	return o.Output.Validate()
}

// Run lists and prints.
func (o *ListOptions) Run(ctx context.Context) error {
	var list cmfv1.SavepointPolicyList
	if err := o.client.List(ctx, &list, client.InNamespace(o.namespace)); err != nil {
		return cmdutil.UserError(err)
	}
	var kept []cmfv1.SavepointPolicy
	for _, p := range list.Items {
		if len(o.Names) == 0 || slices.Contains(o.Names, p.Name) {
			p.TypeMeta = typeMeta
			kept = append(kept, p)
		}
	}
	where := "namespace " + o.namespace
	if o.AllNamespaces {
		where = "any namespace"
	}
	switch {
	case len(kept) == 0 && len(o.Names) > 0:
		return notFoundIn(o.Names, where)
	case len(kept) == 0:
		cmdutil.Fprintf(o.ErrOut, "No savepoint policies found in %s.\n", where)
		return nil
	}
	return o.print(o.Out, kept, len(o.Names) == 1)
}

func (o *ListOptions) print(w io.Writer, policies []cmfv1.SavepointPolicy, single bool) error {
	format := ""
	if o.Output.PrintFlags.OutputFormat != nil {
		format = *o.Output.PrintFlags.OutputFormat
	}
	if format == "" || format == "wide" {
		return printTable(w, policies, printers.PrintOptions{Wide: format == "wide", NoHeaders: o.Output.NoHeaders, WithNamespace: o.AllNamespaces}, o.now())
	}
	printer, err := o.Output.PrintFlags.ToPrinter()
	if err != nil {
		return err
	}
	if single || strings.HasPrefix(format, "name") {
		for i := range policies {
			if err := printer.PrintObj(&policies[i], w); err != nil {
				return err
			}
		}
		return nil
	}
	items := &metav1.List{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "List"}}
	for i := range policies {
		items.Items = append(items.Items, runtime.RawExtension{Object: &policies[i]})
	}
	return printer.PrintObj(items, w)
}

// Policy table columns; the last ones only with -o wide.
var columns = []metav1.TableColumnDefinition{
	{Name: "Name", Type: "string"},
	{Name: "Schedule", Type: "string"},
	{Name: "Suspended", Type: "boolean"},
	{Name: "Parents", Type: "integer"},
	{Name: "Last Success", Type: "string"},
	{Name: "Next", Type: "string"},
	{Name: "Age", Type: "string"},
	{Name: "Time Zone", Type: "string", Priority: 1},
	{Name: "Covers", Type: "string", Priority: 1},
}

func printTable(w io.Writer, policies []cmfv1.SavepointPolicy, opts printers.PrintOptions, now time.Time) error {
	table := &metav1.Table{ColumnDefinitions: columns}
	for i := range policies {
		p := &policies[i]
		table.Rows = append(table.Rows, metav1.TableRow{
			Cells: []any{
				p.Name, orNone(p.Spec.Schedule), p.Spec.Suspend, int64(p.Status.ParentCount),
				ago(p.Status.LastSuccessTime, now), next(p, now), ago(&p.CreationTimestamp, now),
				orDefault(p.Spec.TimeZone, "UTC"), covers(p),
			},
			Object: runtime.RawExtension{Object: p},
		})
	}
	return printers.NewTablePrinter(opts).PrintObj(table, w)
}

// ago is how long ago t was, e.g. "3h12m"; <none> for no time.
func ago(t *metav1.Time, now time.Time) string {
	if t == nil || t.IsZero() {
		return "<none>"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

// next is when the policy's next savepoint is due, relative to now: "in
// 3h12m", "due" once the time has come (the manager starts it or says in
// describe why it waits), "<none>" when nothing is scheduled.
func next(p *cmfv1.SavepointPolicy, now time.Time) string {
	t := p.Status.NextScheduleTime
	switch {
	case p.Spec.Suspend:
		return "<suspended>"
	case t == nil || t.IsZero():
		return "<none>"
	case !t.After(now):
		return "due"
	}
	return "in " + duration.HumanDuration(t.Sub(now))
}

func orNone(s string) string { return orDefault(s, "<none>") }

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// notFoundIn is the error of a list whose names match no policy.
func notFoundIn(names []string, where string) error {
	return fmt.Errorf("no savepoint policy %s in %s: list them with kubectl savepoint policy list", strings.Join(names, ", "), where)
}
