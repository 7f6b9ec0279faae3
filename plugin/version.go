package plugin

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/kubectl-savepoint/kubectl-savepoint/internal/version"
)

// defaultManagerNamespace is where manifests/default installs the manager.
const defaultManagerNamespace = "savepoint-system"

// VersionOptions holds what `kubectl savepoint version` needs.
type VersionOptions struct {
	configFlags *genericclioptions.ConfigFlags
	genericiooptions.IOStreams

	// ClientOnly skips asking the cluster for its and the manager's versions.
	ClientOnly bool
	// ManagerNamespace is the manager's namespace, where it publishes its
	// version.
	ManagerNamespace string
}

// NewCmdVersion returns `kubectl savepoint version`.
func NewCmdVersion(configFlags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &VersionOptions{configFlags: configFlags, IOStreams: streams, ManagerNamespace: defaultManagerNamespace}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the plugin's version, the cluster's and the savepoint manager's",
		Long: `Print the plugin's version, the cluster's and the savepoint manager's.

The manager publishes its version in the ConfigMap ` + version.ConfigMapName + ` of its
namespace, which every authenticated user may read. When it cannot be read,
the manager's version is shown as unknown, with the reason, and the command
still succeeds.`,
		Example: `  # The plugin's, the cluster's and the manager's versions
  kubectl savepoint version

  # Only the plugin's, without reaching the cluster
  kubectl savepoint version --client

  # A manager installed in another namespace
  kubectl savepoint version --manager-namespace flink-system`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().BoolVar(&o.ClientOnly, "client", false, "Print only the plugin's version; do not reach the cluster.")
	cmd.Flags().StringVar(&o.ManagerNamespace, "manager-namespace", o.ManagerNamespace, "The namespace the savepoint manager runs in.")
	return cmd
}

// Run prints the versions.
func (o *VersionOptions) Run(ctx context.Context) error {
	fmt.Fprintf(o.Out, "Client Version: %s\n", version.Get())
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
	manager, err := o.managerVersion(ctx)
	if err != nil {
		fmt.Fprintf(o.Out, "Manager Version: unknown (%v)\n", err)
		return nil
	}
	fmt.Fprintf(o.Out, "Manager Version: %s\n", manager)
	return nil
}

// managerVersion reads what the manager published; its error is the one
// sentence shown in place of the version.
func (o *VersionOptions) managerVersion(ctx context.Context) (version.Published, error) {
	config, err := o.configFlags.ToRESTConfig()
	if err != nil {
		return version.Published{}, err
	}
	core, err := corev1client.NewForConfig(config)
	if err != nil {
		return version.Published{}, err
	}
	cm, err := core.ConfigMaps(o.ManagerNamespace).Get(ctx, version.ConfigMapName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return version.Published{}, fmt.Errorf("no ConfigMap %s in namespace %s: is the manager running there? --manager-namespace names another",
			version.ConfigMapName, o.ManagerNamespace)
	case apierrors.IsForbidden(err):
		return version.Published{}, fmt.Errorf("you may not read ConfigMap %s/%s: manifests/rbac's Role savepoint-manager-version-reader lets every user read it",
			o.ManagerNamespace, version.ConfigMapName)
	case err != nil:
		return version.Published{}, fmt.Errorf("read ConfigMap %s/%s: %w", o.ManagerNamespace, version.ConfigMapName, err)
	}
	return version.FromData(cm.Data), nil
}
