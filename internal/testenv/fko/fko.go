// Package fko installs the Flink Kubernetes Operator's real CRDs into a test
// API server. The operator itself needs nodes to run Flink pods and cannot
// run here; its CRDs can, so the tests write what the operator would write
// and the API server checks it against the operator's own schema.
//
// The CRDs come from the operator's API jar on Maven Central
// (META-INF/fabric8/*-v1.yml), fetched once and cached under .cache/fko.
package fko

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
)

// Version is the operator release whose CRDs the tests install: the only
// one that resolves from Maven Central here, and the first with
// FlinkStateSnapshot.
const Version = "1.10.0"

// jarURL and jarSHA256 pin the artifact: a changed jar is an error, not a
// silently different schema.
const (
	jarURL    = "https://repo1.maven.org/maven2/org/apache/flink/flink-kubernetes-operator-api/" + Version + "/flink-kubernetes-operator-api-" + Version + ".jar"
	jarSHA256 = "b1f44814e17514fa8395c61b329a3ee9087123a5bda5b21fe1a495d5182c30b6"
)

// CRDFiles are the CRDs the folder of CRDDir holds. The jar's *-v1beta1.yml
// files are the legacy apiextensions v1beta1 rendering of the same CRDs.
var CRDFiles = []string{
	"flinkdeployments.flink.apache.org-v1.yml",
	"flinksessionjobs.flink.apache.org-v1.yml",
	"flinkstatesnapshots.flink.apache.org-v1.yml",
}

// CRDDir returns a folder holding the operator's CRDs, for
// controlplane.Options.ExtraCRDDirs.
func CRDDir(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	root, err := controlplane.FindRepoRoot()
	require.NoError(t, err)
	dir, err := FetchCRDs(ctx, filepath.Join(root, ".cache", "fko"))
	require.NoError(t, err)
	return dir
}

// FetchCRDs returns cache/<Version>/crds, downloading and unpacking the jar
// when it is not there yet. Test packages run in parallel: each unpacks into
// a folder of its own and renames it into place, so a reader sees either no
// folder or a complete one, and a loser of the race just uses the winner's.
func FetchCRDs(ctx context.Context, cache string) (string, error) {
	dir := filepath.Join(cache, Version, "crds")
	if complete(dir) {
		return dir, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	jar, err := download(ctx, jarURL)
	if err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "crds-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if err := extractCRDs(jar, tmp); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil && !complete(dir) {
		return "", fmt.Errorf("cache the Flink Kubernetes Operator CRDs in %s: %w", dir, err)
	}
	return dir, nil
}

func complete(dir string) bool {
	for _, name := range CRDFiles {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return false
		}
	}
	return true
}

func download(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download %s: %w (Maven Central must be reachable, directly or through HTTPS_PROXY)", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("download %s: %s", url, resp.Status)
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", url, err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != jarSHA256 {
		return nil, fmt.Errorf("download %s: sha256 %s, want %s: the artifact changed; check it and update jarSHA256", url, got, jarSHA256)
	}
	return data, nil
}

// extractCRDs writes the jar's CRDFiles into dir.
func extractCRDs(jar []byte, dir string) error {
	zr, err := zip.NewReader(bytes.NewReader(jar), int64(len(jar)))
	if err != nil {
		return fmt.Errorf("open the operator API jar: %w", err)
	}
	want := map[string]bool{}
	for _, name := range CRDFiles {
		want[name] = true
	}
	for _, f := range zr.File {
		name := path.Base(f.Name)
		if !strings.HasPrefix(f.Name, "META-INF/fabric8/") || !want[name] {
			continue
		}
		if err := copyOut(f, filepath.Join(dir, name)); err != nil {
			return err
		}
		delete(want, name)
	}
	if len(want) > 0 {
		return errors.New("the operator API jar lacks some of " + strings.Join(CRDFiles, ", "))
	}
	return nil
}

func copyOut(f *zip.File, dst string) error {
	r, err := f.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read %s from the operator API jar: %w", f.Name, err)
	}
	return os.WriteFile(dst, data, 0o644)
}
