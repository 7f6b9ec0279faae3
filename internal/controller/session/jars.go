package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// jarCache gives a job jar as a local file with the checksum of its
// content: the manager uploads a jar to a pool only when the pool does not
// have that content yet. Its folder is made when the first http(s) jar is
// downloaded, not before: a manager that never needs it (file:// jars only)
// runs where it could not be written.
type jarCache struct {
	dir string

	mu   sync.Mutex
	sums map[string]fileSum // by local path
}

// fileSum is a local file's checksum, valid while its size and time stay.
type fileSum struct {
	size    int64
	modTime time.Time
	sum     string
}

func newJarCache(dir string) *jarCache {
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "savepoint-manager-jars")
	}
	return &jarCache{dir: dir, sums: map[string]fileSum{}}
}

// jarCacheError is a downloaded jar the manager could not keep: its jar
// cache folder cannot be made or written. It is the manager's setup, not the
// parent's spec, so the deploy is tried again rather than marked failed.
type jarCacheError struct {
	err error
}

func (e *jarCacheError) Error() string {
	return fmt.Sprintf("cannot keep the downloaded jar: %v: the manager's --jar-cache-dir must be a writable folder (in its Deployment, an emptyDir volume)", e.err)
}

func (e *jarCacheError) Unwrap() error { return e.err }

// fetch returns a local file holding the jar at uri (file:// is read where
// it is; http(s):// is downloaded) and the SHA-256 of its content.
func (c *jarCache) fetch(ctx context.Context, uri string) (string, string, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", "", fmt.Errorf("%q is not a URI: %w", uri, err)
	}
	switch u.Scheme {
	case "file":
		sum, err := c.sum(u.Path)
		return u.Path, sum, err
	case "http", "https":
		return c.download(ctx, uri)
	}
	return "", "", fmt.Errorf("%q: want a file:// or http(s):// URI (the manager fetches the jar and uploads it to the pool)", uri)
}

func (c *jarCache) sum(path string) (string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("read the jar: %w", err)
	}
	c.mu.Lock()
	cached, ok := c.sums[path]
	c.mu.Unlock()
	if ok && cached.size == info.Size() && cached.modTime.Equal(info.ModTime()) {
		return cached.sum, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("read the jar: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read the jar: %w", err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	c.mu.Lock()
	c.sums[path] = fileSum{size: info.Size(), modTime: info.ModTime(), sum: sum}
	c.mu.Unlock()
	return sum, nil
}

// download fetches the jar into the cache, named by its URI; a download
// that fails leaves the previous copy alone.
func (c *jarCache) download(ctx context.Context, uri string) (string, string, error) {
	key := sha256.Sum256([]byte(uri))
	dest := filepath.Join(c.dir, hex.EncodeToString(key[:12])+".jar")
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return "", "", &jarCacheError{err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return "", "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("download %s: %w", uri, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("download %s: %s", uri, resp.Status)
	}
	tmp, err := os.CreateTemp(c.dir, "download-*")
	if err != nil {
		return "", "", &jarCacheError{err}
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmp, h), resp.Body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	var fileErr *fs.PathError
	switch {
	case errors.As(err, &fileErr):
		return "", "", &jarCacheError{err} // writing, e.g. the folder is full
	case err != nil:
		return "", "", fmt.Errorf("download %s: %w", uri, err)
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return "", "", &jarCacheError{err}
	}
	return dest, hex.EncodeToString(h.Sum(nil)), nil
}
