package fko_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/fko"
)

// TestFetchCRDsConcurrently: test packages fetch at the same time; every
// caller gets the complete folder, and the CRDs are the operator's.
func TestFetchCRDsConcurrently(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads from Maven Central")
	}
	cache := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	dirs := make([]string, 4)
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for i := range dirs {
		wg.Go(func() { dirs[i], errs[i] = fko.FetchCRDs(ctx, cache) })
	}
	wg.Wait()
	for i := range dirs {
		require.NoError(t, errs[i])
		assert.Equal(t, filepath.Join(cache, fko.Version, "crds"), dirs[i])
	}
	entries, err := os.ReadDir(filepath.Dir(dirs[0]))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary folders left behind")

	kinds := map[string]string{}
	for _, name := range fko.CRDFiles {
		data, err := os.ReadFile(filepath.Join(dirs[0], name))
		require.NoError(t, err)
		var crd struct {
			Spec struct {
				Group    string
				Names    struct{ Kind string }
				Versions []struct{ Name string }
			}
		}
		require.NoError(t, yaml.Unmarshal(data, &crd))
		assert.Equal(t, "flink.apache.org", crd.Spec.Group)
		require.Len(t, crd.Spec.Versions, 1)
		kinds[crd.Spec.Names.Kind] = crd.Spec.Versions[0].Name
	}
	assert.Equal(t, map[string]string{"FlinkDeployment": "v1beta1", "FlinkSessionJob": "v1beta1", "FlinkStateSnapshot": "v1beta1"}, kinds)
}
