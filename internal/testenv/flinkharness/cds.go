package flinkharness

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// A class-data-sharing (AppCDS) archive of the classes a session cluster loads cuts the
// JVM's start to the ready line roughly in half (measured on 2 cores: ≈ 3.2 s → 1.8 s
// idle, ≈ 6.3 s → 3.7 s under load, both with C1 only). Java 17
// cannot make one automatically, so the harness runs a training cluster once per jar and
// JDK and keeps the archive beside the jar. An archive that does not match (another JDK
// build, a changed jar) is ignored by the JVM with a warning, never fatal.

// classDataTrainingTimeout bounds the one-off training run.
const classDataTrainingTimeout = 3 * time.Minute

// classDataFailures remembers, per archive path, a training run that failed in this
// process, so that every later start does not pay for it again.
var classDataFailures sync.Map

// classDataArchive returns the archive for jar and java, training it on first use.
func classDataArchive(ctx context.Context, java, jar string, logf func(string, ...any)) (string, error) {
	key, err := javaKey(java)
	if err != nil {
		return "", err
	}
	archive := filepath.Join(filepath.Dir(jar), "classes-"+key+".jsa")
	if fileExists(archive) {
		return archive, nil
	}
	if failure, ok := classDataFailures.Load(archive); ok {
		return "", failure.(error)
	}
	err = withFileLock(ctx, filepath.Join(filepath.Dir(jar), "classes.lock"), func() error {
		if fileExists(archive) {
			return nil
		}
		logf("flinkharness: training a class-data archive for %s (once per jar and JDK)", filepath.Base(filepath.Dir(jar)))
		return trainClassDataArchive(ctx, java, jar, archive)
	})
	if err != nil {
		if ctx.Err() == nil {
			classDataFailures.Store(archive, err)
		}
		return "", err
	}
	return archive, nil
}

// trainClassDataArchive starts a cluster with a job and a SQL Gateway, so that most
// classes a test needs get loaded, stops it, and keeps the archive the JVM dumps on exit.
func trainClassDataArchive(ctx context.Context, java, jar, archive string) error {
	workDir, err := os.MkdirTemp(filepath.Dir(jar), "training-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(workDir)
	partial := filepath.Join(workDir, "classes.jsa")
	jvm := append(jvmArgs(filepath.Join(workDir, "tmp"), nil), "-XX:ArchiveClassesAtExit="+partial)
	args, err := Options{JobName: "class-data-training", SQLGateway: true}.clusterArgs(workDir)
	if err != nil {
		return err
	}
	cluster, err := launch(ctx, java, jvm, jar, args, workDir, classDataTrainingTimeout)
	if err != nil {
		return fmt.Errorf("training run: %w", err)
	}
	if err := cluster.Stop(); err != nil {
		return fmt.Errorf("training run: %w", err)
	}
	if info, err := os.Stat(partial); err != nil || info.Size() == 0 {
		return fmt.Errorf("the training run wrote no class-data archive; its last output:\n%s", cluster.OutputTail(20))
	}
	return os.Rename(partial, archive)
}

// javaKey identifies the JDK behind java (its resolved binary, size and time), which
// an archive is only valid for.
func javaKey(java string) (string, error) {
	resolved, err := filepath.EvalSymlinks(java)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", java, err)
	}
	info, err := os.Stat(resolved)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%d\x00%d", resolved, info.Size(), info.ModTime().UnixNano())))
	return hex.EncodeToString(sum[:])[:12], nil
}
