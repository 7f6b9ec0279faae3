package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
)

// managerPod is the manager's pod as manifests/default and the Dockerfile
// declare it, run on this machine the way a kubelet and a container runtime
// would run it (testdata/pod.sh), against the test's API server.
type managerPod struct {
	// objects is the rendered installation.
	objects    []*unstructured.Unstructured
	deployment *appsv1.Deployment
	container  corev1.Container
	// entrypoint is the container's command: the image's ENTRYPOINT unless
	// the container sets one.
	entrypoint []string
	uid, gid   int64
	// hostPorts maps the container's ports to free ports of this machine:
	// a pod has a network namespace of its own, the test shares the host's.
	hostPorts map[int32]int
	// root is the image's root filesystem: the binary and the mount points.
	root string

	pid    int
	logs   *lockedBuffer
	exited chan struct{}
	err    error // the exit status, set before exited is closed
}

// newManagerPod renders manifests/default and reads the manager's
// Deployment and image from it.
func newManagerPod(t *testing.T, env *controlplane.Env) *managerPod {
	t.Helper()
	rendered, errOut, err := env.RunKubectl(context.Background(), "kustomize", filepath.Join(controlplane.RepoRoot(t), "manifests", "default"))
	require.NoError(t, err, errOut)
	p := &managerPod{objects: decodeAll(t, rendered), hostPorts: map[int32]int{}}
	for _, obj := range p.objects {
		if obj.GetKind() == "Deployment" && obj.GetName() == "savepoint-manager" {
			p.deployment = &appsv1.Deployment{}
			require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, p.deployment))
		}
	}
	require.NotNil(t, p.deployment, "manifests/default renders the Deployment savepoint-manager")
	spec := p.deployment.Spec.Template.Spec
	require.Len(t, spec.Containers, 1)
	p.container = spec.Containers[0]

	// What the pod emulation does: it must be what the manifest asks.
	sc := p.container.SecurityContext
	require.NotNil(t, sc)
	require.True(t, ptr.Deref(sc.ReadOnlyRootFilesystem, false), "the test runs the root read-only, as the container asks")
	require.False(t, ptr.Deref(sc.AllowPrivilegeEscalation, true), "the test sets no_new_privs, as the container asks")
	require.NotNil(t, sc.Capabilities)
	require.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop, "the test runs without capabilities, as the container asks")

	p.entrypoint, p.uid, p.gid = imageConfig(t)
	if len(p.container.Command) > 0 {
		p.entrypoint = p.container.Command
	}
	nonRoot := ptr.Deref(sc.RunAsNonRoot, false)
	if pod := spec.SecurityContext; pod != nil {
		p.uid, p.gid = ptr.Deref(pod.RunAsUser, p.uid), ptr.Deref(pod.RunAsGroup, p.gid)
		nonRoot = nonRoot || ptr.Deref(pod.RunAsNonRoot, false)
	}
	p.uid, p.gid = ptr.Deref(sc.RunAsUser, p.uid), ptr.Deref(sc.RunAsGroup, p.gid)
	require.True(t, nonRoot, "the pod asks runAsNonRoot")
	require.NotZero(t, p.uid, "runAsNonRoot: the kubelet would refuse to start the container as root")
	for _, port := range p.container.Ports {
		p.hostPorts[port.ContainerPort] = freePort(t)
	}
	return p
}

// imageConfig reads the Dockerfile's final stage: its ENTRYPOINT and the
// numeric USER it runs as.
func imageConfig(t *testing.T) (entrypoint []string, uid, gid int64) {
	t.Helper()
	dockerfile, err := os.ReadFile(filepath.Join(controlplane.RepoRoot(t), "Dockerfile"))
	require.NoError(t, err)
	stages := regexp.MustCompile(`(?m)^FROM `).Split(string(dockerfile), -1)
	final := stages[len(stages)-1]
	user := regexp.MustCompile(`(?m)^USER (\d+):(\d+)\s*$`).FindStringSubmatch(final)
	require.NotNil(t, user, "the image's USER is numeric UID:GID (runAsNonRoot needs a number)")
	uid, _ = strconv.ParseInt(user[1], 10, 64)
	gid, _ = strconv.ParseInt(user[2], 10, 64)
	entry := regexp.MustCompile(`(?m)^ENTRYPOINT (\[.*\])\s*$`).FindStringSubmatch(final)
	require.NotNil(t, entry, "the image's ENTRYPOINT, in exec form")
	require.NoError(t, json.Unmarshal([]byte(entry[1]), &entrypoint))
	return entrypoint, uid, gid
}

// install creates the rendered installation, as kubectl apply -k would,
// but for the CRDs (the control plane has them already) and the webhooks'
// clientConfig: the API server reaches the manager at
// https://localhost:<host port> instead of through the Service, which no
// kube-proxy serves here. The Deployment is created too; no kubelet runs it.
func (p *managerPod) install(t *testing.T, env *controlplane.Env) {
	t.Helper()
	ctx := context.Background()
	for _, obj := range p.objects {
		var create client.Object = obj
		switch obj.GetKind() {
		case "CustomResourceDefinition":
			continue
		case "MutatingWebhookConfiguration":
			config := &admissionregistrationv1.MutatingWebhookConfiguration{}
			require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, config))
			for i := range config.Webhooks {
				p.toURL(t, &config.Webhooks[i].ClientConfig)
			}
			create = config
		case "ValidatingWebhookConfiguration":
			config := &admissionregistrationv1.ValidatingWebhookConfiguration{}
			require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, config))
			for i := range config.Webhooks {
				p.toURL(t, &config.Webhooks[i].ClientConfig)
			}
			create = config
		}
		require.NoError(t, env.Client.Create(ctx, create), "create %s %s", obj.GetKind(), obj.GetName())
	}
}

// toURL points a webhook at the host port of the container port its
// Service forwards to.
func (p *managerPod) toURL(t *testing.T, cc *admissionregistrationv1.WebhookClientConfig) {
	t.Helper()
	ref := cc.Service
	require.NotNil(t, ref, "the webhooks reach the manager through its Service")
	var svc *corev1.Service
	for _, obj := range p.objects {
		if obj.GetKind() == "Service" && obj.GetName() == ref.Name && obj.GetNamespace() == ref.Namespace {
			svc = &corev1.Service{}
			require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, svc))
		}
	}
	require.NotNil(t, svc, "the webhook's Service %s/%s is in the installation", ref.Namespace, ref.Name)
	var target *intstr.IntOrString
	for _, port := range svc.Spec.Ports {
		if port.Port == ptr.Deref(ref.Port, 443) {
			target = &port.TargetPort
		}
	}
	require.NotNil(t, target, "Service %s has the webhook's port %d", svc.Name, ptr.Deref(ref.Port, 443))
	u := url.URL{Scheme: "https", Host: net.JoinHostPort("localhost", strconv.Itoa(p.hostPort(t, *target))), Path: ptr.Deref(ref.Path, "/")}
	cc.Service, cc.URL = nil, ptr.To(u.String())
}

// hostPort is the host port of a container port, by name or number.
func (p *managerPod) hostPort(t *testing.T, port intstr.IntOrString) int {
	t.Helper()
	for _, cp := range p.container.Ports {
		if (port.Type == intstr.String && cp.Name == port.StrVal) || (port.Type == intstr.Int && cp.ContainerPort == port.IntVal) {
			return p.hostPorts[cp.ContainerPort]
		}
	}
	require.Failf(t, "no such container port", "%s: the container declares %v", port.String(), p.container.Ports)
	return 0
}

// start builds the manager as the Dockerfile does (static) into the
// image's root and runs it with the container's args and env, credentials
// of its ServiceAccount where the kubelet puts them, and extraArgs. The pod
// is stopped (SIGTERM, then SIGKILL after the grace period) when t ends.
func (p *managerPod) start(t *testing.T, env *controlplane.Env, extraArgs ...string) {
	t.Helper()
	p.root = filepath.Join(t.TempDir(), "rootfs")
	build := exec.Command("go", "build", "-o", filepath.Join(p.root, p.entrypoint[0]), ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "build savepoint-manager: %s", out)

	// The image's folders (distroless: an empty /tmp) and what the
	// container runtime and the kubelet add.
	for _, dir := range []string{"tmp", "proc", "dev", "etc", serviceAccountDir} {
		require.NoError(t, os.MkdirAll(filepath.Join(p.root, dir), 0o755))
	}
	require.NoError(t, os.Chmod(filepath.Join(p.root, "tmp"), 0o1777))
	require.NoError(t, os.WriteFile(filepath.Join(p.root, "dev", "null"), nil, 0o644)) // a mount point
	require.NoError(t, os.WriteFile(filepath.Join(p.root, "etc", "hosts"), []byte("127.0.0.1\tlocalhost\n::1\tlocalhost\n"), 0o644))
	p.writeServiceAccount(t, env)

	podPath := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	script, err := filepath.Abs(filepath.Join("testdata", "pod.sh"))
	require.NoError(t, err)
	wrapper := []string{"--mount", "--propagation", "private", "--", "/bin/sh", script, p.root, fmt.Sprintf("%d:%d", p.uid, p.gid)}
	for _, vm := range p.container.VolumeMounts {
		require.NoError(t, os.MkdirAll(filepath.Join(p.root, vm.MountPath), 0o755))
		wrapper = append(wrapper, vm.MountPath+"="+p.emptyDirSize(t, vm.Name))
	}
	wrapper = append(append(append(wrapper, "--"), p.entrypoint...), p.args(t)...)
	cmd := exec.Command("unshare", append(wrapper, extraArgs...)...)
	apiServer, err := url.Parse(env.Config.Host)
	require.NoError(t, err)
	cmd.Env = append(p.env(t),
		"PATH="+podPath, "HOME=/home/nonroot", "HOSTNAME=savepoint-manager-test",
		"KUBERNETES_SERVICE_HOST="+apiServer.Hostname(), "KUBERNETES_SERVICE_PORT="+apiServer.Port())
	p.logs = &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	require.NoError(t, cmd.Start())
	p.pid = cmd.Process.Pid
	p.exited = make(chan struct{})
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { p.stop(t, cmd) })
}

// serviceAccountDir is where the kubelet mounts the pod's ServiceAccount
// token, its CA and namespace; rest.InClusterConfig reads them there.
const serviceAccountDir = "var/run/secrets/kubernetes.io/serviceaccount"

// writeServiceAccount puts a token of the Deployment's ServiceAccount (so
// the manager has exactly the rendered RBAC), the API server's CA and the
// namespace where the kubelet would mount them, read-only (the root is).
func (p *managerPod) writeServiceAccount(t *testing.T, env *controlplane.Env) {
	t.Helper()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: p.deployment.Namespace, Name: p.deployment.Spec.Template.Spec.ServiceAccountName}}
	token := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}
	require.NoError(t, env.Client.SubResource("token").Create(context.Background(), sa, token), "a token of ServiceAccount %s/%s", sa.Namespace, sa.Name)
	for name, content := range map[string]string{"token": token.Status.Token, "ca.crt": string(env.Config.CAData), "namespace": sa.Namespace} {
		require.NoError(t, os.WriteFile(filepath.Join(p.root, serviceAccountDir, name), []byte(content), 0o644))
	}
}

// emptyDirSize is the tmpfs size for a volume: its sizeLimit in bytes, or
// empty for none. Only emptyDir volumes are emulated.
func (p *managerPod) emptyDirSize(t *testing.T, name string) string {
	t.Helper()
	for _, v := range p.deployment.Spec.Template.Spec.Volumes {
		if v.Name == name {
			require.NotNil(t, v.EmptyDir, "volume %s: the test emulates emptyDir volumes only", name)
			if v.EmptyDir.SizeLimit == nil {
				return ""
			}
			return strconv.FormatInt(v.EmptyDir.SizeLimit.Value(), 10)
		}
	}
	require.Failf(t, "no such volume", "volumeMount %s", name)
	return ""
}

// args are the container's args with its ports mapped to the host's: each
// container port must appear in them (as N or :N), so that the Deployment's
// ports and flags agree.
func (p *managerPod) args(t *testing.T) []string {
	t.Helper()
	args := append([]string(nil), p.container.Args...)
	for container, host := range p.hostPorts {
		found := false
		for i, arg := range args {
			flag, value, ok := strings.Cut(arg, "=")
			if !ok {
				continue
			}
			if port := strconv.Itoa(int(container)); value == port || strings.HasSuffix(value, ":"+port) {
				args[i] = flag + "=" + strings.TrimSuffix(value, port) + strconv.Itoa(host)
				found = true
			}
		}
		require.True(t, found, "container port %d is in no flag of %v", container, p.container.Args)
	}
	return args
}

// env is the container's environment, with the downward API fields the
// manager uses resolved.
func (p *managerPod) env(t *testing.T) []string {
	t.Helper()
	var env []string
	for _, e := range p.container.Env {
		value := e.Value
		if e.ValueFrom != nil {
			require.NotNil(t, e.ValueFrom.FieldRef, "env %s: the test resolves fieldRef only", e.Name)
			require.Equal(t, "metadata.namespace", e.ValueFrom.FieldRef.FieldPath, "env %s: the test resolves metadata.namespace only", e.Name)
			value = p.deployment.Namespace
		}
		env = append(env, e.Name+"="+value)
	}
	return env
}

// waitProbe waits until a probe of the container answers as the kubelet
// wants it (HTTP 2xx or 3xx), failing at once if the manager exits.
func (p *managerPod) waitProbe(t *testing.T, probe *corev1.Probe, timeout time.Duration) {
	t.Helper()
	require.NotNil(t, probe)
	require.NotNil(t, probe.HTTPGet, "an httpGet probe")
	u := fmt.Sprintf("http://127.0.0.1:%d%s", p.hostPort(t, probe.HTTPGet.Port), probe.HTTPGet.Path)
	deadline := time.Now().Add(timeout)
	var last string
	for {
		resp, err := http.Get(u)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode >= 200 && resp.StatusCode < 400 {
				return
			}
			last = resp.Status + ": " + string(body)
		} else {
			last = err.Error()
		}
		select {
		case <-p.exited:
			require.Failf(t, "the manager exited", "%v before %s answered; last: %s", p.err, probe.HTTPGet.Path, last)
		case <-time.After(100 * time.Millisecond):
		}
		require.True(t, time.Now().Before(deadline), "%s did not answer within %s; last: %s", probe.HTTPGet.Path, timeout, last)
	}
}

// stop sends SIGTERM, as the kubelet does, and waits the pod's grace
// period: the manager must exit 0 within it.
func (p *managerPod) stop(t *testing.T, cmd *exec.Cmd) {
	grace := time.Duration(ptr.Deref(p.deployment.Spec.Template.Spec.TerminationGracePeriodSeconds, 30)) * time.Second
	select {
	case <-p.exited:
		t.Errorf("the manager exited before the test ended: %v", p.err)
	default:
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
			assert.NoError(t, p.err, "the manager exits 0 on SIGTERM")
		case <-time.After(grace):
			_ = cmd.Process.Kill()
			<-p.exited
			t.Errorf("the manager did not stop within the grace period of %s", grace)
		}
	}
	if t.Failed() {
		t.Logf("the manager's output:\n%s", p.logs.String())
	}
}

// lockedBuffer collects the manager's output.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(data []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(data)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// decodeAll decodes a multi-document YAML stream.
func decodeAll(t *testing.T, yaml string) []*unstructured.Unstructured {
	t.Helper()
	decoder := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(yaml), 4096)
	var objs []*unstructured.Unstructured
	for {
		obj := &unstructured.Unstructured{}
		err := decoder.Decode(&obj.Object)
		if errors.Is(err, io.EOF) {
			return objs
		}
		require.NoError(t, err)
		if len(obj.Object) > 0 {
			objs = append(objs, obj)
		}
	}
}

// freePort returns a port of 127.0.0.1 free at the moment.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

// assertConfined checks, from the host, what the running manager is held
// to: its user, no capabilities, no_new_privs; a read-only root; writable
// only the Deployment's volumes (and the /proc and /dev/null every
// container has).
func (p *managerPod) assertConfined(t *testing.T) {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid))
	require.NoError(t, err)
	ids := fmt.Sprintf("\t%d\t%d\t%d\t%d\n", p.uid, p.uid, p.uid, p.uid)
	gids := fmt.Sprintf("\t%d\t%d\t%d\t%d\n", p.gid, p.gid, p.gid, p.gid)
	for _, want := range []string{"\nUid:" + ids, "\nGid:" + gids, "\nGroups:\t \n", "\nCapPrm:\t0000000000000000\n", "\nCapEff:\t0000000000000000\n", "\nNoNewPrivs:\t1\n"} {
		assert.Contains(t, string(status), want, "/proc/%d/status", p.pid)
	}

	// mountinfo, as the manager sees it: mount points relative to its root.
	mountinfo, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", p.pid))
	require.NoError(t, err)
	writable := map[string]string{} // mount point → file system type
	var root string
	for line := range strings.Lines(string(mountinfo)) {
		mount, super, ok := strings.Cut(strings.TrimSpace(line), " - ")
		require.True(t, ok, line)
		fields, fs := strings.Fields(mount), strings.Fields(super)
		point, options := fields[4], strings.Split(fields[5], ",")
		if point == "/" {
			root = fields[5]
		}
		if slices.Contains(options, "rw") {
			writable[point] = fs[0]
		}
	}
	assert.Contains(t, strings.Split(root, ","), "ro", "the root is read-only:\n%s", mountinfo)
	want := []string{"/proc", "/dev/null"}
	for _, vm := range p.container.VolumeMounts {
		want = append(want, vm.MountPath)
		assert.Equal(t, "tmpfs", writable[vm.MountPath], "volume %s is an empty writable folder at %s:\n%s", vm.Name, vm.MountPath, mountinfo)
	}
	assert.ElementsMatch(t, want, slices.Collect(maps.Keys(writable)), "writable mounts:\n%s", mountinfo)
}
