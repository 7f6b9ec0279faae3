package webhook

import (
	"context"
	"fmt"

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
	if err := a.client.Create(ctx, review); err != nil {
		return false, fmt.Errorf("ask whether %s may %s %s.%s %s/%s: %w", user.Username, attrs.Verb, attrs.Resource, attrs.Group, attrs.Namespace, attrs.Name, err)
	}
	return review.Status.Allowed, nil
}
