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
	"strings"
	"sync"
	"time"

	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/endpoint"
)

// JarOptions say which jar URIs the manager reads, and how much of them:
// a jar URI is what a namespace user writes, read with the manager's own
// file system and network position.
type JarOptions struct {
	// CacheDir holds the jars downloaded from http(s) URIs; default a
	// folder in the system's temporary directory.
	CacheDir string
	// LocalDir is the one folder that file:// jars are read from (with its
	// subfolders; a link out of it is refused); empty refuses file:// jars.
	LocalDir string
	// MaxBytes caps a jar, local or downloaded; default 512 MiB.
	MaxBytes int64
	// DownloadTimeout bounds one download; default 10 minutes.
	DownloadTimeout time.Duration
}

// Default jar limits.
const (
	DefaultMaxJarBytes     = 512 << 20
	DefaultDownloadTimeout = 10 * time.Minute
)

// jarCache gives a job jar as a local file with the checksum of its
// content: the manager uploads a jar to a pool only when the pool does not
// have that content yet. Its folder is made when the first http(s) jar is
// downloaded, not before: a manager that never needs it (file:// jars only)
// runs where it could not be written.
type jarCache struct {
	opts JarOptions
	// clients check a download's URL and connections against the admin's
	// allow-list.
	clients *endpoint.Clients

	mu   sync.Mutex
	sums map[string]fileSum // by local path
	// downloading holds one lock per cached file: two parents' workers
	// that download the same URI at once take turns.
	downloading sync.Map // of *sync.Mutex, by local path
}

// fileSum is a local file's checksum, valid while its size and time stay.
type fileSum struct {
	size    int64
	modTime time.Time
	sum     string
}

func newJarCache(opts JarOptions, clients *endpoint.Clients) *jarCache {
	if opts.CacheDir == "" {
		opts.CacheDir = filepath.Join(os.TempDir(), "savepoint-manager-jars")
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxJarBytes
	}
	if opts.DownloadTimeout <= 0 {
		opts.DownloadTimeout = DefaultDownloadTimeout
	}
	return &jarCache{opts: opts, clients: clients, sums: map[string]fileSum{}}
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
// it is, inside JarOptions.LocalDir; http(s):// is downloaded through the
// admin's allow-list for namespace) and the SHA-256 of its content.
func (c *jarCache) fetch(ctx context.Context, namespace, uri string) (string, string, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", "", fmt.Errorf("%q is not a URI: %w", uri, err)
	}
	switch u.Scheme {
	case "file":
		path, err := c.local(u.Path)
		if err != nil {
			return "", "", err
		}
		sum, err := c.sum(path)
		return path, sum, err
	case "http", "https":
		if err := c.clients.Policy.CheckURL(uri, namespace); err != nil {
			return "", "", err
		}
		return c.download(ctx, namespace, uri)
	}
	return "", "", fmt.Errorf("%q: want a file:// or http(s):// URI (the manager fetches the jar and uploads it to the pool)", uri)
}

// local is the file a file:// jar names, when it is a regular file inside
// LocalDir (links resolved) and within MaxBytes. A path outside the folder
// is refused before anything of it is read: whether it exists is none of
// the user's business.
func (c *jarCache) local(path string) (string, error) {
	if c.opts.LocalDir == "" {
		return "", fmt.Errorf("file://%s: file:// jars are not read on this cluster (its admin has not passed --jar-dir to the manager): use an http(s):// URI", path)
	}
	dir := filepath.Clean(c.opts.LocalDir)
	clean := filepath.Clean(path)
	if !filepath.IsAbs(clean) || !within(clean, dir) {
		return "", fmt.Errorf("file://%s: outside %s, the one folder the manager reads jars from (--jar-dir): put the jar there, or use an http(s):// URI", path, dir)
	}
	real, err := filepath.EvalSymlinks(clean)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("read the jar: %s: no such file", clean)
	case err != nil:
		return "", fmt.Errorf("read the jar: %w", err)
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", fmt.Errorf("read the jar folder %s: %w", dir, err)
	}
	if !within(real, realDir) {
		return "", fmt.Errorf("file://%s: a link out of %s, the one folder the manager reads jars from (--jar-dir)", path, dir)
	}
	info, err := os.Stat(real)
	switch {
	case err != nil:
		return "", fmt.Errorf("read the jar: %w", err)
	case !info.Mode().IsRegular():
		return "", fmt.Errorf("file://%s: not a regular file", path)
	case info.Size() > c.opts.MaxBytes:
		return "", fmt.Errorf("file://%s: %d bytes, more than the manager's limit of %d (--max-jar-bytes)", path, info.Size(), c.opts.MaxBytes)
	}
	return real, nil
}

// within: path is dir or inside it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
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
	if _, err := io.Copy(h, io.LimitReader(f, c.opts.MaxBytes+1)); err != nil {
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
func (c *jarCache) download(ctx context.Context, namespace, uri string) (string, string, error) {
	key := sha256.Sum256([]byte(uri))
	dest := filepath.Join(c.opts.CacheDir, hex.EncodeToString(key[:12])+".jar")
	if err := os.MkdirAll(c.opts.CacheDir, 0o755); err != nil {
		return "", "", &jarCacheError{err}
	}
	lock, _ := c.downloading.LoadOrStore(dest, &sync.Mutex{})
	lock.(*sync.Mutex).Lock()
	defer lock.(*sync.Mutex).Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return "", "", err
	}
	resp, err := c.clients.HTTP(namespace, c.opts.DownloadTimeout).Do(req)
	if err != nil {
		return "", "", fmt.Errorf("download %s: %w", uri, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("download %s: %s", uri, resp.Status)
	}
	if resp.ContentLength > c.opts.MaxBytes {
		return "", "", fmt.Errorf("download %s: %d bytes, more than the manager's limit of %d (--max-jar-bytes)", uri, resp.ContentLength, c.opts.MaxBytes)
	}
	tmp, err := os.CreateTemp(c.opts.CacheDir, "download-*")
	if err != nil {
		return "", "", &jarCacheError{err}
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(resp.Body, c.opts.MaxBytes+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > c.opts.MaxBytes {
		return "", "", fmt.Errorf("download %s: more than the manager's limit of %d bytes (--max-jar-bytes)", uri, c.opts.MaxBytes)
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
