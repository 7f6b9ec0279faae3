// Package endpoint finds the Flink JobManager of a savepoint's parent and
// hands out one client per REST URL.
package endpoint

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
)

// DefaultRestURLTemplate is where the Flink Kubernetes Operator serves a
// FlinkDeployment's JobManager REST API.
const DefaultRestURLTemplate = "http://{name}-rest.{namespace}.svc:8081"

// ErrParentNotFound: the savepoint's parent does not exist (any more).
var ErrParentNotFound = errors.New("parent not found")

// Target is where a parent's job is reached.
type Target struct {
	// RestURL is the JobManager REST endpoint.
	RestURL string
	// Parent is the parent object.
	Parent client.Object
	// StatusJobID is the job ID the parent's status records, if any.
	StatusJobID string
}

// Clients hands out one client per REST URL.
type Clients struct {
	// Options configure every client.
	Options flink.Options

	mu      sync.Mutex
	clients map[string]*flink.Client
}

// Get returns the client of restURL, made on first use.
func (f *Clients) Get(restURL string) (*flink.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.clients[restURL]; ok {
		return c, nil
	}
	c, err := flink.New(restURL, f.Options)
	if err != nil {
		return nil, err
	}
	if f.clients == nil {
		f.clients = map[string]*flink.Client{}
	}
	f.clients[restURL] = c
	return c, nil
}

// Resolver finds a parent's JobManager: the rest-url annotation, else its
// ComputePool's restURL, else the template.
type Resolver struct {
	// Client reads the parent and its ComputePool.
	Client client.Reader
	// Template is the REST URL of a parent with neither; {name} and
	// {namespace} are replaced.
	Template string
}

// Resolve returns the Target of a savepoint's parent.
func (r *Resolver) Resolve(ctx context.Context, sp *cmfv1.Savepoint) (*Target, error) {
	kind, name := sp.Parent()
	parent := kind.NewParent()
	if parent == nil {
		return nil, fmt.Errorf("savepoint names no parent: %w", ErrParentNotFound)
	}
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: sp.Namespace, Name: name}, parent); err != nil {
		return nil, ParentError(kind, name, err)
	}
	pool, jobID, session := parent.ComputePool(), parent.ObservedJob().JobID, parent.Session()

	t := &Target{Parent: parent, StatusJobID: jobID}
	switch {
	case parent.GetAnnotations()[cmfv1.RestURLAnnotation] != "":
		t.RestURL = parent.GetAnnotations()[cmfv1.RestURLAnnotation]
	case pool != "" && session != nil && session.RestURL != "":
		// Where the job runs, whatever became of the pool since.
		t.RestURL = session.RestURL
	case pool != "":
		cp := &cmfv1.ComputePool{}
		if err := r.Client.Get(ctx, client.ObjectKey{Namespace: sp.Namespace, Name: pool}, cp); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("%s %s runs on ComputePool %s, which does not exist in namespace %s", kind, name, pool, sp.Namespace)
			}
			return nil, err
		}
		t.RestURL = cp.Spec.RestURL
	default:
		t.RestURL = strings.NewReplacer("{name}", name, "{namespace}", sp.Namespace).Replace(r.Template)
	}
	return t, nil
}

// ParentError says that a parent could not be read, wrapping
// ErrParentNotFound when it does not exist.
func ParentError(kind cmfv1.ParentKind, name string, err error) error {
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("%s %s does not exist: %w", kind, name, ErrParentNotFound)
	}
	return fmt.Errorf("read %s %s: %w", kind, name, err)
}

// JobID returns the parent's job: the one its status records, else the
// running job named after the parent.
func JobID(ctx context.Context, fc *flink.Client, t *Target) (string, error) {
	if t.StatusJobID != "" {
		return t.StatusJobID, nil
	}
	job, err := fc.RunningJobByName(ctx, t.Parent.GetName())
	if err != nil {
		return "", err
	}
	return job.ID, nil
}
