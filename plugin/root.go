// Package plugin is the `kubectl savepoint` command tree: cobra commands
// built on k8s.io/cli-runtime, each with the Options pattern (Complete,
// Validate, Run) of kubectl's own commands.
package plugin

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/abandon"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdutil"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/create"
	deletecmd "github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/delete"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/describe"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/detach"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/importcmd"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/list"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/policy"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/start"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/wait"
)

// NewCmdSavepoint returns the root of the `kubectl savepoint` command tree.
func NewCmdSavepoint(streams genericiooptions.IOStreams) *cobra.Command {
	configFlags := genericclioptions.NewConfigFlags(true)
	cmd := &cobra.Command{
		Use:   "kubectl-savepoint",
		Short: "Manage Apache Flink savepoints on Kubernetes",
		Long: `Manage Apache Flink savepoints of FlinkApplications and Statements:
take, list, detach, import, delete and start from savepoints, and take
them on a schedule with SavepointPolicies (kubectl savepoint policy).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Annotations: map[string]string{
			cobra.CommandDisplayNameAnnotation: "kubectl savepoint",
		},
	}
	// kubectl's flags, but -s is --statement here (beside -a for
	// --application), so --server keeps only its long form.
	kubectlFlags := pflag.NewFlagSet("kubectl", pflag.ContinueOnError)
	configFlags.AddFlags(kubectlFlags)
	kubectlFlags.VisitAll(func(flag *pflag.Flag) {
		if flag.Name == "server" {
			flag.Shorthand = ""
		}
		cmd.PersistentFlags().AddFlag(flag)
	})
	f := cmdutil.NewFactory(configFlags)
	cmd.AddCommand(
		create.NewCmd(f, streams),
		list.NewCmd(f, streams),
		deletecmd.NewCmd(f, streams),
		detach.NewCmd(f, streams),
		importcmd.NewCmd(f, streams),
		abandon.NewCmd(f, streams),
		wait.NewCmd(f, streams),
		describe.NewCmd(f, streams),
		start.NewCmd(f, streams),
		policy.NewCmd(f, streams),
		NewCmdVersion(configFlags, streams),
	)
	return cmd
}
