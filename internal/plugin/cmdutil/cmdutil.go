// Package cmdutil holds what every `kubectl savepoint` command shares: the
// client from kubectl's flags, the parent flags, output, errors and waiting.
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
	"k8s.io/cli-runtime/pkg/genericiooptions"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

// Factory builds what commands need from kubectl's standard flags.
type Factory struct {
	ConfigFlags *genericclioptions.ConfigFlags
	genericiooptions.IOStreams
}

// Scheme knows the built-in kinds and the project's.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(cmfv1.AddToScheme(s))
	return s
}

// Client returns a client for the cluster the flags name.
func (f *Factory) Client() (client.Client, error) {
	config, err := f.ConfigFlags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("reach the cluster: %w", err)
	}
	return client.New(config, client.Options{Scheme: Scheme()})
}

// Namespace returns the namespace from -n or the kubeconfig's context.
func (f *Factory) Namespace() (string, error) {
	ns, _, err := f.ConfigFlags.ToRawKubeConfigLoader().Namespace()
	return ns, err
}

// NamespaceAndClient returns the namespace from -n (or the kubeconfig) and a
// client for the cluster: what every command that reaches the cluster needs.
func (f *Factory) NamespaceAndClient() (string, client.Client, error) {
	ns, err := f.Namespace()
	if err != nil {
		return "", nil, err
	}
	c, err := f.Client()
	return ns, c, err
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

// Context returns the command's context.
func Context(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}
