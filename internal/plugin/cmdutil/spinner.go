package cmdutil

import (
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// spinInterval is how often the spinner turns.
const spinInterval = 100 * time.Millisecond

// spinner prints a wait's progress lines to a writer and, on a terminal,
// animates the wait between them: a turning bar, the elapsed time and the
// state last shown. Logs and pipes get only the lines. A watch tells of
// changes only, so the spinner turns by itself, in its own goroutine.
type spinner struct {
	mu      sync.Mutex
	w       io.Writer // nil: print nothing
	animate bool
	start   time.Time
	state   string // beside the time; "" before the first read
	frame   int
	shown   bool

	done, stopped chan struct{}
}

// startSpinner starts a spinner on w (nil: silent), counting from start.
// Stop it when the wait ends.
func startSpinner(w io.Writer, start time.Time) *spinner {
	s := &spinner{w: w, start: start}
	if f, ok := w.(*os.File); !ok || !term.IsTerminal(int(f.Fd())) {
		return s
	}
	s.animate, s.done, s.stopped = true, make(chan struct{}), make(chan struct{})
	go func() {
		defer close(s.stopped)
		ticker := time.NewTicker(spinInterval)
		defer ticker.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-ticker.C:
				s.tick()
			}
		}
	}()
	return s
}

// printf prints a progress line in place of the spinner.
func (s *spinner) printf(format string, args ...any) {
	if s.w == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clear()
	Fprintf(s.w, format, args...)
}

// show sets the state the spinner shows from its next turn.
func (s *spinner) show(state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state = state
}

func (s *spinner) tick() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == "" {
		return
	}
	frames := `|/-\`
	Fprintf(s.w, "\r%c %6.1fs  %s ", frames[s.frame%len(frames)], time.Since(s.start).Seconds(), s.state)
	s.frame++
	s.shown = true
}

// clear erases the spinner's line; the caller holds mu.
func (s *spinner) clear() {
	if !s.shown {
		return
	}
	Fprintf(s.w, "\r\033[K")
	s.shown = false
}

// stop ends the animation and erases it.
func (s *spinner) stop() {
	if !s.animate {
		return
	}
	close(s.done)
	<-s.stopped
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clear()
}
