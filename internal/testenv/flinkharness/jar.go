package flinkharness

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// buildRecipe is hashed with the sources: change it when the Maven invocation changes in
// a way that changes the jar, so that cached jars are rebuilt.
const buildRecipe = "mvn package -DskipTests, recipe 1"

// jarName is the fat jar's file name, in Maven's build folder and in the cache.
const jarName = "flink-job.jar"

// jarMu serialises Jar within one process; withFileLock does it across processes.
var jarMu sync.Mutex

// Jar returns the path of the fat jar built from e2e/flink-job, building it on first use.
//
// The jar is cached under <repo>/.cache/flink/<hash of pom.xml and src/**>/flink-job.jar
// (or $FLINK_HARNESS_CACHE/<hash>/…), Maven's downloads under <repo>/.cache/m2. A file
// lock and an atomic rename make concurrent callers, also in other processes, safe: one
// builds while the others wait for it. Maven's output appears only in the error.
func Jar(ctx context.Context) (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	project := filepath.Join(root, "e2e", "flink-job")
	cache := cacheDir(root)
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", fmt.Errorf("create jar cache: %w", err)
	}

	jarMu.Lock()
	defer jarMu.Unlock()
	for range 3 {
		key, err := sourceKey(project)
		if err != nil {
			return "", err
		}
		jar := filepath.Join(cache, key, jarName)
		if fileExists(jar) {
			return jar, nil
		}
		err = withFileLock(ctx, filepath.Join(cache, "build.lock"), func() error {
			if fileExists(jar) { // built by another process while we waited
				return nil
			}
			return buildJar(ctx, root, project, cache, jar)
		})
		if err != nil {
			return "", err
		}
		// An edit during the build may have gone into the jar: keep it only if the
		// sources still hash to the key it is stored under.
		if after, err := sourceKey(project); err == nil && after == key {
			return jar, nil
		}
		_ = os.RemoveAll(filepath.Dir(jar))
	}
	return "", errors.New("the sources of e2e/flink-job kept changing while the jar was built")
}

// cacheDir is $FLINK_HARNESS_CACHE, or <repo>/.cache/flink.
func cacheDir(root string) string {
	if dir := os.Getenv("FLINK_HARNESS_CACHE"); dir != "" {
		return dir
	}
	return filepath.Join(root, ".cache", "flink")
}

// sourceKey hashes the build recipe, pom.xml and every file under src/.
func sourceKey(project string) (string, error) {
	files := []string{"pom.xml"}
	err := filepath.WalkDir(filepath.Join(project, "src"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(project, path)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("list the Flink job's sources: %w", err)
	}
	sort.Strings(files)
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00", buildRecipe)
	for _, rel := range files {
		content, err := os.ReadFile(filepath.Join(project, filepath.FromSlash(rel)))
		if err != nil {
			return "", fmt.Errorf("hash the Flink job's sources: %w", err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", rel, len(content))
		h.Write(content)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// buildJar runs Maven with its build folder and local repository in the cache, then
// renames the jar into place (same file system, so the rename is atomic).
func buildJar(ctx context.Context, root, project, cache, jar string) error {
	mvn, err := exec.LookPath("mvn")
	if err != nil {
		return errors.New("mvn not found on PATH: the Flink end-to-end tests build their job with Maven 3.8+, e.g. apt-get install maven")
	}
	buildDir, err := os.MkdirTemp(cache, "build-")
	if err != nil {
		return fmt.Errorf("create Maven build folder: %w", err)
	}
	defer os.RemoveAll(buildDir)

	cmd := exec.CommandContext(ctx, mvn, "-B", "-q", "-Dstyle.color=never",
		"-f", filepath.Join(project, "pom.xml"),
		"-Dmaven.repo.local="+filepath.Join(root, ".cache", "m2"),
		"-Dflink-job.build.dir="+buildDir,
		"package", "-DskipTests")
	cmd.Dir = root
	var output bytes.Buffer
	cmd.Stdout = &output
	cmd.Stderr = &output
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build the Flink job (%s): %w\n%s", strings.Join(cmd.Args, " "), err, lastLines(output.String(), 60))
	}
	if err := os.MkdirAll(filepath.Dir(jar), 0o755); err != nil {
		return fmt.Errorf("create jar cache entry: %w", err)
	}
	if err := os.Rename(filepath.Join(buildDir, jarName), jar); err != nil {
		return fmt.Errorf("move the built jar into the cache: %w", err)
	}
	return nil
}

func fileExists(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular()
}

// lastLines returns at most n trailing lines of text.
func lastLines(text string, n int) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
