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
)

func TestJarCache(t *testing.T) {
	jar := []byte("PK\x03\x04 a job jar")
	sum := sha256.Sum256(jar)
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/job.jar" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(jar)
	}))
	defer server.Close()
	local := filepath.Join(t.TempDir(), "local.jar")
	require.NoError(t, os.WriteFile(local, jar, 0o644))
	// A file where the folder's parent should be: no folder can be made
	// there, whoever runs the test (root included).
	blocked := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(blocked, nil, 0o644))

	tests := []struct {
		name string
		dir  string
		uri  string
		// cacheErr: the manager's setup is at fault, not the parent's spec.
		cacheErr bool
		wantErr  string
	}{
		{name: "an http jar is downloaded into a folder made then", dir: filepath.Join(t.TempDir(), "made", "later"), uri: server.URL + "/job.jar"},
		{name: "a file jar needs no folder", dir: filepath.Join(blocked, "jars"), uri: "file://" + local},
		{name: "a folder that cannot be made names the flag", dir: filepath.Join(blocked, "jars"), uri: server.URL + "/job.jar",
			cacheErr: true, wantErr: "cannot keep the downloaded jar: mkdir " + blocked + ": not a directory: the manager's --jar-cache-dir must be a writable folder (in its Deployment, an emptyDir volume)"},
		{name: "a jar the server does not have is the spec's", dir: t.TempDir(), uri: server.URL + "/missing.jar",
			wantErr: "download " + server.URL + "/missing.jar: 404 Not Found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := newJarCache(tt.dir)
			path, got, err := cache.fetch(context.Background(), tt.uri)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
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
