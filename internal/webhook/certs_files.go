package webhook

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
)

// certFiles is the webhook server's cert folder. Every replica writes the
// Secret's serving certificate and key into it as the Secret changes: what
// a Secret volume would do, without the kubelet's sync delay of up to a
// minute. The webhook server's certificate watcher (controller-runtime's
// certwatcher on CertDir) picks the files up without a restart.
type certFiles struct {
	dir string
}

// write replaces tls.key, then tls.crt, each atomically (a rename), when
// they differ: the certificate watcher reloads on the second and never
// reads half a file.
func (f *certFiles) write(cert, key []byte) error {
	if len(cert) == 0 || len(key) == 0 {
		return nil // not issued yet
	}
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return err
	}
	for _, file := range []struct {
		name string
		data []byte
	}{{corev1.TLSPrivateKeyKey, key}, {corev1.TLSCertKey, cert}} {
		path := filepath.Join(f.dir, file.name)
		if current, err := os.ReadFile(path); err == nil && bytes.Equal(current, file.data) {
			continue
		}
		tmp, err := os.CreateTemp(f.dir, "."+file.name+"-*")
		if err != nil {
			return err
		}
		_, err = tmp.Write(file.data)
		if closeErr := tmp.Close(); err == nil {
			err = closeErr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), path)
		}
		if err != nil {
			_ = os.Remove(tmp.Name())
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return nil
}

// hold says whether the folder holds this serving certificate and key.
func (f *certFiles) hold(cert, key []byte) bool {
	for _, file := range []struct {
		name string
		data []byte
	}{{corev1.TLSCertKey, cert}, {corev1.TLSPrivateKeyKey, key}} {
		current, err := os.ReadFile(filepath.Join(f.dir, file.name))
		if err != nil || len(file.data) == 0 || !bytes.Equal(current, file.data) {
			return false
		}
	}
	return true
}
