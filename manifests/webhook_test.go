package manifests_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
)

// TestWebhooksReachTheManager renders manifests/webhook as kustomize does
// and checks every webhook the generator wrote: each must call the
// manager's Service (not the generator's placeholder) and leave kube-system
// and the manager's own namespace alone. A webhook added in
// internal/webhook without its patch here fails this test.
func TestWebhooksReachTheManager(t *testing.T) {
	env := controlplane.Start(t, controlplane.Options{})
	rendered, errOut, err := env.RunKubectl(context.Background(), "kustomize", "webhook")
	require.NoError(t, err, errOut)
	count := 0
	for _, doc := range strings.Split(rendered, "\n---\n") {
		var config struct {
			Kind     string                                      `json:"kind"`
			Webhooks []admissionregistrationv1.ValidatingWebhook `json:"webhooks"`
		}
		require.NoError(t, yaml.Unmarshal([]byte(doc), &config))
		for _, w := range config.Webhooks {
			count++
			require.NotNil(t, w.ClientConfig.Service, w.Name)
			assert.Equal(t, "savepoint-manager-webhook", w.ClientConfig.Service.Name, "%s %s calls the manager's Service", config.Kind, w.Name)
			assert.Equal(t, "savepoint-system", w.ClientConfig.Service.Namespace, w.Name)
			if assert.NotNil(t, w.NamespaceSelector, w.Name) && assert.Len(t, w.NamespaceSelector.MatchExpressions, 1, w.Name) {
				assert.ElementsMatch(t, []string{"kube-system", "savepoint-system"}, w.NamespaceSelector.MatchExpressions[0].Values, w.Name)
			}
		}
	}
	assert.Equal(t, 7, count, "two mutating and five validating webhooks")
}
