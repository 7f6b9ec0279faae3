package manifests

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
)

// TestNetworkPolicy: both installations (the manager's own certificates,
// and cert-manager's) admit ingress to the manager's pods at the port the
// webhook Service forwards to, and nowhere else: not the metrics port, not
// the probes port. The API server accepts the policy (TestManifests applies
// it with a server-side dry run); whether it is enforced is the network
// plugin's, which this control plane has none of.
func TestNetworkPolicy(t *testing.T) {
	env := controlplane.Start(t, controlplane.Options{})
	for _, installation := range []string{"default", "cert-manager"} {
		t.Run(installation, func(t *testing.T) {
			out, errOut, err := env.RunKubectl(context.Background(), "kustomize", installation)
			require.NoError(t, err, errOut)
			objs := rendered(t, out)

			var deployment appsv1.Deployment
			var service corev1.Service
			var policies []networkingv1.NetworkPolicy
			for _, obj := range objs {
				switch obj.kind {
				case "Deployment":
					require.NoError(t, yaml.Unmarshal(obj.raw, &deployment))
				case "Service":
					var svc corev1.Service
					require.NoError(t, yaml.Unmarshal(obj.raw, &svc))
					if svc.Name == "savepoint-manager-webhook" {
						service = svc
					}
				case "NetworkPolicy":
					var policy networkingv1.NetworkPolicy
					require.NoError(t, yaml.Unmarshal(obj.raw, &policy))
					policies = append(policies, policy)
				}
			}
			require.Len(t, policies, 1, "one NetworkPolicy")
			policy := policies[0]
			assert.Equal(t, deployment.Namespace, policy.Namespace)
			selector, err := metav1.LabelSelectorAsSelector(&policy.Spec.PodSelector)
			require.NoError(t, err)
			assert.True(t, selector.Matches(labels.Set(deployment.Spec.Template.Labels)), "it selects the manager's pods")
			assert.False(t, selector.Empty(), "and not every pod of the namespace")
			assert.Equal(t, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}, policy.Spec.PolicyTypes)

			require.Len(t, service.Spec.Ports, 1)
			webhookPort := containerPort(t, deployment, service.Spec.Ports[0].TargetPort)
			container := deployment.Spec.Template.Spec.Containers[0]
			var admitted []int32
			for _, rule := range policy.Spec.Ingress {
				for _, port := range rule.Ports {
					require.NotNil(t, port.Port, "a rule names its port")
					assert.Equal(t, corev1.ProtocolTCP, *port.Protocol)
					admitted = append(admitted, containerPort(t, deployment, *port.Port))
				}
				assert.Empty(t, rule.From, "any source, until the cluster's API server address is named (README)")
			}
			assert.Equal(t, []int32{webhookPort}, admitted, "only the webhook port of %v", container.Ports)
		})
	}
}

// renderedObject is one document of kubectl kustomize's output.
type renderedObject struct {
	kind string
	raw  []byte
}

func rendered(t *testing.T, out string) []renderedObject {
	t.Helper()
	var objs []renderedObject
	for _, doc := range splitDocuments(t, out) {
		var meta metav1.TypeMeta
		require.NoError(t, yaml.Unmarshal(doc, &meta))
		objs = append(objs, renderedObject{kind: meta.Kind, raw: doc})
	}
	return objs
}

func splitDocuments(t *testing.T, out string) [][]byte {
	t.Helper()
	reader := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(out)))
	var docs [][]byte
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return docs
		}
		require.NoError(t, err)
		docs = append(docs, doc)
	}
}

// containerPort resolves a port by name or number to the manager
// container's port number.
func containerPort(t *testing.T, d appsv1.Deployment, port intstr.IntOrString) int32 {
	t.Helper()
	for _, p := range d.Spec.Template.Spec.Containers[0].Ports {
		if port.Type == intstr.String && p.Name == port.StrVal || port.Type == intstr.Int && p.ContainerPort == port.IntVal {
			return p.ContainerPort
		}
	}
	require.Failf(t, "no such container port", "%s", port.String())
	return 0
}
