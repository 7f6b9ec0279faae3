// Package manifests holds the kustomize manifests; its tests prove them
// against a real API server.
package manifests

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/egress"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/manager"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/flinkharness"
)

const managerNamespace = "savepoint-system"

// TestManifests: the kustomizations render and a server-side dry run of
// the whole installation passes the real API server.
func TestManifests(t *testing.T) {
	env := controlplane.Start(t, controlplane.Options{})
	ctx := context.Background()
	require.NoError(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: managerNamespace}}))

	out, errOut, err := env.RunKubectl(ctx, "apply", "--dry-run=server", "-k", "default")
	require.NoError(t, err, errOut)
	for _, want := range []string{
		"deployment.apps/savepoint-manager", "service/savepoint-manager-webhook", "poddisruptionbudget.policy/savepoint-manager",
		"networkpolicy.networking.k8s.io/savepoint-manager",
		"clusterrole.rbac.authorization.k8s.io/savepoint-manager", "role.rbac.authorization.k8s.io/savepoint-manager",
		"mutatingwebhookconfiguration.admissionregistration.k8s.io/savepoint-manager-mutating",
		"validatingwebhookconfiguration.admissionregistration.k8s.io/savepoint-manager-validating",
		"clusterrole.rbac.authorization.k8s.io/savepoint-detached-editor",
	} {
		assert.Contains(t, out, want+" ")
	}

	overlay, errOut, err := env.RunKubectl(ctx, "kustomize", "cert-manager")
	require.NoError(t, err, errOut)
	for _, want := range []string{"kind: Certificate", "kind: Issuer", "cert-manager.io/inject-ca-from: savepoint-system/savepoint-manager-webhook", "--cert-rotation=false"} {
		assert.Contains(t, overlay, want)
	}

	// The overlay against cert-manager's real CRDs, as a cluster with
	// cert-manager installed has them.
	crds := certManagerCRDs(t)
	_, errOut, err = env.RunKubectl(ctx, "apply", "-f", filepath.Join(crds, "cert-manager.io_certificates.yaml"), "-f", filepath.Join(crds, "cert-manager.io_issuers.yaml"))
	require.NoError(t, err, errOut)
	_, errOut, err = env.RunKubectl(ctx, "wait", "--for=condition=Established", "--timeout=60s", "crd/certificates.cert-manager.io", "crd/issuers.cert-manager.io")
	require.NoError(t, err, errOut)
	out, errOut, err = env.RunKubectl(ctx, "apply", "--dry-run=server", "-k", "cert-manager")
	require.NoError(t, err, errOut)
	for _, want := range []string{
		"certificate.cert-manager.io/savepoint-manager-webhook", "issuer.cert-manager.io/savepoint-manager-selfsigned",
		"deployment.apps/savepoint-manager", "validatingwebhookconfiguration.admissionregistration.k8s.io/savepoint-manager-validating",
	} {
		assert.Contains(t, out, want+" ")
	}
}

// certManagerVersion is the cert-manager whose CRDs the overlay is checked
// against; its Go module carries them as plain YAML under deploy/crds.
const certManagerVersion = "v1.19.1"

// certManagerCRDs returns cert-manager's CRD folder, fetched through the Go
// module proxy (and cached in the module cache like any module).
func certManagerCRDs(t *testing.T) string {
	t.Helper()
	return filepath.Join(goModuleDir(t, "github.com/cert-manager/cert-manager@"+certManagerVersion), "deploy", "crds")
}

// TestManagerRBAC runs the webhook and the controllers with ONLY the
// manager's rendered RBAC (impersonating its service account) through a
// savepoint's whole life: trigger, complete, name claim, detach, dispose.
func TestManagerRBAC(t *testing.T) {
	env := controlplane.Start(t, controlplane.Options{Webhooks: true})
	ctx := context.Background()
	require.NoError(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: managerNamespace}}))
	_, errOut, err := env.RunKubectl(ctx, "apply", "-n", managerNamespace, "-k", "rbac")
	require.NoError(t, err, errOut)

	sa := rest.CopyConfig(env.Config)
	sa.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + managerNamespace + ":savepoint-manager",
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + managerNamespace, "system:authenticated"},
	}
	cluster := flinkharness.Start(ctx, t, flinkharness.Options{JobName: "orders", SavepointDir: t.TempDir()})
	_, _ = env.StartManagerAs(t, sa, func(ctx context.Context, mgr ctrl.Manager) error {
		return manager.Setup(ctx, mgr, manager.Config{
			Namespace: managerNamespace, ServiceAccount: "savepoint-manager",
			// A second run in one process (go test -count) sets them up again.
			Controllers: controller.Options{SkipNameValidation: true, Endpoints: egress.LocalOnly(), AllowRestURLAnnotation: true,
				JarDir: filepath.Dir(cluster.JarPath)},
		})
	}, func(o *ctrl.Options) {
		o.LeaderElection = true
		o.LeaderElectionID = "savepoint-manager.cmf.confluent.io"
		o.LeaderElectionNamespace = managerNamespace
	})

	ns := env.Namespace(t)
	orders := &cmfv1.FlinkApplication{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orders", Annotations: map[string]string{cmfv1.RestURLAnnotation: cluster.RESTURL}},
		Spec:       cmfv1.FlinkApplicationSpec{Job: &cmfv1.JobSpec{JarURI: "local:///job.jar"}},
	}
	require.NoError(t, env.Client.Create(ctx, orders))
	// Its job is the harness's: the status names it as the operator's
	// mirror would (no operator here), for the manager finds a job by ID only.
	env.RecordJob(t, orders, cluster.JobID)
	dir := t.TempDir()
	take := func(name string) *cmfv1.Savepoint {
		sp := &cmfv1.Savepoint{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: cmfv1.SavepointSpec{Application: "orders", Path: dir}}
		require.NoError(t, env.Client.Create(ctx, sp))
		require.Eventually(t, func() bool {
			return env.Client.Get(ctx, client.ObjectKeyFromObject(sp), sp) == nil && sp.Status.State == cmfv1.StateCompleted
		}, 30*time.Second, 20*time.Millisecond, "savepoint %s: %s %s", name, sp.Status.State, sp.Status.Error)
		return sp
	}
	gone := func(obj client.Object) {
		require.Eventually(t, func() bool {
			err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)
			return err != nil && strings.Contains(err.Error(), "not found")
		}, 30*time.Second, 20*time.Millisecond, "%s still there", obj.GetName())
	}

	kept := take("kept")
	require.NoError(t, env.Client.Create(ctx, &cmfv1.DetachedSavepoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "kept-" + ns},
		Spec: cmfv1.DetachedSavepointSpec{Path: kept.Status.Path, Source: &cmfv1.DetachedSavepointSource{
			Namespace: ns, Application: "orders", SavepointName: "kept", UID: string(kept.UID),
		}},
	}), "the name claim (a Lease in the manager's namespace) and the SubjectAccessReview")
	gone(kept)
	assert.DirExists(t, flinkharness.LocalPath(kept.Status.Path))

	disposed := take("disposed")
	require.NoError(t, env.Client.Delete(ctx, disposed))
	gone(disposed)
	assert.NoDirExists(t, flinkharness.LocalPath(disposed.Status.Path))

	app := &cmfv1.FlinkApplication{}
	require.Eventually(t, func() bool {
		return env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "orders"}, app) == nil && len(app.Finalizers) == 0
	}, 10*time.Second, 20*time.Millisecond, "the parent's finalizer goes with its last savepoint: %v", app.Finalizers)

	// Session mode with the same rights: the pool's status, a job run on the
	// pool, its suspend savepoint adopted as a Savepoint.
	require.NoError(t, env.Client.Create(ctx, &cmfv1.ComputePool{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pool"}, Spec: cmfv1.ComputePoolSpec{RestURL: cluster.RESTURL},
	}))
	pooled := &cmfv1.FlinkApplication{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pooled"},
		Spec: cmfv1.FlinkApplicationSpec{ComputePoolName: "pool", Job: &cmfv1.JobSpec{
			JarURI: "file://" + cluster.JarPath, EntryClass: flinkharness.StatefulJobEntryClass, Args: []string{"--job-name", "pooled"},
		}},
	}
	require.NoError(t, env.Client.Create(ctx, pooled))
	lifecycle := func(want string) {
		require.Eventually(t, func() bool {
			return env.Client.Get(ctx, client.ObjectKeyFromObject(pooled), pooled) == nil && pooled.Status.LifecycleState == want
		}, time.Minute, 20*time.Millisecond, "application pooled: %q, %q, %+v", pooled.Status.LifecycleState, pooled.Status.Error, pooled.Status.Conditions)
	}
	lifecycle("RUNNING")
	require.NoError(t, env.Client.Patch(ctx, pooled, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"job":{"state":"suspended"}}}`))))
	lifecycle("SUSPENDED")
	var list cmfv1.SavepointList
	require.Eventually(t, func() bool {
		require.NoError(t, env.Client.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels{cmfv1.ApplicationLabel: "pooled"}))
		return len(list.Items) == 1 && list.Items[0].Status.State == cmfv1.StateCompleted
	}, 30*time.Second, 20*time.Millisecond, "the suspend savepoint, adopted and COMPLETED")
	assert.Equal(t, cmfv1.OriginSuspend, list.Items[0].Status.Origin)
	pool := &cmfv1.ComputePool{}
	require.Eventually(t, func() bool {
		return env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "pool"}, pool) == nil && pool.Status.Reachable
	}, 30*time.Second, 20*time.Millisecond, "the pool's status is written")
}
