// Package endpoint finds the Flink JobManager of a savepoint's parent and
// hands out one client per REST URL.
package endpoint

import (
	"cmp"
	"container/list"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/egress"
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

// Clients hands out the clients through which the manager calls Flink for
// a namespace: only to URLs the admin's allow-list allows for it, over
// connections checked again when they are made (egress.Policy.HTTPClient).
// It keeps the clients it made, up to Max, dropping the least recently used:
// a user who writes ever new URLs cannot grow the manager without bound.
type Clients struct {
	// Options configure every client; their HTTPClient is the policy's.
	Options flink.Options
	// Policy is the admin's allow-list of endpoints.
	Policy egress.Policy
	// Max is how many clients are kept; default 1024.
	Max int
	// Health, when set, puts every JobManager and SQL Gateway request
	// behind its circuit breakers (see Health).
	Health *Health

	mu      sync.Mutex
	clients lru[clientKey, *flink.Client]
	http    lru[string, *http.Client]
}

type clientKey struct{ namespace, url string }

// Get returns the JobManager client of restURL for namespace, or why the
// manager may not call it.
func (f *Clients) Get(namespace, restURL string) (*flink.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := clientKey{namespace, restURL}
	if c, ok := f.clients.get(key); ok {
		return c, nil // allowed when it was made; the policy does not change
	}
	// The URL's form first (its error says what a REST URL looks like),
	// then whether the admin allows it; nothing is sent either way.
	c, err := flink.New(restURL, f.options(namespace))
	if err != nil {
		return nil, err
	}
	if err := f.Policy.CheckURL(restURL, namespace); err != nil {
		return nil, err
	}
	f.clients.put(key, c, f.max())
	return c, nil
}

// SQLGateway returns a SQL Gateway client of gatewayURL for namespace, or
// why the manager may not call it.
func (f *Clients) SQLGateway(namespace, gatewayURL string) (*flink.SQLGateway, error) {
	f.mu.Lock()
	opts := f.options(namespace)
	f.mu.Unlock()
	gw, err := flink.NewSQLGateway(gatewayURL, opts)
	if err != nil {
		return nil, err
	}
	if err := f.Policy.CheckURL(gatewayURL, namespace); err != nil {
		return nil, err
	}
	return gw, nil
}

// HTTP returns the plain HTTP client of namespace (a jar download): check
// the URL with Policy.CheckURL first; it checks every connection again.
func (f *Clients) HTTP(namespace string, timeout time.Duration) *http.Client {
	return f.Policy.HTTPClient(namespace, timeout)
}

// options are the client options for namespace; f.mu is held.
func (f *Clients) options(namespace string) flink.Options {
	hc, ok := f.http.get(namespace)
	if !ok {
		hc = f.Policy.HTTPClient(namespace, cmp.Or(f.Options.RequestTimeout, flink.DefaultRequestTimeout))
		if f.Health != nil {
			hc.Transport = f.Health.Transport(namespace, hc.Transport)
		}
		f.http.put(namespace, hc, f.max())
	}
	opts := f.Options
	opts.HTTPClient = hc
	return opts
}

func (f *Clients) max() int {
	if f.Max > 0 {
		return f.Max
	}
	return 1024
}

// lru is a map that keeps its most recently used entries, up to a bound.
type lru[K comparable, V any] struct {
	order *list.List // of *lruEntry, most recent first
	items map[K]*list.Element
}

type lruEntry[K comparable, V any] struct {
	key   K
	value V
}

func (l *lru[K, V]) get(key K) (V, bool) {
	if e, ok := l.items[key]; ok {
		l.order.MoveToFront(e)
		return e.Value.(*lruEntry[K, V]).value, true
	}
	var zero V
	return zero, false
}

func (l *lru[K, V]) put(key K, value V, max int) {
	if l.items == nil {
		l.order, l.items = list.New(), map[K]*list.Element{}
	}
	l.items[key] = l.order.PushFront(&lruEntry[K, V]{key, value})
	for l.order.Len() > max {
		oldest := l.order.Back()
		l.order.Remove(oldest)
		delete(l.items, oldest.Value.(*lruEntry[K, V]).key)
	}
}

// Resolver finds a parent's JobManager: the rest-url annotation, else its
// ComputePool's restURL, else the template.
type Resolver struct {
	// Client reads the parent and its ComputePool.
	Client client.Reader
	// AllowAnnotation honours the rest-url annotation; without it, a parent
	// that has one is refused (see AnnotatedURL).
	AllowAnnotation bool
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

	annotated, err := AnnotatedURL(parent, r.AllowAnnotation)
	if err != nil {
		return nil, err
	}
	t := &Target{Parent: parent, StatusJobID: jobID}
	switch {
	case annotated != "":
		t.RestURL = annotated
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

// ErrAnnotationNotHonoured: the parent has a rest-url annotation and the
// admin has not enabled it.
var ErrAnnotationNotHonoured = errors.New("rest-url annotation not honoured")

// AnnotatedURL is the parent's rest-url annotation when the admin allows
// that annotation (allowed); a parent that has one otherwise is an error
// that says so, never silently sent elsewhere.
func AnnotatedURL(parent client.Object, allowed bool) (string, error) {
	url := parent.GetAnnotations()[cmfv1.RestURLAnnotation]
	if url == "" || allowed {
		return url, nil
	}
	return "", fmt.Errorf("metadata.annotations[%s] is not honoured on this cluster (its admin has not passed --allow-rest-url-annotation to the manager): remove it and name a ComputePool in spec.computePoolName: %w", cmfv1.RestURLAnnotation, ErrAnnotationNotHonoured)
}

// ParentError says that a parent could not be read, wrapping
// ErrParentNotFound when it does not exist.
func ParentError(kind cmfv1.ParentKind, name string, err error) error {
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("%s %s does not exist: %w", kind, name, ErrParentNotFound)
	}
	return fmt.Errorf("read %s %s: %w", kind, name, err)
}

// ErrJobNotKnown: the parent's status records no job ID (yet).
var ErrJobNotKnown = errors.New("job not known")

// JobID returns the parent's job: the one its status records (session mode
// writes it when it submits the job or takes one over by the ID the parent
// names; in operator mode it is the Flink Kubernetes Operator's
// status.jobStatus.jobId, mirrored). A job is never found by its name: a
// name is anyone's to give, on a cluster the parent may share with others.
func JobID(t *Target) (string, error) {
	if t.StatusJobID == "" {
		kind := cmfv1.ParentKind("")
		if p, ok := t.Parent.(cmfv1.Parent); ok {
			kind = p.ParentKind()
		}
		return "", fmt.Errorf("%s %s has no job ID in its status (status.jobStatus.jobId) yet: its savepoint is taken once the job it deployed is known; a job is never taken by its name: %w", kind, t.Parent.GetName(), ErrJobNotKnown)
	}
	return t.StatusJobID, nil
}
