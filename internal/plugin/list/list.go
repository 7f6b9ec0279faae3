// Package list is `kubectl savepoint list` (alias `get`): savepoints of a
// parent, of a namespace, of all namespaces, or the detached ones.
package list

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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
	Origins       []string
	genericiooptions.IOStreams

	namespace string // "" with --all-namespaces
	client    client.Client
	origins   []cmfv1.SavepointOrigin // --origin in capitals; none: every origin
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

  # Every savepoint in every namespace, with failures and errors
  kubectl savepoint list -A -o wide

  # Only the savepoints a SavepointPolicy or an upgrade took
  kubectl savepoint list --origin PERIODIC,UPGRADE

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
	cmd.Flags().StringSliceVar(&o.Origins, "origin", nil, "Only savepoints of these origins (repeat or comma-separate): "+strings.Join(originNames, ", ")+".")
	_ = cmd.RegisterFlagCompletionFunc("origin", cobra.FixedCompletions(originNames, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Complete takes the names, the namespace (none with --all-namespaces)
// and the client.
func (o *Options) Complete(f cmdutil.Factory, _ *cobra.Command, args []string) error {
	o.Names = args
	o.Output.AllNamespaces = o.AllNamespaces
	o.origins = nil
	for _, origin := range o.Origins {
		o.origins = append(o.origins, cmfv1.SavepointOrigin(strings.ToUpper(strings.TrimSpace(origin))))
	}
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
	for _, origin := range o.origins {
		if !slices.Contains(originNames, string(origin)) {
			return fmt.Errorf("--origin %q: use %s", origin, strings.Join(originNames, ", "))
		}
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
			detached = append(detached, keep(list.Items, o.Names, o.origins, func(d cmfv1.DetachedSavepoint) (string, cmfv1.SavepointOrigin) { return d.Name, d.Status.Origin })...)
			cont = list.Continue
		} else {
			var list cmfv1.SavepointList
			if err := o.client.List(ctx, &list, page...); err != nil {
				return cmdutil.UserError(err)
			}
			attached = append(attached, keep(list.Items, o.Names, o.origins, func(s cmfv1.Savepoint) (string, cmfv1.SavepointOrigin) { return s.Name, s.Status.Origin })...)
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
		if len(o.origins) > 0 {
			where += " of origin " + strings.Join(o.Origins, ", ")
		}
		cmdutil.Fprintf(o.ErrOut, "No savepoints found in %s.\n", where)
		return nil
	}
	return o.Output.PrintSavepoints(o.Out, attached, detached, len(o.Names) == 1, time.Now())
}

// originNames are the values of --origin.
var originNames = []string{
	string(cmfv1.OriginManual), string(cmfv1.OriginPeriodic), string(cmfv1.OriginUpgrade),
	string(cmfv1.OriginSuspend), string(cmfv1.OriginImported),
}

// keep keeps the items named in the arguments (all when none are named) and
// of the --origin origins (all when none are given). The API server selects
// custom resources by no status field, so this is done here, page by page.
func keep[T any](items []T, names []string, origins []cmfv1.SavepointOrigin, of func(T) (string, cmfv1.SavepointOrigin)) []T {
	var kept []T
	for _, item := range items {
		name, origin := of(item)
		if (len(names) == 0 || slices.Contains(names, name)) && (len(origins) == 0 || slices.Contains(origins, origin)) {
			kept = append(kept, item)
		}
	}
	return kept
}
