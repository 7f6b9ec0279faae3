package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

// access asks the API server what the requesting user may do: attached
// savepoints inherit their permissions from their parent, and what the
// manager would do for a user across namespaces (read a DetachedSavepoint,
// remove a Savepoint as detached) or outside its API (create or change a
// FlinkDeployment) needs that user's own right to it.
type access struct {
	client client.Client
	// remembered holds, for allowedTTL, the reviews that allowed: per
	// user (name, UID, groups, extra) and request (verb, resource, namespace,
	// name), as the API server's webhook authorizer caches its answers. A
	// denial is never remembered: a right just granted works at once; a
	// right just revoked may still be honoured for allowedTTL.
	remembered decisions
}

// allowedTTL is how long an allowing SubjectAccessReview is remembered.
const allowedTTL = 5 * time.Second

// maxDecisions bounds the remembered reviews.
const maxDecisions = 10000

// decisions are remembered allowing reviews, by their spec, until expiry.
type decisions struct {
	mu      sync.Mutex
	expires map[string]time.Time
}

func (d *decisions) allowed(key string, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	until, ok := d.expires[key]
	if ok && now.After(until) {
		delete(d.expires, key)
		return false
	}
	return ok
}

func (d *decisions) remember(key string, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.expires == nil {
		d.expires = map[string]time.Time{}
	}
	if len(d.expires) >= maxDecisions {
		for k, until := range d.expires {
			if now.After(until) {
				delete(d.expires, k)
			}
		}
		if len(d.expires) >= maxDecisions {
			clear(d.expires)
		}
	}
	d.expires[key] = now.Add(allowedTTL)
}

// allowed reports whether user may verb the parent.
func (a *access) allowed(ctx context.Context, user authenticationv1.UserInfo, verb string, kind cmfv1.ParentKind, namespace, name string) (bool, error) {
	return a.may(ctx, user, verb, kind.Resource(), namespace, name)
}

// may reports whether user may verb the resource (of cmf.confluent.io)
// namespace/name.
func (a *access) may(ctx context.Context, user authenticationv1.UserInfo, verb, resource, namespace, name string) (bool, error) {
	return a.mayDo(ctx, user, authorizationv1.ResourceAttributes{
		Namespace: namespace, Verb: verb, Group: cmfv1.GroupVersion.Group,
		Version: cmfv1.GroupVersion.Version, Resource: resource, Name: name,
	})
}

// mayDo reports whether user may do what attrs describe, with a
// SubjectAccessReview: the API server's own answer, whatever authorizer it
// runs.
func (a *access) mayDo(ctx context.Context, user authenticationv1.UserInfo, attrs authorizationv1.ResourceAttributes) (bool, error) {
	extra := make(map[string]authorizationv1.ExtraValue, len(user.Extra))
	for k, v := range user.Extra {
		extra[k] = authorizationv1.ExtraValue(v)
	}
	review := &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{
			User: user.Username, UID: user.UID, Groups: user.Groups, Extra: extra,
			ResourceAttributes: &attrs,
		},
	}
	key, err := json.Marshal(review.Spec) // the whole question: user, groups, extra, verb, object
	if err != nil {
		return false, err
	}
	now := time.Now()
	if a.remembered.allowed(string(key), now) {
		return true, nil
	}
	if err := a.client.Create(ctx, review); err != nil {
		return false, fmt.Errorf("ask whether %s may %s %s.%s %s/%s: %w", user.Username, attrs.Verb, attrs.Resource, attrs.Group, attrs.Namespace, attrs.Name, err)
	}
	if review.Status.Allowed {
		a.remembered.remember(string(key), now)
	}
	return review.Status.Allowed, nil
}
