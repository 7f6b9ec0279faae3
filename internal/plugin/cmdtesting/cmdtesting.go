// Package cmdtesting gives the unit tests of the plugin's commands what
// kubectl's pkg/cmd/testing gives kubectl's: a Factory whose client is a
// controller-runtime fake, so that a test runs a command's Complete,
// Validate and Run and reads what it wrote.
package cmdtesting

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdutil"
)

// Factory is a cmdutil.Factory over a fake cluster.
type Factory struct {
	// NS is the namespace the commands are run in, as with -n.
	NS string
	// Fake holds the cluster's objects: a test puts them there, changes
	// them as the manager would, and reads what a command wrote.
	Fake client.WithWatch
	// Intercept, when set, stands between the commands and Fake: a test
	// answers there as the API server or the webhook would (a denial, a
	// generated name).
	Intercept interceptor.Funcs

	once     sync.Once
	watching chan struct{}
}

var _ cmdutil.Factory = &Factory{}

// NewFactory returns a Factory for namespace whose cluster holds objs.
func NewFactory(namespace string, objs ...client.Object) *Factory {
	b := fake.NewClientBuilder().WithScheme(cmdutil.Scheme()).WithObjects(objs...).WithStatusSubresource(&cmfv1.SavepointPolicy{})
	// The fake selects by field through indexes: these are the fields the
	// API server selects the plugin's lists and watches by.
	byName := func(o client.Object) []string { return []string{o.GetName()} }
	for _, kind := range []client.Object{&cmfv1.Savepoint{}, &cmfv1.DetachedSavepoint{}, &cmfv1.FlinkApplication{}, &cmfv1.Statement{}, &cmfv1.SavepointPolicy{}} {
		b = b.WithIndex(kind, "metadata.name", byName)
	}
	for _, kind := range cmfv1.ParentKinds {
		b = b.WithIndex(&cmfv1.Savepoint{}, kind.SavepointField(), func(o client.Object) []string {
			if k, name := o.(*cmfv1.Savepoint).Parent(); k == kind {
				return []string{name}
			}
			return nil
		})
	}
	regarding := map[string]func(*eventsv1.Event) string{
		"regarding.kind": func(e *eventsv1.Event) string { return e.Regarding.Kind },
		"regarding.name": func(e *eventsv1.Event) string { return e.Regarding.Name },
		"regarding.uid":  func(e *eventsv1.Event) string { return string(e.Regarding.UID) },
	}
	for field, value := range regarding {
		b = b.WithIndex(&eventsv1.Event{}, field, func(o client.Object) []string { return []string{value(o.(*eventsv1.Event))} })
	}
	return &Factory{NS: namespace, Fake: b.Build(), watching: make(chan struct{})}
}

// Namespace implements cmdutil.Factory.
func (f *Factory) Namespace() (string, error) { return f.NS, nil }

// Client implements cmdutil.Factory.
func (f *Factory) Client() (client.WithWatch, error) {
	return commandClient{WithWatch: interceptor.NewClient(f.Fake, f.Intercept), watching: f.startWatching}, nil
}

// Watching is closed once a command watches: a change a test makes after
// it reaches the command as an event.
func (f *Factory) Watching() <-chan struct{} { return f.watching }

func (f *Factory) startWatching() { f.once.Do(func() { close(f.watching) }) }

// commandClient is the fake as a command gets it.
type commandClient struct {
	client.WithWatch
	watching func()
}

func (c commandClient) Watch(ctx context.Context, list client.ObjectList, opts ...client.ListOption) (watch.Interface, error) {
	w, err := c.WithWatch.Watch(ctx, list, opts...)
	if err == nil {
		c.watching()
	}
	return w, err
}

// IsWatchListSemanticsUnSupported tells client-go's informers that the
// fake cannot stream a list as watch events: they list first instead.
func (commandClient) IsWatchListSemanticsUnSupported() bool { return true }

// Change is a change a test makes to the cluster, as the manager would.
type Change func(c client.Client) error

// Later makes changes to the cluster once a command watches, as the
// manager would while the user waits. The test ends when they are made;
// a command that never watched fails it.
func (f *Factory) Later(t *testing.T, changes ...Change) {
	t.Helper()
	if len(changes) == 0 {
		return
	}
	done := make(chan error, 1)
	go func() {
		<-f.watching
		for _, change := range changes {
			if err := change(f.Fake); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	t.Cleanup(func() {
		select {
		case <-f.watching:
			require.NoError(t, <-done, "a change made while the command watched")
		default:
			t.Error("the command ended before it watched: the changes were never made")
		}
	})
}

// Execute runs cmd, made with streams, with args as the user types them
// after the command's name; the error is what the root would print.
func Execute(cmd *cobra.Command, streams genericiooptions.IOStreams, args ...string) error {
	cmd.SetArgs(args)
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	return cmd.ExecuteContext(context.Background())
}

// Denied is the API server's answer when the webhook denies a request
// with reason.
func Denied(reason string) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: 403, Reason: metav1.StatusReasonForbidden,
		Message: `admission webhook "vsavepoint.cmf.confluent.io" denied the request: ` + reason,
	}}
}

// elapsed starts a progress line of a wait: the time since it began.
var elapsed = regexp.MustCompile(`^ *\d+\.\ds  `)

// Lines are the lines of what a command printed, a wait's progress lines
// without the elapsed time they start with (it varies); nil for none.
func Lines(s string) []string {
	var lines []string
	for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if line != "" {
			lines = append(lines, elapsed.ReplaceAllString(line, ""))
		}
	}
	return lines
}

// SavepointBecomes is the manager writing status on the savepoint key
// names.
func SavepointBecomes(key client.ObjectKey, status cmfv1.SavepointStatus) Change {
	return func(c client.Client) error {
		sp := &cmfv1.Savepoint{}
		if err := c.Get(context.Background(), key, sp); err != nil {
			return err
		}
		sp.Status = status
		return c.Update(context.Background(), sp)
	}
}
