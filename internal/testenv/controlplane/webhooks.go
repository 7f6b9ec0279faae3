package controlplane

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Shipped names of the webhook configurations: manifests/webhook's
// kustomization gives them to controller-gen's configurations, the manager
// keeps their caBundle by default, and its role may write these alone.
const (
	MutatingWebhookConfiguration   = "savepoint-manager-mutating"
	ValidatingWebhookConfiguration = "savepoint-manager-validating"
)

// RenderWebhooks writes the webhook configurations as a cluster gets them,
// rendered by manifests/webhook's kustomization with the control plane's
// kubectl (so under their shipped names, with their namespaceSelector),
// into dir, and returns the file, for envtest's WebhookInstallOptions.Paths:
// envtest points them at the test's server as it does the generated ones.
func RenderWebhooks(assets, root, dir string) (string, error) {
	out, err := exec.Command(filepath.Join(assets, "kubectl"), "kustomize", filepath.Join(root, "manifests", "webhook")).Output()
	if err != nil {
		if exit, ok := err.(*exec.ExitError); ok {
			err = fmt.Errorf("%w: %s", err, exit.Stderr)
		}
		return "", fmt.Errorf("kubectl kustomize manifests/webhook: %w", err)
	}
	file := filepath.Join(dir, "webhooks.yaml")
	return file, os.WriteFile(file, out, 0o600)
}
