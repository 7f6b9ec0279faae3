package v1_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

// TestURLLengthsInTheCRDs: the maxLength markers say what the constants
// say (the webhook checks the rest-url annotation against the same
// constant).
func TestURLLengthsInTheCRDs(t *testing.T) {
	for _, tc := range []struct {
		crd  string
		path []string
		want int64
	}{
		{"cmf.confluent.io_computepools.yaml", []string{"spec", "restURL"}, cmfv1.MaxEndpointURLLength},
		{"cmf.confluent.io_computepools.yaml", []string{"spec", "sqlGatewayURL"}, cmfv1.MaxEndpointURLLength},
		{"cmf.confluent.io_flinkapplications.yaml", []string{"spec", "job", "jarURI"}, cmfv1.MaxJarURILength},
	} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "manifests", "crd", tc.crd))
		require.NoError(t, err)
		var crd apiextensionsv1.CustomResourceDefinition
		require.NoError(t, yaml.Unmarshal(raw, &crd))
		schema := crd.Spec.Versions[0].Schema.OpenAPIV3Schema
		for _, field := range tc.path {
			next, ok := schema.Properties[field]
			require.True(t, ok, "%s: %v", tc.crd, tc.path)
			schema = &next
		}
		require.NotNil(t, schema.MaxLength, "%s: %v has a maxLength", tc.crd, tc.path)
		assert.Equal(t, tc.want, *schema.MaxLength, "%s: %v", tc.crd, tc.path)
	}
}
