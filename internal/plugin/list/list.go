// Package list is `kubectl savepoint list` (alias `get`): savepoints of a
// parent, of a namespace, of all namespaces, or the detached ones.
package list

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdutil"
)

// Options are the inputs of `kubectl savepoint list`.
type Options struct {
	Parent        cmdutil.ParentFlags
	Output        *cmdutil.Output
	Detached      bool
	AllNamespaces bool
	ChunkSize     int64
	Names         []string
	genericiooptions.IOStreams

	namespace string // "" with --all-namespaces
	client    client.Client
}

var _ cmdutil.Options = &Options{}

// NewOptions returns the options of a plain `kubectl savepoint list`.
func NewOptions(streams genericiooptions.IOStreams) *Options {
	return &Options{Output: cmdutil.NewOutput(), ChunkSize: 500, IOStreams: streams}
}

// NewCmd returns `kubectl savepoint list`.
func NewCmd(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := NewOptions(streams)
	cmd := &cobra.Command{
		Use:     "list [NAME...] [--application APP | --statement STATEMENT | --detached]",
		Aliases: []string{"get", "ls"},
		Short:   "List savepoints",
		Example: `  # Savepoints of application orders
  kubectl savepoint list -a orders

  # Every savepoint in every namespace, with origin, failures and errors
  kubectl savepoint list -A -o wide

  # Detached savepoints
  kubectl savepoint list --detached

  # Only the paths of a statement's savepoints
  kubectl savepoint list -s clicks -o jsonpath='{.items[*].status.path}'`,
		ValidArgsFunction: cmdutil.CompleteSavepoints(f),
		RunE:              cmdutil.RunE(f, o),
	}
	o.Parent.AddFlags(cmd)
	cmdutil.CompleteParents(f, cmd)
	o.Output.PrintFlags.AddFlags(cmd)
	o.Output.AddFlags(cmd.Flags())
	cmd.Flags().BoolVar(&o.Detached, "detached", false, "List DetachedSavepoints instead of attached ones.")
	cmd.Flags().BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "List across all namespaces.")
	cmd.Flags().Int64Var(&o.ChunkSize, "chunk-size", o.ChunkSize, "Fetch large lists in chunks of this many; 0 fetches all at once.")
	return cmd
}

// Complete takes the names, the namespace (none with --all-namespaces)
// and the client.
func (o *Options) Complete(f cmdutil.Factory, _ *cobra.Command, args []string) error {
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

// Validate checks the flags.
func (o *Options) Validate() error {
	if err := o.Parent.Validate(false); err != nil {
		return err
	}
	if o.Detached && o.Parent.Set() {
		return errors.New("--detached savepoints have no parent: drop --application/--statement")
	}
	if o.ChunkSize < 0 {
		return errors.New("--chunk-size must be 0 or more")
	}
	return o.Output.Validate()
}

// Run lists, page by page, and prints.
func (o *Options) Run(ctx context.Context) error {
	opts := []client.ListOption{client.InNamespace(o.namespace)}
	if o.Parent.Set() {
		kind, name := o.Parent.Kind()
		opts = append(opts, client.MatchingFields{kind.SavepointField(): name})
	}

	var attached []cmfv1.Savepoint
	var detached []cmfv1.DetachedSavepoint
	var cont string
	for {
		page := append(slices.Clone(opts), client.Limit(o.ChunkSize), client.Continue(cont))
		if o.Detached {
			var list cmfv1.DetachedSavepointList
			if err := o.client.List(ctx, &list, page...); err != nil {
				return cmdutil.UserError(err)
			}
			detached = append(detached, keepNamed(list.Items, o.Names, func(d cmfv1.DetachedSavepoint) string { return d.Name })...)
			cont = list.Continue
		} else {
			var list cmfv1.SavepointList
			if err := o.client.List(ctx, &list, page...); err != nil {
				return cmdutil.UserError(err)
			}
			attached = append(attached, keepNamed(list.Items, o.Names, func(s cmfv1.Savepoint) string { return s.Name })...)
			cont = list.Continue
		}
		if cont == "" {
			break
		}
	}
	for i := range attached {
		attached[i].SetGroupVersionKind(cmfv1.GroupVersion.WithKind("Savepoint"))
	}
	for i := range detached {
		detached[i].SetGroupVersionKind(cmfv1.GroupVersion.WithKind("DetachedSavepoint"))
	}
	if len(attached)+len(detached) == 0 {
		where := "namespace " + o.namespace
		if o.AllNamespaces {
			where = "any namespace"
		}
		if len(o.Names) > 0 {
			return errors.New("no such savepoint in " + where)
		}
		cmdutil.Fprintf(o.ErrOut, "No savepoints found in %s.\n", where)
		return nil
	}
	return o.Output.PrintSavepoints(o.Out, attached, detached, len(o.Names) == 1, time.Now())
}

// keepNamed keeps the items named in names (all when names is empty).
func keepNamed[T any](items []T, names []string, name func(T) string) []T {
	if len(names) == 0 {
		return items
	}
	var kept []T
	for _, item := range items {
		for _, n := range names {
			if name(item) == n {
				kept = append(kept, item)
				break
			}
		}
	}
	return kept
}
