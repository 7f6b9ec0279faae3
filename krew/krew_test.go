package krew

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	k8sversion "k8s.io/apimachinery/pkg/util/version"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
)

const (
	// testVersion and testCommit are stamped by `make dist` and must come
	// back from the installed plugin and from every field of the manifest.
	testVersion = "v0.0.0-krew.test"
	testCommit  = "krewtest"

	homepage    = "https://github.com/kubectl-savepoint/kubectl-savepoint"
	releaseURL  = homepage + "/releases/download/"
	pluginName  = "savepoint"
	completion  = "kubectl_complete-savepoint"
	licenseFile = "LICENSE"
)

// platforms are the ones the manifest must offer, with the binary each ships
// and a check that the binary really is built for it.
var platforms = []struct {
	os, arch, bin string
	isFor         func(r io.ReaderAt) error
}{
	{"linux", "amd64", "kubectl-savepoint", elfFor(elf.EM_X86_64)},
	{"linux", "arm64", "kubectl-savepoint", elfFor(elf.EM_AARCH64)},
	{"darwin", "amd64", "kubectl-savepoint", machoFor(macho.CpuAmd64)},
	{"darwin", "arm64", "kubectl-savepoint", machoFor(macho.CpuArm64)},
	{"windows", "amd64", "kubectl-savepoint.exe", peFor(pe.IMAGE_FILE_MACHINE_AMD64)},
	{"windows", "arm64", "kubectl-savepoint.exe", peFor(pe.IMAGE_FILE_MACHINE_ARM64)},
}

// manifest is the part of krew's plugin manifest (sigs.k8s.io/krew/pkg/index
// Plugin) the template uses. It is decoded strictly: a field krew does not
// know, or a misspelt one, fails the test.
type manifest struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Version          string     `json:"version"`
		Homepage         string     `json:"homepage"`
		ShortDescription string     `json:"shortDescription"`
		Description      string     `json:"description"`
		Caveats          string     `json:"caveats"`
		Platforms        []platform `json:"platforms"`
	} `json:"spec"`
}

type platform struct {
	Selector struct {
		MatchLabels map[string]string `json:"matchLabels"`
	} `json:"selector"`
	URI    string   `json:"uri"`
	Sha256 string   `json:"sha256"`
	Bin    string   `json:"bin"`
	Files  []fileOp `json:"files"`
}

type fileOp struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// entry is one member of an archive; the content is kept only as its hash.
type entry struct {
	hdr    *tar.Header
	sha256 string
}

// TestDist runs `make dist`, checks the manifest against the archives, then
// installs the host's archive the way krew lays a plugin out and runs it
// through the real kubectl.
func TestDist(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles the plugin for six platforms and runs kubectl; run it with `make test`")
	}
	root := controlplane.RepoRoot(t)
	dist := t.TempDir()

	start := time.Now()
	cmd := exec.Command("make", "-C", root, "dist",
		"VERSION="+testVersion, "COMMIT="+testCommit, "DIST_DIR="+dist)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "make dist:\n%s", out)
	t.Logf("make dist took %s", time.Since(start).Round(time.Second))

	raw, err := os.ReadFile(filepath.Join(dist, pluginName+".yaml"))
	require.NoError(t, err)
	var m manifest
	require.NoError(t, yaml.UnmarshalStrict(raw, &m), "decode %s.yaml", pluginName)
	sums := readChecksums(t, filepath.Join(dist, "checksums.txt"))

	t.Run("manifest", func(t *testing.T) {
		assert.Empty(t, regexp.MustCompile(`@[A-Za-z0-9_]+@`).FindAllString(string(raw), -1), "placeholders left")
		assert.NotContains(t, string(raw), "@SHA256_")
		assert.NotContains(t, string(raw), "@VERSION")
		assert.Equal(t, "krew.googlecontainertools.github.com/v1alpha2", m.APIVersion)
		assert.Equal(t, "Plugin", m.Kind)
		assert.Equal(t, pluginName, m.Metadata.Name, "krew wants the name of the manifest's file")
		assert.Equal(t, testVersion, m.Spec.Version)
		v, err := k8sversion.ParseSemantic(m.Spec.Version) // what krew parses it with
		if assert.NoError(t, err) {
			assert.Equal(t, "v"+v.String(), m.Spec.Version, "krew wants a leading v")
		}
		assert.Equal(t, homepage, m.Spec.Homepage)

		short := m.Spec.ShortDescription
		assert.NotEmpty(t, short)
		assert.NotContains(t, short, "\n")
		assert.LessOrEqual(t, len(short), 50, "a few words: it is a column of `kubectl krew search`")
		assert.NotContains(t, strings.ToLower(short), "kubectl", "redundant word")
		assert.NotContains(t, strings.ToLower(short), "plugin", "redundant word")
		assert.NotEmpty(t, m.Spec.Description)
		assert.Contains(t, m.Spec.Caveats, "store/"+pluginName+"/"+testVersion+"/"+completion)

		var got []string
		for _, p := range m.Spec.Platforms {
			got = append(got, p.Selector.MatchLabels["os"]+"/"+p.Selector.MatchLabels["arch"])
			assert.Len(t, p.Selector.MatchLabels, 2, "%s: only os and arch", p.URI)
		}
		var want []string
		for _, p := range platforms {
			want = append(want, p.os+"/"+p.arch)
		}
		assert.ElementsMatch(t, want, got)
		assert.Len(t, sums, len(platforms), "checksums.txt")
	})

	license, err := os.ReadFile(filepath.Join(root, licenseFile))
	require.NoError(t, err)
	script, err := os.ReadFile(filepath.Join(root, "krew", completion))
	require.NoError(t, err)

	for _, want := range platforms {
		t.Run(want.os+"/"+want.arch, func(t *testing.T) {
			p, ok := findPlatform(m, want.os, want.arch)
			require.True(t, ok, "the manifest has no platform %s/%s", want.os, want.arch)
			archive := fmt.Sprintf("kubectl-savepoint_%s_%s_%s.tar.gz", testVersion, want.os, want.arch)
			assert.Equal(t, releaseURL+testVersion+"/"+archive, p.URI)
			assert.Regexp(t, `^[a-f0-9]{64}$`, p.Sha256)
			assert.Equal(t, fileSHA256(t, filepath.Join(dist, archive)), p.Sha256, "sha256 of %s", archive)
			assert.Equal(t, p.Sha256, sums[archive], "checksums.txt")
			assert.Equal(t, want.bin, p.Bin)

			entries, names := readArchive(t, filepath.Join(dist, archive))
			assert.Equal(t, []string{licenseFile, want.bin, completion}, names, "members, sorted")
			for _, op := range p.Files {
				assert.NotEmpty(t, op.To, "files[].to of %q", op.From)
				assert.True(t, slices.ContainsFunc(names, func(n string) bool {
					ok, err := path.Match(op.From, n)
					return err == nil && ok
				}), "files[].from %q matches nothing in %v", op.From, names)
			}
			for _, f := range []string{p.Bin, licenseFile, completion} {
				assert.Contains(t, installed(p.Files, names), f, "not among the files krew installs")
			}
			for _, name := range names {
				hdr := entries[name].hdr
				assert.Equal(t, byte(tar.TypeReg), hdr.Typeflag, name)
				assert.Zero(t, hdr.Uid, name)
				assert.Zero(t, hdr.Gid, name)
				assert.Equal(t, entries[names[0]].hdr.ModTime, hdr.ModTime, "one mtime for all: %s", name)
			}
			if assert.Contains(t, entries, want.bin) {
				assert.EqualValues(t, 0o755, entries[want.bin].hdr.Mode&0o777)
			}
			if assert.Contains(t, entries, licenseFile) {
				assert.Equal(t, sha256Hex(license), entries[licenseFile].sha256)
			}
			if assert.Contains(t, entries, completion) {
				assert.Equal(t, sha256Hex(script), entries[completion].sha256)
				assert.EqualValues(t, 0o755, entries[completion].hdr.Mode&0o777)
			}

			bin := readMember(t, filepath.Join(dist, archive), want.bin)
			require.NoError(t, want.isFor(bytes.NewReader(bin)), "%s is not a %s/%s executable", want.bin, want.os, want.arch)
			assert.True(t, bytes.Contains(bin, []byte(testVersion)), "the version is not stamped into %s", want.bin)
		})
	}

	t.Run("install", func(t *testing.T) {
		p, ok := findPlatform(m, runtime.GOOS, runtime.GOARCH)
		if !ok {
			t.Skipf("krew offers no archive for this machine (%s/%s)", runtime.GOOS, runtime.GOARCH)
		}
		tmp := t.TempDir()
		krewRoot := filepath.Join(tmp, "krew")
		krewBin := filepath.Join(krewRoot, "bin")
		store := filepath.Join(krewRoot, "store", pluginName, m.Spec.Version)
		require.NoError(t, os.MkdirAll(krewBin, 0o755))
		require.NoError(t, os.MkdirAll(store, 0o755))

		// krew unpacks the download into a scratch folder, moves the files
		// the manifest lists into store/<plugin>/<version>/, and links
		// bin/kubectl-<plugin> to the plugin's bin there.
		download := filepath.Join(tmp, "download")
		extract(t, filepath.Join(dist, path.Base(p.URI)), download)
		for _, op := range p.Files {
			matches, err := filepath.Glob(filepath.Join(download, filepath.FromSlash(op.From)))
			require.NoError(t, err)
			require.NotEmpty(t, matches, "files[].from %q", op.From)
			for _, match := range matches {
				rel, err := filepath.Rel(download, match)
				require.NoError(t, err)
				dst := filepath.Join(store, filepath.FromSlash(installPath(op, filepath.ToSlash(rel))))
				require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
				require.NoError(t, os.Rename(match, dst))
			}
		}
		require.NoError(t, os.Symlink(filepath.Join(store, filepath.FromSlash(p.Bin)), filepath.Join(krewBin, "kubectl-"+pluginName)))
		// The caveats' step for completion: link the completion script too.
		require.NoError(t, os.Symlink(filepath.Join(store, completion), filepath.Join(krewBin, completion)))

		kubectl := filepath.Join(controlplane.Assets(t), "kubectl")
		env := append(os.Environ(),
			"PATH="+krewBin+string(os.PathListSeparator)+pathWithout(os.Getenv("PATH"), "kubectl-"+pluginName, completion),
			"KUBECONFIG="+filepath.Join(tmp, "no-kubeconfig"),
		)
		for _, tc := range []struct {
			name string
			args []string
			want []string
		}{
			{"kubectl plugin list finds it", []string{"plugin", "list"}, []string{filepath.Join(krewBin, "kubectl-"+pluginName) + "\n"}},
			{"kubectl savepoint runs it", []string{pluginName, "version", "--client"}, []string{"Client Version: " + testVersion + " (commit " + testCommit + ","}},
			{"kubectl completes through the completion script", []string{"__complete", pluginName, ""}, []string{"create\t", "list\t", "version\t"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				cmd := exec.CommandContext(ctx, kubectl, tc.args...)
				cmd.Env = env
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				require.NoError(t, cmd.Run(), "kubectl %s\nstdout:\n%s\nstderr:\n%s", strings.Join(tc.args, " "), &stdout, &stderr)
				for _, w := range tc.want {
					assert.Contains(t, stdout.String(), w, "kubectl %s", strings.Join(tc.args, " "))
				}
			})
		}
	})
}

// findPlatform returns the manifest's platform whose selector matches
// goos/goarch, as krew picks one.
func findPlatform(m manifest, goos, goarch string) (platform, bool) {
	for _, p := range m.Spec.Platforms {
		if p.Selector.MatchLabels["os"] == goos && p.Selector.MatchLabels["arch"] == goarch {
			return p, true
		}
	}
	return platform{}, false
}

// installPath is where krew puts an archive member that op's from matched:
// "to: ." (or a folder ending in /) keeps the member's name under it, any
// other to renames it. That is krew's rule for the operations the template
// uses (no wildcards).
func installPath(op fileOp, member string) string {
	if op.To == "." || strings.HasSuffix(op.To, "/") {
		return path.Join(op.To, path.Base(member))
	}
	return path.Clean(op.To)
}

// installed lists the paths, under the plugin's folder, that ops make of
// the archive's members.
func installed(ops []fileOp, members []string) []string {
	var out []string
	for _, op := range ops {
		for _, n := range members {
			if ok, err := path.Match(op.From, n); err == nil && ok {
				out = append(out, installPath(op, n))
			}
		}
	}
	return out
}

// readArchive returns a .tar.gz's members by name, and their names in
// archive order.
func readArchive(t *testing.T, file string) (map[string]entry, []string) {
	t.Helper()
	entries := map[string]entry{}
	var names []string
	walkArchive(t, file, func(hdr *tar.Header, r io.Reader) {
		h := sha256.New()
		_, err := io.Copy(h, r)
		require.NoError(t, err)
		entries[hdr.Name] = entry{hdr: hdr, sha256: hex.EncodeToString(h.Sum(nil))}
		names = append(names, hdr.Name)
	})
	return entries, names
}

// readMember returns the content of one member of a .tar.gz.
func readMember(t *testing.T, file, name string) []byte {
	t.Helper()
	var data []byte
	walkArchive(t, file, func(hdr *tar.Header, r io.Reader) {
		if hdr.Name == name {
			var err error
			data, err = io.ReadAll(r)
			require.NoError(t, err)
		}
	})
	require.NotNil(t, data, "%s has no %s", file, name)
	return data
}

// extract unpacks a .tar.gz of regular files into dir, with their modes.
func extract(t *testing.T, file, dir string) {
	t.Helper()
	walkArchive(t, file, func(hdr *tar.Header, r io.Reader) {
		require.Equal(t, byte(tar.TypeReg), hdr.Typeflag, hdr.Name)
		dst := filepath.Join(dir, filepath.FromSlash(hdr.Name))
		require.True(t, strings.HasPrefix(dst, dir+string(filepath.Separator)), "member %q escapes the folder", hdr.Name)
		require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, os.FileMode(hdr.Mode)&0o777)
		require.NoError(t, err)
		_, err = io.Copy(f, r)
		require.NoError(t, err)
		require.NoError(t, f.Close())
	})
}

func walkArchive(t *testing.T, file string, fn func(*tar.Header, io.Reader)) {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	gz, err := gzip.NewReader(f)
	require.NoError(t, err)
	assert.Empty(t, gz.Name, "%s: gzip -n keeps no name", file)
	assert.True(t, gz.ModTime.IsZero(), "%s: gzip -n keeps no time", file)
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return
		}
		require.NoError(t, err, file)
		fn(hdr, tr)
	}
}

// readChecksums parses sha256sum's output: "<hex>  <file>" a line.
func readChecksums(t *testing.T, file string) map[string]string {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		require.True(t, ok, "checksums.txt line %q", sc.Text())
		sums[name] = sum
	}
	require.NoError(t, sc.Err())
	return sums
}

func fileSHA256(t *testing.T, file string) string {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	h := sha256.New()
	_, err = io.Copy(h, f)
	require.NoError(t, err)
	return hex.EncodeToString(h.Sum(nil))
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// pathWithout drops from a PATH the folders that hold one of names (say, a
// developer's own build of the plugin), which would shadow the installed
// plugin or make `kubectl plugin list` warn and fail.
func pathWithout(list string, names ...string) string {
	var keep []string
	for _, dir := range filepath.SplitList(list) {
		if !slices.ContainsFunc(names, func(name string) bool {
			_, err := os.Stat(filepath.Join(dir, name))
			return err == nil
		}) {
			keep = append(keep, dir)
		}
	}
	return strings.Join(keep, string(os.PathListSeparator))
}

func elfFor(machine elf.Machine) func(io.ReaderAt) error {
	return func(r io.ReaderAt) error {
		f, err := elf.NewFile(r)
		if err != nil {
			return err
		}
		if f.Machine != machine {
			return fmt.Errorf("ELF machine %v, want %v", f.Machine, machine)
		}
		return nil
	}
}

func machoFor(cpu macho.Cpu) func(io.ReaderAt) error {
	return func(r io.ReaderAt) error {
		f, err := macho.NewFile(r)
		if err != nil {
			return err
		}
		if f.Cpu != cpu || f.Type != macho.TypeExec {
			return fmt.Errorf("Mach-O %v %v, want an executable for %v", f.Type, f.Cpu, cpu)
		}
		return nil
	}
}

func peFor(machine uint16) func(io.ReaderAt) error {
	return func(r io.ReaderAt) error {
		f, err := pe.NewFile(r)
		if err != nil {
			return err
		}
		if f.Machine != machine {
			return fmt.Errorf("PE machine %#x, want %#x", f.Machine, machine)
		}
		return nil
	}
}
