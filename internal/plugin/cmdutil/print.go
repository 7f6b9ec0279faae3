package cmdutil

import (
	"fmt"
	"io"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/client-go/util/jsonpath"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

// Output prints savepoints as kubectl would: a table by default (wide with
// -o wide), else any of kubectl's formats (json, yaml, name, jsonpath, go-template).
type Output struct {
	PrintFlags    *genericclioptions.PrintFlags
	NoHeaders     bool
	AllNamespaces bool
}

// NewOutput returns an Output with kubectl's print flags.
func NewOutput() *Output {
	return &Output{PrintFlags: genericclioptions.NewPrintFlags("").WithTypeSetter(Scheme())}
}

// AddFlags adds -o and --no-headers.
func (o *Output) AddFlags(flags interface {
	BoolVar(*bool, string, bool, string)
}) {
	flags.BoolVar(&o.NoHeaders, "no-headers", false, "Print no column headers (table output).")
}

func (o *Output) format() string {
	if o.PrintFlags.OutputFormat == nil {
		return ""
	}
	return *o.PrintFlags.OutputFormat
}

// Validate checks -o before anything is done.
func (o *Output) Validate() error {
	switch f := o.format(); {
	case f == "", f == "wide":
		return nil
	case strings.HasPrefix(f, "custom-columns="):
		_, err := parseCustomColumns(strings.TrimPrefix(f, "custom-columns="))
		return err
	}
	_, err := o.PrintFlags.ToPrinter()
	return err
}

// PrintSavepoints prints attached and detached savepoints: as a List, as
// kubectl does, unless single (one object asked for by name).
func (o *Output) PrintSavepoints(w io.Writer, attached []cmfv1.Savepoint, detached []cmfv1.DetachedSavepoint, single bool, now time.Time) error {
	switch f := o.format(); {
	case f == "", f == "wide":
		return o.printTable(w, attached, detached, now)
	case strings.HasPrefix(f, "custom-columns="):
		return o.printCustomColumns(w, strings.TrimPrefix(f, "custom-columns="), attached, detached)
	}
	printer, err := o.PrintFlags.ToPrinter()
	if err != nil {
		return err
	}
	var objs []runtime.Object
	for i := range attached {
		objs = append(objs, &attached[i])
	}
	for i := range detached {
		objs = append(objs, &detached[i])
	}
	if (single && len(objs) == 1) || strings.HasPrefix(o.format(), "name") {
		for _, obj := range objs {
			if err := printer.PrintObj(obj, w); err != nil {
				return err
			}
		}
		return nil
	}
	list := &metav1.List{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "List"}}
	for _, obj := range objs {
		list.Items = append(list.Items, runtime.RawExtension{Object: obj})
	}
	return printer.PrintObj(list, w)
}

// Savepoint table columns; the last ones only with -o wide. ORIGIN is a
// default column: with scheduled savepoints beside manual ones, what made a
// savepoint is the first thing asked of a list.
var columns = []metav1.TableColumnDefinition{
	{Name: "Name", Type: "string"},
	{Name: "State", Type: "string"},
	{Name: "Parent", Type: "string"},
	{Name: "Origin", Type: "string"},
	{Name: "Format", Type: "string"},
	{Name: "Path", Type: "string"},
	{Name: "Age", Type: "string"},
	{Name: "Failures", Type: "integer", Priority: 1},
	{Name: "Error", Type: "string", Priority: 1},
}

func (o *Output) printTable(w io.Writer, attached []cmfv1.Savepoint, detached []cmfv1.DetachedSavepoint, now time.Time) error {
	table := &metav1.Table{ColumnDefinitions: columns}
	for i := range attached {
		sp := &attached[i]
		kind, parent := sp.Parent()
		prefix := kind.Noun() + "/"
		state := string(sp.Status.State)
		if sp.Status.PendingDeletion {
			state += " (deleting)"
		}
		table.Rows = append(table.Rows, metav1.TableRow{
			Cells:  []any{sp.Name, orNone(state), prefix + parent, orNone(string(sp.Status.Origin)), string(sp.Spec.FormatType), orNone(sp.Status.Path), age(sp.CreationTimestamp, now), int64(sp.Status.Failures), orNone(OneLine(sp.Status.Error))},
			Object: runtime.RawExtension{Object: sp},
		})
	}
	for i := range detached {
		d := &detached[i]
		table.Rows = append(table.Rows, metav1.TableRow{
			Cells:  []any{d.Name, string(cmfv1.StateCompleted), "<detached>", orNone(string(d.Status.Origin)), "", d.Spec.Path, age(d.CreationTimestamp, now), int64(0), "<none>"},
			Object: runtime.RawExtension{Object: d},
		})
	}
	printer := printers.NewTablePrinter(printers.PrintOptions{
		Wide: o.format() == "wide", NoHeaders: o.NoHeaders, WithNamespace: o.AllNamespaces,
	})
	if len(table.Rows) == 0 {
		return nil
	}
	return printer.PrintObj(table, w)
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// OneLine is the first line of s: Flink's errors carry stack traces, a
// table cell or an error message only their sentence.
func OneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func age(t metav1.Time, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

// Fprintf writes to w, ignoring the error as kubectl does for its output.
func Fprintf(w io.Writer, format string, args ...any) { _, _ = fmt.Fprintf(w, format, args...) }

// customColumn is one NAME:JSONPATH of -o custom-columns.
type customColumn struct {
	header string
	path   *jsonpath.JSONPath
}

func parseCustomColumns(spec string) ([]customColumn, error) {
	var cols []customColumn
	for _, part := range strings.Split(spec, ",") {
		header, expr, ok := strings.Cut(part, ":")
		if !ok || header == "" || expr == "" {
			return nil, fmt.Errorf("-o custom-columns: %q is not NAME:JSONPATH, e.g. NAME:.metadata.name,PATH:.status.path", part)
		}
		if !strings.HasPrefix(expr, "{") {
			expr = "{" + expr + "}"
		}
		jp := jsonpath.New(header).AllowMissingKeys(true)
		if err := jp.Parse(expr); err != nil {
			return nil, fmt.Errorf("-o custom-columns: column %s: %w", header, err)
		}
		cols = append(cols, customColumn{header: header, path: jp})
	}
	return cols, nil
}

func (o *Output) printCustomColumns(w io.Writer, spec string, attached []cmfv1.Savepoint, detached []cmfv1.DetachedSavepoint) error {
	cols, err := parseCustomColumns(spec)
	if err != nil {
		return err
	}
	var objs []runtime.Object
	for i := range attached {
		objs = append(objs, &attached[i])
	}
	for i := range detached {
		objs = append(objs, &detached[i])
	}
	tw := printers.GetNewTabWriter(w)
	if !o.NoHeaders {
		headers := make([]string, len(cols))
		for i, c := range cols {
			headers[i] = c.header
		}
		Fprintf(tw, "%s\n", strings.Join(headers, "\t"))
	}
	for _, obj := range objs {
		data, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return err
		}
		cells := make([]string, len(cols))
		for i, c := range cols {
			var buf strings.Builder
			if err := c.path.Execute(&buf, data); err != nil {
				return fmt.Errorf("-o custom-columns: column %s: %w", c.header, err)
			}
			cells[i] = orNone(buf.String())
		}
		Fprintf(tw, "%s\n", strings.Join(cells, "\t"))
	}
	return tw.Flush()
}
