// Package cmdutil holds what every `kubectl savepoint` command shares: the
// Factory that reaches the cluster, the shape of a command's options, the
// parent flags, output, errors and waiting.
package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

// Factory is what a command takes from outside itself: the namespace the
// user means and a client of the cluster. kubectl's flags make the real one
// (NewFactory); a unit test hands a command a fake client instead.
type Factory interface {
	// Namespace is the namespace from -n, else the kubeconfig's context's.
	Namespace() (string, error)
	// Client is a client of the cluster that can also watch (for --wait).
	// Making it sends nothing: a command that fails validation reaches no
	// cluster.
	Client() (client.WithWatch, error)
}

// NewFactory returns the Factory of kubectl's standard flags.
func NewFactory(flags *genericclioptions.ConfigFlags) Factory {
	return &configFactory{flags: flags}
}

type configFactory struct {
	flags *genericclioptions.ConfigFlags
}

// Scheme knows the built-in kinds and the project's.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(cmfv1.AddToScheme(s))
	return s
}

func (f *configFactory) Client() (client.WithWatch, error) {
	config, err := f.flags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("reach the cluster: %w", err)
	}
	return client.NewWithWatch(config, client.Options{Scheme: Scheme()})
}

func (f *configFactory) Namespace() (string, error) {
	ns, _, err := f.flags.ToRawKubeConfigLoader().Namespace()
	return ns, err
}

// NamespaceAndClient returns the namespace and a client: what every
// command that reaches the cluster completes its options with.
func NamespaceAndClient(f Factory) (string, client.WithWatch, error) {
	ns, err := f.Namespace()
	if err != nil {
		return "", nil, err
	}
	c, err := f.Client()
	return ns, c, err
}

// Options is the shape of every command's options, kubectl's own: Complete
// fills in what the arguments and the Factory give, Validate refuses bad
// input in one sentence before anything is sent, Run does the work.
type Options interface {
	Complete(f Factory, cmd *cobra.Command, args []string) error
	Validate() error
	Run(ctx context.Context) error
}

// RunE is the cobra RunE of a command with options o: Complete, Validate,
// Run, stopping at the first error (which the root prints, and exits 1).
func RunE(f Factory, o Options) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := o.Complete(f, cmd, args); err != nil {
			return err
		}
		if err := o.Validate(); err != nil {
			return err
		}
		return o.Run(cmd.Context())
	}
}

// ParentFlags are --application/-a and --statement/-s.
type ParentFlags struct {
	Application string
	Statement   string
}

// AddFlags adds the parent flags to cmd.
func (p *ParentFlags) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&p.Application, "application", "a", "", "The FlinkApplication the savepoint belongs to.")
	cmd.Flags().StringVarP(&p.Statement, "statement", "s", "", "The Statement the savepoint belongs to.")
}

// Set reports whether a parent flag is set.
func (p *ParentFlags) Set() bool { return p.Application != "" || p.Statement != "" }

// Validate requires at most one parent, or exactly one when required.
func (p *ParentFlags) Validate(required bool) error {
	switch {
	case p.Application != "" && p.Statement != "":
		return errors.New("--application and --statement name two parents: give one")
	case required && !p.Set():
		return errors.New("name the parent with --application NAME or --statement NAME")
	}
	return nil
}

// Kind returns the parent's kind and name.
func (p *ParentFlags) Kind() (cmfv1.ParentKind, string) {
	if p.Statement != "" {
		return cmfv1.ParentStatement, p.Statement
	}
	return cmfv1.ParentApplication, p.Application
}

// UserError turns an API error into the one sentence a user needs: a
// webhook's denial is shown as the webhook's own sentence.
func UserError(err error) error {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return err
	}
	msg := status.Status().Message
	if _, denial, ok := strings.Cut(msg, "denied the request: "); ok {
		return errors.New(denial)
	}
	return errors.New(msg)
}
