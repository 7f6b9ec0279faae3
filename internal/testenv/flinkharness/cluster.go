package flinkharness

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// stopGrace is how long Stop waits after SIGTERM before it kills the JVM; closing the
// MiniCluster takes 2–3 s.
const stopGrace = 10 * time.Second

// Cluster is a running Flink session cluster JVM.
type Cluster struct {
	// RESTURL is the JobManager REST endpoint, http://127.0.0.1:PORT.
	RESTURL string
	// JobID is the stateful job's id (32 lowercase hex), empty without Options.JobName.
	JobID string
	// SQLGatewayURL is the SQL Gateway REST endpoint, empty without Options.SQLGateway.
	SQLGatewayURL string
	// FlinkVersion is the version the JVM reports, e.g. "2.3.0".
	FlinkVersion string
	// JarPath is the fat jar the cluster runs; it also holds StatefulJobEntryClass, for
	// uploading through /jars/upload (see UploadJar).
	JarPath string
	// WorkDir holds the JVM's temporary files and uploads.
	WorkDir string

	cmd         *exec.Cmd
	stdin       io.Closer // closing it makes the JVM exit (--exit-on-stdin-eof)
	output      *tailBuffer
	exited      chan struct{}
	exitErr     error // set before exited is closed
	ownsWorkDir bool

	stopOnce sync.Once
	stopErr  error
}

// readyLine is what SessionCluster prints on stdout once it can take savepoints.
type readyLine struct {
	RESTURL       string `json:"restURL"`
	JobID         string `json:"jobID"`
	SQLGatewayURL string `json:"sqlGatewayURL"`
	FlinkVersion  string `json:"flinkVersion"`
}

// Start starts a session cluster for a test and stops it when the test ends; it fails the
// test if the cluster does not come up, showing the JVM's last output. The work folder
// defaults to t.TempDir().
func Start(ctx context.Context, t testing.TB, opts Options) *Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a real Flink; run it with `make test`")
	}
	if opts.WorkDir == "" {
		opts.WorkDir = t.TempDir()
	}
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	cluster, err := StartProcess(ctx, opts)
	if err != nil {
		t.Fatalf("start a Flink session cluster: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last output of the Flink JVM:\n%s", cluster.OutputTail(60))
		}
		if err := cluster.Stop(); err != nil {
			t.Logf("stop the Flink session cluster: %v", err)
		}
	})
	return cluster
}

// StartProcess starts a session cluster JVM and waits until it is ready: its REST API
// answers and, with a JobName, all the job's tasks run. ctx bounds the start only; the
// JVM runs until Stop or Kill, or until this process exits.
func StartProcess(ctx context.Context, opts Options) (*Cluster, error) {
	jar, err := Jar(ctx)
	if err != nil {
		return nil, err
	}
	java, err := findJava()
	if err != nil {
		return nil, err
	}
	workDir, ownsWorkDir := opts.WorkDir, false
	if workDir == "" {
		if workDir, err = os.MkdirTemp("", "flink-session-"); err != nil {
			return nil, fmt.Errorf("create work folder: %w", err)
		}
		ownsWorkDir = true
	}
	if workDir, err = filepath.Abs(workDir); err != nil {
		return nil, err
	}
	args, err := opts.clusterArgs(workDir)
	if err != nil {
		return nil, err
	}

	jvm := jvmArgs(filepath.Join(workDir, "tmp"), opts.JVMArgs)
	if !opts.DisableClassDataSharing {
		archive, err := classDataArchive(ctx, java, jar, opts.logf)
		if err != nil {
			opts.logf("flinkharness: starting without a class-data archive: %v", err)
		} else {
			jvm = append(jvm, "-XX:SharedArchiveFile="+archive)
		}
	}

	cluster, err := launch(ctx, java, jvm, jar, args, workDir, opts.readyTimeout()+jobSubmitGrace)
	if err != nil {
		if ownsWorkDir {
			_ = os.RemoveAll(workDir)
		}
		return nil, err
	}
	cluster.ownsWorkDir = ownsWorkDir
	return cluster, nil
}

// launch runs java … -jar jar args… in workDir and waits for the ready line.
func launch(ctx context.Context, java string, jvm []string, jar string, args []string, workDir string, timeout time.Duration) (*Cluster, error) {
	if err := os.MkdirAll(filepath.Join(workDir, "tmp"), 0o755); err != nil {
		return nil, fmt.Errorf("create work folder: %w", err)
	}
	// Our own pipes: exec's StdoutPipe may not be read once Wait has been called, and
	// Wait runs concurrently here to notice a JVM that dies while starting.
	stdoutRead, stdoutWrite, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	stdinRead, stdinWrite, err := os.Pipe()
	if err != nil {
		stdoutRead.Close()
		stdoutWrite.Close()
		return nil, err
	}
	output := newTailBuffer(256 << 10)
	cmd := exec.Command(java, append(append(append([]string{}, jvm...), "-jar", jar), args...)...)
	cmd.Dir = workDir
	cmd.Stdin = stdinRead
	cmd.Stdout = stdoutWrite
	cmd.Stderr = output
	err = cmd.Start()
	stdinRead.Close()
	stdoutWrite.Close()
	if err != nil {
		stdoutRead.Close()
		stdinWrite.Close()
		return nil, fmt.Errorf("start %s: %w", java, err)
	}

	c := &Cluster{
		JarPath: jar,
		WorkDir: workDir,
		cmd:     cmd,
		stdin:   stdinWrite,
		output:  output,
		exited:  make(chan struct{}),
	}
	go func() {
		c.exitErr = cmd.Wait()
		close(c.exited)
	}()
	ready := make(chan readyLine, 1)
	go readStdout(stdoutRead, output, ready)

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case line := <-ready:
		c.RESTURL, c.JobID, c.SQLGatewayURL, c.FlinkVersion = line.RESTURL, line.JobID, line.SQLGatewayURL, line.FlinkVersion
		return c, nil
	case <-c.exited:
		c.closeStdin()
		return nil, fmt.Errorf("the Flink JVM exited before it was ready (%v); its last output:\n%s", c.exitErr, c.OutputTail(40))
	case <-timer.C:
		c.Kill()
		return nil, fmt.Errorf("the Flink JVM was not ready after %s; its last output:\n%s", timeout, c.OutputTail(40))
	case <-ctx.Done():
		c.Kill()
		return nil, fmt.Errorf("start the Flink JVM: %w", ctx.Err())
	}
}

// readStdout hands the first ready line to ready and keeps every other line in output
// (the JVM may print there despite our efforts), draining stdout until the JVM exits.
func readStdout(stdout io.ReadCloser, output io.Writer, ready chan<- readyLine) {
	defer stdout.Close()
	scanner := bufio.NewScanner(stdout)
	scanner.Buffer(make([]byte, 64<<10), 1<<20)
	sent := false
	for scanner.Scan() {
		text := scanner.Text()
		if !sent && strings.HasPrefix(text, "{") {
			var line readyLine
			if json.Unmarshal([]byte(text), &line) == nil && line.RESTURL != "" {
				ready <- line
				sent = true
				continue
			}
		}
		fmt.Fprintf(output, "stdout: %s\n", text)
	}
}

// Stop shuts the JVM down: SIGTERM, which closes the MiniCluster cleanly, then SIGKILL
// if it is still running after a grace period. It is idempotent and also cleans up after
// Kill. It reports a JVM that had to be killed or had exited on its own with a failure.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		select {
		case <-c.exited:
			if c.exitErr != nil && !isSignalExit(c.exitErr) {
				c.stopErr = fmt.Errorf("the Flink JVM had already exited: %w", c.exitErr)
			}
		default:
			_ = c.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-c.exited:
			case <-time.After(stopGrace):
				_ = c.cmd.Process.Kill()
				<-c.exited
				c.stopErr = fmt.Errorf("the Flink JVM ignored SIGTERM for %s and was killed", stopGrace)
			}
		}
		c.closeStdin()
		if c.ownsWorkDir {
			_ = os.RemoveAll(c.WorkDir)
		}
	})
	return c.stopErr
}

// Kill ends the JVM at once with SIGKILL, as a crashing JobManager would, and waits
// until it is gone. Stop may still be called (and is, by Start's cleanup).
func (c *Cluster) Kill() {
	_ = c.cmd.Process.Kill()
	<-c.exited
	c.closeStdin()
}

// Exited is closed once the JVM has exited, for whatever reason.
func (c *Cluster) Exited() <-chan struct{} {
	return c.exited
}

// PID is the JVM's process id.
func (c *Cluster) PID() int {
	return c.cmd.Process.Pid
}

// OutputTail returns the last n lines the JVM wrote to stderr (and any stray stdout).
func (c *Cluster) OutputTail(n int) string {
	return lastLines(c.output.String(), n)
}

func (c *Cluster) closeStdin() {
	_ = c.stdin.Close()
}

// isSignalExit reports whether err is the exit of a JVM ended by SIGTERM or SIGKILL
// (the JVM turns SIGTERM into exit status 143).
func isSignalExit(err error) bool {
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return false
	}
	if exit.ExitCode() == 128+int(syscall.SIGTERM) {
		return true
	}
	status, ok := exit.Sys().(syscall.WaitStatus)
	return ok && status.Signaled()
}
