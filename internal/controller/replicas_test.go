package controller_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	ctrlwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/egress"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/manager"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/flinkharness"
)

// TestTwoReplicas runs two managers as two replicas would: both serve
// admission, one leader reconciles, and the other takes over when it goes.
func TestTwoReplicas(t *testing.T) {
	ctx := context.Background()
	env := controlplane.Start(t, controlplane.Options{Webhooks: true})
	require.NoError(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "savepoint-system"}}))
	cluster := flinkharness.Start(ctx, t, flinkharness.Options{JobName: "orders"})

	setup := func(ctx context.Context, mgr ctrl.Manager) error {
		return manager.Setup(ctx, mgr, manager.Config{Namespace: "savepoint-system", Controllers: controller.Options{SkipNameValidation: true, Endpoints: egress.LocalOnly(), AllowRestURLAnnotation: true}})
	}
	leaderElection := func(o *ctrl.Options) {
		o.LeaderElection = true
		o.LeaderElectionID = "savepoint-manager.cmf.confluent.io"
		o.LeaderElectionNamespace = "savepoint-system"
		o.LeaderElectionReleaseOnCancel = true
		o.LeaseDuration = ptrDuration(2 * time.Second)
		o.RenewDeadline = ptrDuration(time.Second)
		o.RetryPeriod = ptrDuration(200 * time.Millisecond)
	}
	// Each replica serves the webhook on a port of its own; a TCP balancer on
	// the port the webhook configurations name stands in for the Service.
	wh := env.Env.WebhookInstallOptions
	ports := []int{freePort(t), freePort(t)}
	serveBalancer(t, net.JoinHostPort(wh.LocalServingHost, fmt.Sprint(wh.LocalServingPort)), wh.LocalServingHost, ports)
	onPort := func(port int) func(*ctrl.Options) {
		return func(o *ctrl.Options) {
			o.WebhookServer = ctrlwebhook.NewServer(ctrlwebhook.Options{Host: wh.LocalServingHost, Port: port, CertDir: wh.LocalServingCertDir})
		}
	}
	first, stopFirst := env.StartManager(t, setup, leaderElection, onPort(ports[0]))
	second, stopSecond := env.StartManager(t, setup, leaderElection, onPort(ports[1]))

	t.Run("both replicas serve admission", func(t *testing.T) {
		for _, port := range ports {
			review := admit(t, fmt.Sprintf("https://%s/mutate-cmf-confluent-io-v1-savepoint", net.JoinHostPort(wh.LocalServingHost, fmt.Sprint(port))))
			assert.True(t, review.Response.Allowed, "port %d", port)
			assert.NotEmpty(t, review.Response.Patch, "port %d defaults the savepoint", port)
		}
	})

	elected := func(m ctrl.Manager) bool {
		select {
		case <-m.Elected():
			return true
		default:
			return false
		}
	}
	require.Eventually(t, func() bool { return elected(first) || elected(second) }, 20*time.Second, 50*time.Millisecond)
	time.Sleep(500 * time.Millisecond)
	require.NotEqual(t, elected(first), elected(second), "exactly one leader")
	stopLeader, follower := stopFirst, second
	if elected(second) {
		stopLeader, follower = stopSecond, first
	}

	s := &suite{env: env, c: env.Client, flink: cluster, t: t}
	ns := s.namespace(t, cluster.RESTURL)
	t.Run("the leader reconciles", func(t *testing.T) {
		s.waitState(t, s.create(t, ns, cmfv1.SavepointSpec{Application: "orders", Path: t.TempDir()}), cmfv1.StateCompleted)
	})
	t.Run("the other replica takes over when the leader goes", func(t *testing.T) {
		stopLeader()
		require.Eventually(t, func() bool { return elected(follower) }, 20*time.Second, 50*time.Millisecond)
		s.waitState(t, s.create(t, ns, cmfv1.SavepointSpec{Application: "orders", Path: t.TempDir()}), cmfv1.StateCompleted)
	})
}

// admit sends a Savepoint CREATE review to a webhook server directly.
func admit(t *testing.T, url string) *admissionv1.AdmissionReview {
	t.Helper()
	sp, err := json.Marshal(&cmfv1.Savepoint{
		TypeMeta:   metav1.TypeMeta{APIVersion: "cmf.confluent.io/v1", Kind: "Savepoint"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "default"},
		Spec:       cmfv1.SavepointSpec{Application: "orders"},
	})
	require.NoError(t, err)
	body, err := json.Marshal(&admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID: "replica-check", Operation: admissionv1.Create, Namespace: "default",
			Kind:   metav1.GroupVersionKind{Group: "cmf.confluent.io", Version: "v1", Kind: "Savepoint"},
			Object: runtime.RawExtension{Raw: sp},
		},
	})
	require.NoError(t, err)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, Timeout: 10 * time.Second} //nolint:gosec // the test's own server
	resp, err := client.Post(url, "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	var review admissionv1.AdmissionReview
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&review))
	require.NotNil(t, review.Response)
	return &review
}

// serveBalancer forwards TCP connections on addr to the first of ports on
// host that accepts, as a Service in front of the replicas would.
func serveBalancer(t *testing.T, addr, host string, ports []int) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				for _, port := range ports {
					backend, err := net.DialTimeout("tcp", net.JoinHostPort(host, fmt.Sprint(port)), time.Second)
					if err != nil {
						continue
					}
					defer backend.Close()
					go func() { _, _ = io.Copy(backend, conn) }()
					_, _ = io.Copy(conn, backend)
					return
				}
			}()
		}
	}()
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func ptrDuration(d time.Duration) *time.Duration { return &d }
