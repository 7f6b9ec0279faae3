package plugin

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// Set at build time with -ldflags "-X ...plugin.version=v0.1.0 -X ...plugin.commit=abc1234".
var (
	version = "dev"
	commit  = "unknown"
)

// VersionOptions holds what `kubectl savepoint version` needs.
type VersionOptions struct {
	configFlags *genericclioptions.ConfigFlags
	genericiooptions.IOStreams

	// ClientOnly skips asking the API server for its version.
	ClientOnly bool
}

// NewCmdVersion returns `kubectl savepoint version`.
func NewCmdVersion(configFlags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &VersionOptions{configFlags: configFlags, IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the plugin's version and the cluster's",
		Example: `  # The plugin's and the cluster's versions
  kubectl savepoint version

  # Only the plugin's, without reaching the cluster
  kubectl savepoint version --client`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.Run()
		},
	}
	cmd.Flags().BoolVar(&o.ClientOnly, "client", false, "Print only the plugin's version; do not reach the cluster.")
	return cmd
}

// Run prints the versions.
func (o *VersionOptions) Run() error {
	fmt.Fprintf(o.Out, "Client Version: %s (commit %s, %s, %s/%s)\n", version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if o.ClientOnly {
		return nil
	}
	discovery, err := o.configFlags.ToDiscoveryClient()
	if err != nil {
		return fmt.Errorf("reach the cluster: %w (use --client to print only the plugin's version)", err)
	}
	server, err := discovery.ServerVersion()
	if err != nil {
		return fmt.Errorf("ask the cluster for its version: %w (use --client to print only the plugin's version)", err)
	}
	fmt.Fprintf(o.Out, "Server Version: %s\n", server.GitVersion)
	return nil
}
