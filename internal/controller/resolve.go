package controller

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

// errParentNotFound: the savepoint's parent does not exist (any more).
var errParentNotFound = errors.New("parent not found")

// target is where a parent's job is reached.
type target struct {
	// restURL is the JobManager REST endpoint.
	restURL string
	// parent is the parent object.
	parent client.Object
	// statusJobID is the job ID the parent's status records, if any.
	statusJobID string
}

// flinkClients hands out one client per REST URL.
type flinkClients struct {
	mu      sync.Mutex
	options flink.Options
	clients map[string]*flink.Client
}

func (f *flinkClients) get(restURL string) (*flink.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.clients[restURL]; ok {
		return c, nil
	}
	c, err := flink.New(restURL, f.options)
	if err != nil {
		return nil, err
	}
	if f.clients == nil {
		f.clients = map[string]*flink.Client{}
	}
	f.clients[restURL] = c
	return c, nil
}

// resolver finds a parent's JobManager: the rest-url annotation, else its
// ComputePool's restURL, else the template.
type resolver struct {
	client   client.Reader
	template string
}

// resolve returns the target of a savepoint's parent.
func (r *resolver) resolve(ctx context.Context, sp *cmfv1.Savepoint) (*target, error) {
	kind, name := sp.Parent()
	parent := kind.NewParent()
	if parent == nil {
		return nil, fmt.Errorf("savepoint names no parent: %w", errParentNotFound)
	}
	if err := r.client.Get(ctx, client.ObjectKey{Namespace: sp.Namespace, Name: name}, parent); err != nil {
		return nil, parentError(kind, name, err)
	}
	pool, jobID, session := parent.ComputePool(), parent.ObservedJob().JobID, parent.Session()

	t := &target{parent: parent, statusJobID: jobID}
	switch {
	case parent.GetAnnotations()[cmfv1.RestURLAnnotation] != "":
		t.restURL = parent.GetAnnotations()[cmfv1.RestURLAnnotation]
	case pool != "" && session != nil && session.RestURL != "":
		// Where the job runs, whatever became of the pool since.
		t.restURL = session.RestURL
	case pool != "":
		cp := &cmfv1.ComputePool{}
		if err := r.client.Get(ctx, client.ObjectKey{Namespace: sp.Namespace, Name: pool}, cp); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("%s %s runs on ComputePool %s, which does not exist in namespace %s", kind, name, pool, sp.Namespace)
			}
			return nil, err
		}
		t.restURL = cp.Spec.RestURL
	default:
		t.restURL = strings.NewReplacer("{name}", name, "{namespace}", sp.Namespace).Replace(r.template)
	}
	return t, nil
}

func parentError(kind cmfv1.ParentKind, name string, err error) error {
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("%s %s does not exist: %w", kind, name, errParentNotFound)
	}
	return fmt.Errorf("read %s %s: %w", kind, name, err)
}

// jobID returns the parent's job: the one its status records, else the
// running job named after the parent.
func jobID(ctx context.Context, fc *flink.Client, t *target) (string, error) {
	if t.statusJobID != "" {
		return t.statusJobID, nil
	}
	job, err := fc.RunningJobByName(ctx, t.parent.GetName())
	if err != nil {
		return "", err
	}
	return job.ID, nil
}

// patchMeta writes what change does to obj's metadata (a finalizer, an
// annotation) as a merge patch with an optimistic lock, never as an update
// of the whole object: fields that the stored object has and our Go types
// lack (a FlinkApplication's podTemplate or ingress, which its CRD keeps)
// are never written back, so never lost.
func patchMeta(ctx context.Context, c client.Client, obj client.Object, change func()) error {
	base := obj.DeepCopyObject().(client.Object)
	change()
	return c.Patch(ctx, obj, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
}
