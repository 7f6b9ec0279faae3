package controlplane

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ManagerUser is the user name of the manager's service account as the
// rendered RBAC (manifests/rbac) binds it in namespace.
func ManagerUser(namespace string) string {
	return "system:serviceaccount:" + namespace + ":savepoint-manager"
}

// ActingAs is the administrator's config impersonating user, an
// authenticated user in groups, as the API server authenticates a real one:
// every request it makes is authorized as that user's.
func (e *Env) ActingAs(user string, groups ...string) *rest.Config {
	cfg := rest.CopyConfig(e.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: append(groups, "system:authenticated")}
	return cfg
}

// ManagerConfig is the config of the manager's service account in
// namespace: a manager started with it holds only the rendered role.
func (e *Env) ManagerConfig(namespace string) *rest.Config {
	return e.ActingAs(ManagerUser(namespace), "system:serviceaccounts", "system:serviceaccounts:"+namespace)
}

// ClientAs is a client of the project's kinds acting as user (ActingAs).
func (e *Env) ClientAs(t testing.TB, user string, groups ...string) client.Client {
	t.Helper()
	c, err := client.New(e.ActingAs(user, groups...), client.Options{Scheme: e.Scheme})
	require.NoError(t, err)
	return c
}

// BindInNamespace binds user, in ns only, to each ClusterRole with `kubectl
// create rolebinding`, as a cluster admin does (the README's trust model),
// and waits until the authorizer lets user do verb on resource of group
// there: a binding takes effect a moment after its create.
func (e *Env) BindInNamespace(t testing.TB, ns, user string, clusterRoles []string, verb, group, resource string) {
	t.Helper()
	for _, role := range clusterRoles {
		_, errOut, err := e.RunKubectl(context.Background(), "create", "rolebinding", user+"-"+role, "-n", ns, "--clusterrole", role, "--user", user)
		require.NoError(t, err, errOut)
	}
	e.WaitAllowed(t, user, authorizationv1.ResourceAttributes{Namespace: ns, Verb: verb, Group: group, Resource: resource})
}

// May asks the API server whether user (authenticated) may do attrs.
func (e *Env) May(t testing.TB, user string, attrs authorizationv1.ResourceAttributes) bool {
	t.Helper()
	review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: user, Groups: []string{"system:authenticated"}, ResourceAttributes: &attrs,
	}}
	require.NoError(t, e.Client.Create(context.Background(), review))
	return review.Status.Allowed
}

// WaitAllowed waits until user may do attrs: a new binding reaches the
// authorizer through its informer, a moment after its create.
func (e *Env) WaitAllowed(t testing.TB, user string, attrs authorizationv1.ResourceAttributes) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 20*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return e.May(t, user, attrs), nil
	})
	require.NoError(t, err, "%s may %s %s.%s %s in %s", user, attrs.Verb, attrs.Resource, attrs.Group, attrs.Name, attrs.Namespace)
}
