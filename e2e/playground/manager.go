package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// managerStopGrace is how long stop waits after SIGTERM: the manager's own
// graceful shutdown (controller-runtime's default) takes at most 30 s.
const managerStopGrace = 35 * time.Second

// managerProcess is the savepoint-manager binary, run as a user runs it.
type managerProcess struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // how it exited, once exited is closed
}

// startManager runs binary with args, its standard output and error
// copied to out line by line behind prefix. It returns once the process
// runs.
func startManager(binary string, args []string, out io.Writer, prefix string) (*managerProcess, error) {
	cmd := exec.Command(binary, args...)
	// Its own process group: Ctrl-C in the terminal reaches only the
	// playground, which stops the manager once, gracefully. (Two signals
	// make a controller-runtime manager exit at once.)
	cmd.SysProcAttr = ownProcessGroup()
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}
	m := &managerProcess{cmd: cmd, exited: make(chan struct{})}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		lines := bufio.NewScanner(pipe)
		lines.Buffer(make([]byte, 64*1024), 1024*1024)
		for lines.Scan() {
			fmt.Fprintln(out, prefix+strings.TrimRight(lines.Text(), "\r"))
		}
	}()
	go func() {
		<-copied // Wait closes the pipe: read it to the end first
		m.err = cmd.Wait()
		close(m.exited)
	}()
	return m, nil
}

// Exited is closed once the manager has exited, for whatever reason.
func (m *managerProcess) Exited() <-chan struct{} { return m.exited }

// Err is how the manager exited; valid once Exited is closed.
func (m *managerProcess) Err() error { return m.err }

// stop sends SIGTERM, as the kubelet does, and waits until the manager has
// exited; it kills the manager if it has not within managerStopGrace.
func (m *managerProcess) stop() error {
	select {
	case <-m.exited:
		return m.err
	default:
	}
	if err := m.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop the manager: %w", err)
	}
	select {
	case <-m.exited:
		return m.err
	case <-time.After(managerStopGrace):
	}
	_ = m.cmd.Process.Kill()
	<-m.exited
	return fmt.Errorf("the manager did not stop within %s of SIGTERM; killed", managerStopGrace)
}
