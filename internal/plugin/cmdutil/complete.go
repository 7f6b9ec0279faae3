package cmdutil

import (
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

// CompleteSavepoints completes the names of the savepoints in the namespace
// (detached ones with --detached), for `kubectl savepoint <cmd> <TAB>`.
func CompleteSavepoints(f Factory) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		c, err := f.Client()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ns, err := f.Namespace()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var names []string
		if detached, _ := cmd.Flags().GetBool("detached"); detached {
			var list cmfv1.DetachedSavepointList
			if c.List(cmd.Context(), &list, client.InNamespace(ns)) == nil {
				for _, d := range list.Items {
					names = append(names, d.Name)
				}
			}
		} else {
			var list cmfv1.SavepointList
			if c.List(cmd.Context(), &list, client.InNamespace(ns)) == nil {
				for _, sp := range list.Items {
					names = append(names, sp.Name)
				}
			}
		}
		return withPrefix(names, prefix), cobra.ShellCompDirectiveNoFileComp
	}
}

// CompleteParents completes --application and --statement with the names of
// the namespace's FlinkApplications and Statements.
func CompleteParents(f Factory, cmd *cobra.Command) {
	complete := func(list client.ObjectList, names func() []string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return func(cmd *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
			c, err := f.Client()
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			ns, err := f.Namespace()
			if err != nil || c.List(cmd.Context(), list, client.InNamespace(ns)) != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return withPrefix(names(), prefix), cobra.ShellCompDirectiveNoFileComp
		}
	}
	apps := &cmfv1.FlinkApplicationList{}
	stmts := &cmfv1.StatementList{}
	_ = cmd.RegisterFlagCompletionFunc("application", complete(apps, func() []string {
		var names []string
		for _, a := range apps.Items {
			names = append(names, a.Name)
		}
		return names
	}))
	_ = cmd.RegisterFlagCompletionFunc("statement", complete(stmts, func() []string {
		var names []string
		for _, s := range stmts.Items {
			names = append(names, s.Name)
		}
		return names
	}))
}

func withPrefix(names []string, prefix string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}

// CompletePolicies completes the names of the SavepointPolicies in the
// namespace, for `kubectl savepoint policy <cmd> <TAB>`.
func CompletePolicies(f Factory) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		c, err := f.Client()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ns, err := f.Namespace()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var list cmfv1.SavepointPolicyList
		if c.List(cmd.Context(), &list, client.InNamespace(ns)) != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var names []string
		for _, p := range list.Items {
			names = append(names, p.Name)
		}
		return withPrefix(names, prefix), cobra.ShellCompDirectiveNoFileComp
	}
}
