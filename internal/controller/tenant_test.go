package controller_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/manager"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/flinkharness"
)

// TestTenantJourney is issue 18's tenant suite with everything real: the
// manager (webhook and controllers) runs with only its rendered role
// (manifests/rbac, impersonating its service account), team-a-admin and
// team-b-admin are each bound in their own namespace only, as the README's
// trust model says a cluster admin binds a namespace admin (admin,
// savepoint-detached-editor, savepoint-admin), and a real Flink runs
// team-a's jobs. A canary file stands for the manager's ServiceAccount
// token, and a listener stands for team-b's server: it counts every byte it
// receives. team-b-admin tries every attack against team-a; none reaches
// the listener, and nothing of team-a's is disposed, detached, stopped,
// cancelled or read, while team-a-admin's own journey works end to end.
func TestTenantJourney(t *testing.T) {
	const managerNamespace, teamA, teamB = "savepoint-system", "team-a", "team-b"
	ctx := context.Background()
	env := controlplane.Start(t, controlplane.Options{Webhooks: true})
	for _, ns := range []string{managerNamespace, teamA, teamB} {
		require.NoError(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	}
	_, errOut, err := env.RunKubectl(ctx, "apply", "-n", managerNamespace, "-k", filepath.Join(controlplane.RepoRoot(t), "manifests", "rbac"))
	require.NoError(t, err, errOut)
	env.WaitForAggregation(t)

	cluster := flinkharness.Start(ctx, t, flinkharness.Options{Slots: 4})
	fc, err := flink.New(cluster.RESTURL, flink.Options{})
	require.NoError(t, err)
	canary := canaryFile(t)
	listener := newCountingListener(t)

	opts := sessionOptions // loopback only: the manager may call the test's Flink, not the listener
	opts.JarDir = filepath.Dir(cluster.JarPath)
	opts.JarCacheDir = t.TempDir()
	_, _ = env.StartManagerAs(t, env.ManagerConfig(managerNamespace), func(ctx context.Context, mgr ctrl.Manager) error {
		return manager.Setup(ctx, mgr, manager.Config{Namespace: managerNamespace, ServiceAccount: "savepoint-manager", Controllers: opts})
	})

	roles := []string{"admin", "savepoint-detached-editor", "savepoint-admin"}
	env.BindInNamespace(t, teamA, "team-a-admin", roles, "create", cmfv1.GroupVersion.Group, "computepools")
	env.BindInNamespace(t, teamB, "team-b-admin", roles, "create", cmfv1.GroupVersion.Group, "computepools")
	a, b := env.ClientAs(t, "team-a-admin"), env.ClientAs(t, "team-b-admin")
	s := &sessionSuite{env: env, c: env.Client, flink: cluster, fc: fc, t: t}
	application := func(ns, name, jarURI string, ref *cmfv1.StartFromSavepoint) *cmfv1.FlinkApplication {
		app := &cmfv1.FlinkApplication{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: cmfv1.FlinkApplicationSpec{ComputePoolName: "pool", Job: &cmfv1.JobSpec{
				JarURI: jarURI, EntryClass: flinkharness.StatefulJobEntryClass, Args: []string{"--job-name", "orders"},
				Parallelism: ptr.To[int32](1), UpgradeMode: cmfv1.UpgradeSavepoint, StartFromSavepoint: ref,
			}},
		}
		if ref != nil {
			app.Spec.Job.SavepointRedeployNonce = ptr.To[int64](1)
		}
		return app
	}
	jar := "file://" + cluster.JarPath

	// team-a's journey: a pool, an application, two savepoints, a detach.
	require.NoError(t, a.Create(ctx, &cmfv1.ComputePool{ObjectMeta: metav1.ObjectMeta{Namespace: teamA, Name: "pool"}, Spec: cmfv1.ComputePoolSpec{RestURL: cluster.RESTURL}}))
	orders := application(teamA, "orders", jar, nil)
	require.NoError(t, a.Create(ctx, orders))
	orders = s.waitApp(t, orders, "running", running)
	job := orders.Status.JobStatus.JobID
	require.NoError(t, cluster.WaitUntilJobRunning(ctx, job))
	dirA := t.TempDir()
	take := func(name string) *cmfv1.Savepoint {
		sp := &cmfv1.Savepoint{ObjectMeta: metav1.ObjectMeta{Namespace: teamA, Name: name}, Spec: cmfv1.SavepointSpec{Application: "orders", Path: dirA}}
		require.NoError(t, a.Create(ctx, sp))
		return s.waitSavepoint(t, sp, completed)
	}
	nightly, weekly := take("nightly"), take("weekly")
	golden := &cmfv1.DetachedSavepoint{ObjectMeta: metav1.ObjectMeta{Namespace: teamA, Name: "team-a-golden"},
		Spec: cmfv1.DetachedSavepointSpec{Path: weekly.Status.Path, Source: &cmfv1.DetachedSavepointSource{
			Namespace: teamA, Application: "orders", SavepointName: "weekly", UID: string(weekly.UID)}}}
	require.NoError(t, a.Create(ctx, golden))
	waitGone(t, env.Client, weekly)
	assert.DirExists(t, flinkharness.LocalPath(weekly.Status.Path), "a detach keeps the data")

	before := dirNames(t, dirA)
	require.Len(t, before, 2)
	since := time.Now().UnixMilli()

	t.Run("a pool or a jar at team-b's server: refused, not a byte sent", func(t *testing.T) {
		err := b.Create(ctx, &cmfv1.ComputePool{ObjectMeta: metav1.ObjectMeta{Namespace: teamB, Name: "exfil"}, Spec: cmfv1.ComputePoolSpec{RestURL: listener.url}})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "ComputePool exfil: spec.restURL: ")
		assert.Contains(t, err.Error(), "not on the manager's endpoint allow-list")
		assert.NotContains(t, err.Error(), "\n", "one line")

		// team-b's pool is team-a's JobManager, which the admin allows (all
		// namespaces share loopback here): a job there is team-b's only by
		// the ID the manager submitted it under.
		require.NoError(t, b.Create(ctx, &cmfv1.ComputePool{ObjectMeta: metav1.ObjectMeta{Namespace: teamB, Name: "pool"}, Spec: cmfv1.ComputePoolSpec{RestURL: cluster.RESTURL}}))
		for _, tc := range []struct{ name, jarURI, want string }{
			{"canary", "file://" + canary, "outside " + filepath.Dir(cluster.JarPath)},
			{"download", listener.url + "/job.jar", "not on the manager's endpoint allow-list"},
		} {
			app := application(teamB, tc.name, tc.jarURI, nil)
			require.NoError(t, b.Create(ctx, app))
			got := s.waitApp(t, app, "refused its jar", func(a *cmfv1.FlinkApplication) bool {
				c := meta.FindStatusCondition(a.Status.Conditions, cmfv1.ConditionReady)
				return c != nil && c.Reason == cmfv1.ReasonDeployFailed && strings.Contains(c.Message, tc.want)
			})
			// The job ID is chosen and recorded before the submit; the
			// submit never reached Flink.
			_, err := fc.Job(ctx, got.Status.JobStatus.JobID)
			assert.ErrorIs(t, err, flink.ErrJobNotFound, "nothing submitted")
		}
	})

	t.Run("a parent of team-a's job's name on team-a's cluster: its savepoint never touches that job", func(t *testing.T) {
		// No jar the manager may read: its deploy fails, so the only job
		// it is known by is the ID recorded for that deploy, which never
		// ran; team-a's job of the same name runs there.
		thief := application(teamB, "orders", "file://"+canary, nil)
		require.NoError(t, b.Create(ctx, thief))
		thief = s.waitApp(t, thief, "deploy failed", func(a *cmfv1.FlinkApplication) bool { return readyReason(a) == cmfv1.ReasonDeployFailed })
		sp := &cmfv1.Savepoint{ObjectMeta: metav1.ObjectMeta{Namespace: teamB, Name: "grab"}, Spec: cmfv1.SavepointSpec{Application: "orders", Path: t.TempDir()}}
		require.NoError(t, b.Create(ctx, sp))
		got := s.waitSavepoint(t, sp, func(sp *cmfv1.Savepoint) bool { return sp.Status.State.Terminal() })
		assert.Equal(t, cmfv1.StateAbandoned, got.Status.State, got.Status.Error)
		assert.Equal(t, thief.Status.JobStatus.JobID, got.Status.JobID, "its own job, not the one of its name")
		assert.NotEqual(t, job, got.Status.JobID)

		// Deleting it cancels nothing of team-a's.
		require.NoError(t, b.Delete(ctx, got))
		waitGone(t, env.Client, got)
		require.NoError(t, b.Delete(ctx, thief))
		waitGone(t, env.Client, thief)
	})

	t.Run("detaching, re-pointing or starting from team-a's savepoints: refused", func(t *testing.T) {
		imported := &cmfv1.DetachedSavepoint{ObjectMeta: metav1.ObjectMeta{Namespace: teamB, Name: "x"}, Spec: cmfv1.DetachedSavepointSpec{Path: "s3://b/any"}}
		require.NoError(t, b.Create(ctx, imported))
		addSource := fmt.Sprintf(`{"spec":{"source":{"namespace":%q,"application":"orders","savepointName":"nightly","uid":%q}}}`, teamA, nightly.UID)
		// Refused by RBAC (a namespace admin may not patch
		// DetachedSavepoints) or else by the CRD and the webhook.
		assert.Error(t, b.Patch(ctx, imported, client.RawPatch(types.MergePatchType, []byte(addSource))))
		require.NoError(t, env.Client.Get(ctx, client.ObjectKeyFromObject(imported), imported))
		assert.Nil(t, imported.Spec.Source)

		for _, ref := range []cmfv1.StartFromSavepoint{{SavepointName: golden.Name}, {UID: string(golden.UID)}} {
			err := b.Create(ctx, application(teamB, "copy", jar, &ref))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "no DetachedSavepoint the requester may read")
			assert.NotContains(t, err.Error(), golden.Spec.Path, "nothing of team-a's is told")
		}
	})

	t.Run("team-a's journey goes on: start from its detached savepoint", func(t *testing.T) {
		v2 := application(teamA, "orders-v2", jar, &cmfv1.StartFromSavepoint{SavepointName: golden.Name})
		require.NoError(t, a.Create(ctx, v2))
		got := s.waitApp(t, v2, "running from team-a-golden", running)
		assert.Equal(t, string(golden.UID), got.Spec.Job.StartFromSavepoint.UID, "pinned to the DetachedSavepoint admitted")
		assert.Equal(t, golden.Spec.Path, got.Status.JobStatus.RestoredFrom)
		assert.Equal(t, golden.Spec.Path, s.restoredFrom(t, got.Status.JobStatus.JobID))
	})

	// Nothing of team-a's was disposed, detached, stopped, cancelled or read.
	assert.Equal(t, before, dirNames(t, dirA), "team-a's savepoint data is all there")
	still := &cmfv1.FlinkApplication{}
	require.NoError(t, env.Client.Get(ctx, client.ObjectKeyFromObject(orders), still))
	assert.Equal(t, job, still.Status.JobStatus.JobID, "team-a's application runs the same job")
	assert.Equal(t, "RUNNING", s.flinkState(t, job))
	stats, err := fc.Checkpoints(ctx, job)
	require.NoError(t, err)
	assert.Empty(t, stats.SavepointsSince(since), "no savepoint of team-a's job since the attacks began")
	sp := &cmfv1.Savepoint{}
	require.NoError(t, env.Client.Get(ctx, client.ObjectKeyFromObject(nightly), sp))
	assert.Equal(t, nightly.UID, sp.UID)
	assert.Nil(t, sp.DeletionTimestamp)
	assert.NotContains(t, sp.Annotations, cmfv1.DetachedAsAnnotation)
	assert.Equal(t, cmfv1.StateCompleted, sp.Status.State)
	kept := &cmfv1.DetachedSavepoint{}
	require.NoError(t, env.Client.Get(ctx, client.ObjectKeyFromObject(golden), kept))
	assert.Equal(t, golden.UID, kept.UID)
	received := listener.received()
	assert.Empty(t, received, "the manager sent team-b's server nothing")
	assert.False(t, bytes.Contains(received, canaryBytes(t, canary)), "the canary never left the manager")
}

// canaryFile is a file of random bytes outside the jar folder, standing for
// the manager's ServiceAccount token.
func canaryFile(t *testing.T) string {
	t.Helper()
	secret := make([]byte, 4096)
	_, err := rand.Read(secret)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(path, secret, 0o600))
	return path
}

func canaryBytes(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

// countingListener is team-b's server: it keeps every byte any connection
// sends it and answers nothing. It listens on an address of this machine
// that is not loopback, so that the manager's allow-list (loopback only,
// for the test's Flink) does not include it, as an attacker's server would
// not be.
type countingListener struct {
	url  string
	mu   sync.Mutex
	data bytes.Buffer
}

func newCountingListener(t *testing.T) *countingListener {
	t.Helper()
	ip := nonLoopbackIP(t)
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	require.NoError(t, err)
	l := &countingListener{url: "http://" + ln.Addr().String()}
	var conns []net.Conn
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			l.mu.Lock()
			conns = append(conns, conn)
			l.mu.Unlock()
			go func() { _, _ = io.Copy(l, conn) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l
}

// Write keeps what a connection sent, as it arrives.
func (l *countingListener) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.data.Write(p)
}

func (l *countingListener) received() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.data.Bytes())
}

// nonLoopbackIP is an IPv4 address of this machine that is not loopback.
func nonLoopbackIP(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	require.NoError(t, err)
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	require.FailNow(t, "the tenant test needs an IPv4 address besides loopback for team-b's server", "%v", addrs)
	return ""
}
