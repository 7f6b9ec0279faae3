// Package plugin is the `kubectl savepoint` command tree: cobra commands
// built on k8s.io/cli-runtime, each with the Options pattern (Complete,
// Validate, Run) of kubectl's own commands.
package plugin

import (
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// NewCmdSavepoint returns the root of the `kubectl savepoint` command tree.
func NewCmdSavepoint(streams genericiooptions.IOStreams) *cobra.Command {
	configFlags := genericclioptions.NewConfigFlags(true)
	cmd := &cobra.Command{
		Use:   "kubectl-savepoint",
		Short: "Manage Apache Flink savepoints on Kubernetes",
		Long: `Manage Apache Flink savepoints of FlinkApplications and Statements:
take, list, detach, import, delete and start from savepoints.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Annotations: map[string]string{
			cobra.CommandDisplayNameAnnotation: "kubectl savepoint",
		},
	}
	configFlags.AddFlags(cmd.PersistentFlags())
	cmd.AddCommand(NewCmdVersion(configFlags, streams))
	return cmd
}
