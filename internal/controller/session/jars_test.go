package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/endpoint"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/egress"
)

func TestJarCache(t *testing.T) {
	jar := []byte("PK\x03\x04 a job jar")
	sum := sha256.Sum256(jar)
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/job.jar":
			_, _ = w.Write(jar)
		case "/big.jar":
			_, _ = w.Write(make([]byte, 4096)) // streamed: no length known up front
		default:
			http.NotFound(w, r)
		}
	}))
	defer server.Close()
	jars := t.TempDir()
	local := filepath.Join(jars, "local.jar")
	require.NoError(t, os.WriteFile(local, jar, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(jars, "big.jar"), make([]byte, 4096), 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(jars, "folder.jar"), 0o755))
	// The manager's own files, say its kubeconfig: outside the jar folder.
	secret := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(secret, []byte("client-key-data: SECRET"), 0o600))
	require.NoError(t, os.Symlink(secret, filepath.Join(jars, "link.jar")))
	// A file where the folder's parent should be: no folder can be made
	// there, whoever runs the test (root included).
	blocked := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(blocked, nil, 0o644))
	local0 := egress.LocalOnly()
	nothing := egress.Policy{}

	tests := []struct {
		name   string
		opts   JarOptions
		policy egress.Policy
		uri    string
		// cacheErr: the manager's setup is at fault, not the parent's spec.
		cacheErr bool
		wantErr  string
	}{
		{name: "an http jar is downloaded into a folder made then", opts: JarOptions{CacheDir: filepath.Join(t.TempDir(), "made", "later")}, policy: local0, uri: server.URL + "/job.jar"},
		{name: "a file jar in the jar folder needs no cache folder", opts: JarOptions{CacheDir: filepath.Join(blocked, "jars"), LocalDir: jars}, uri: "file://" + local},
		{name: "a folder that cannot be made names the flag", opts: JarOptions{CacheDir: filepath.Join(blocked, "jars")}, policy: local0, uri: server.URL + "/job.jar",
			cacheErr: true, wantErr: "cannot keep the downloaded jar: mkdir " + blocked + ": not a directory: the manager's --jar-cache-dir must be a writable folder (in its Deployment, an emptyDir volume)"},
		{name: "a jar the server does not have is the spec's", opts: JarOptions{CacheDir: t.TempDir()}, policy: local0, uri: server.URL + "/missing.jar",
			wantErr: "download " + server.URL + "/missing.jar: 404 Not Found"},
		{name: "file:// without a jar folder: refused", opts: JarOptions{CacheDir: t.TempDir()}, uri: "file://" + local,
			wantErr: "file://" + local + ": file:// jars are not read on this cluster (its admin has not passed --jar-dir to the manager): use an http(s):// URI"},
		{name: "the manager's own file: refused, nothing of it read", opts: JarOptions{LocalDir: jars}, uri: "file://" + secret,
			wantErr: "file://" + secret + ": outside " + jars + ", the one folder the manager reads jars from (--jar-dir): put the jar there, or use an http(s):// URI"},
		{name: "climbing out of the jar folder: refused", opts: JarOptions{LocalDir: jars}, uri: "file://" + jars + "/../" + filepath.Base(filepath.Dir(secret)) + "/kubeconfig",
			wantErr: "outside " + jars},
		{name: "a link out of the jar folder: refused", opts: JarOptions{LocalDir: jars}, uri: "file://" + filepath.Join(jars, "link.jar"),
			wantErr: "file://" + filepath.Join(jars, "link.jar") + ": a link out of " + jars + ", the one folder the manager reads jars from (--jar-dir)"},
		{name: "a device: refused", opts: JarOptions{LocalDir: "/dev"}, uri: "file:///dev/zero", wantErr: "file:///dev/zero: not a regular file"},
		{name: "a folder: refused", opts: JarOptions{LocalDir: jars}, uri: "file://" + filepath.Join(jars, "folder.jar"), wantErr: "not a regular file"},
		{name: "a local jar over the limit: refused", opts: JarOptions{LocalDir: jars, MaxBytes: 1024}, uri: "file://" + filepath.Join(jars, "big.jar"),
			wantErr: "file://" + filepath.Join(jars, "big.jar") + ": 4096 bytes, more than the manager's limit of 1024 (--max-jar-bytes)"},
		{name: "a download over the limit: refused", opts: JarOptions{CacheDir: t.TempDir(), MaxBytes: 1024}, policy: local0, uri: server.URL + "/big.jar",
			wantErr: "download " + server.URL + "/big.jar: more than the manager's limit of 1024 bytes (--max-jar-bytes)"},
		{name: "a host the admin did not allow: refused before any request", opts: JarOptions{CacheDir: t.TempDir()}, policy: nothing, uri: server.URL + "/job.jar",
			wantErr: "--allow-loopback-endpoints"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := newJarCache(tt.opts, &endpoint.Clients{Policy: tt.policy})
			path, got, err := cache.fetch(context.Background(), "team-b", tt.uri)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.NotContains(t, err.Error(), "SECRET")
				assert.Equal(t, tt.cacheErr, errors.As(err, new(*jarCacheError)))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, hex.EncodeToString(sum[:]), got)
			content, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, jar, content)
		})
	}
}
