package flink

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Kinds of failure a caller branches on. Test with errors.Is.
var (
	// ErrJobNotFound: the JobManager does not know the job (finished long
	// ago, never existed, or the cluster restarted).
	ErrJobNotFound = errors.New("job not found")
	// ErrJobNotRunning: the job exists but is not (fully) running, so no
	// savepoint can be taken now.
	ErrJobNotRunning = errors.New("job not running")
	// ErrNoSavepointDirectory: the request names no target directory and the
	// cluster has no execution.checkpointing.savepoint-dir.
	ErrNoSavepointDirectory = errors.New("no savepoint directory")
	// ErrTriggerNotFound: the JobManager does not know the trigger ID; it keeps
	// results for rest.async.store-duration (5 minutes by default) and forgets
	// them on restart.
	ErrTriggerNotFound = errors.New("trigger unknown or expired")
	// ErrSavepointNotFound: there is no savepoint at the path (e.g. disposed already).
	ErrSavepointNotFound = errors.New("savepoint not found")
	// ErrFormatNotSupported: the job's state backend cannot write the asked format.
	ErrFormatNotSupported = errors.New("savepoint format not supported by the state backend")
	// ErrUnreachable: the JobManager did not answer (connection refused, reset,
	// timed out, name not resolved).
	ErrUnreachable = errors.New("JobManager unreachable")
	// ErrBadRequest: Flink refused the request as malformed (400) for a reason
	// none of the other kinds describes.
	ErrBadRequest = errors.New("request refused")
	// ErrResponseTooLarge: the answer is larger than Options.MaxResponseBytes;
	// it was not read (nor the request repeated).
	ErrResponseTooLarge = errors.New("answer too large")
)

// maxMessageBytes bounds the message an Error repeats: callers write it into
// status conditions and events, and a stack trace's line may be any length.
const maxMessageBytes = 1024

// Error is a failure reported by Flink or on the way to it.
type Error struct {
	// Op is what was asked, e.g. "trigger savepoint of job 1a2b…".
	Op string
	// Kind is one of the Err* values, or nil when no kind applies.
	Kind error
	// StatusCode is the HTTP status, 0 when no answer came.
	StatusCode int
	// Message is the most telling line of Flink's error answer
	// ({"errors": […]}): the root "Caused by:" of a stack trace, or the plain
	// error text. Empty when the answer was not Flink's: another body is
	// never repeated.
	Message string
	// Err is the transport error, when there was no answer.
	Err error
}

func (e *Error) Error() string {
	switch {
	case e.Err != nil:
		return e.Op + ": " + clip(e.Err.Error())
	case e.Message != "":
		return e.Op + ": " + clip(e.Message)
	case e.StatusCode != 0:
		return fmt.Sprintf("HTTP %d from %s", e.StatusCode, e.Op)
	case e.Kind != nil:
		return e.Op + ": " + e.Kind.Error()
	}
	return e.Op + ": failed"
}

// clip cuts s to maxMessageBytes, on a character boundary.
func clip(s string) string {
	if len(s) <= maxMessageBytes {
		return s
	}
	cut := maxMessageBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Unwrap lets errors.Is match the kind and the transport error.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// Permanent reports whether retrying the same request cannot succeed until
// something outside changes (the job, the cluster's configuration, the path).
func Permanent(err error) bool {
	for _, kind := range []error{ErrJobNotFound, ErrNoSavepointDirectory, ErrFormatNotSupported, ErrSavepointNotFound, ErrBadRequest} {
		if errors.Is(err, kind) {
			return true
		}
	}
	return false
}

// classification maps telling fragments of Flink's messages to kinds. Flink's
// exception classes are often wrappers (CompletionException, RestHandlerException),
// so the text decides; the first match wins.
var classification = []struct {
	fragment string
	kind     error
}{
	{"FlinkJobNotFoundException", ErrJobNotFound},
	{"Could not find Flink job", ErrJobNotFound},
	{"FlinkJobTerminatedWithoutCancellationException", ErrJobNotRunning},
	{"Not all required tasks are currently running", ErrJobNotRunning},
	{"execution.checkpointing.savepoint-dir] is not set", ErrNoSavepointDirectory},
	{"state.savepoints.dir] is not set", ErrNoSavepointDirectory},
	{"UnknownOperationKeyException", ErrTriggerNotFound},
	{"There is no savepoint operation with triggerId", ErrTriggerNotFound},
	{"Operation not found under key", ErrTriggerNotFound},
	{"Cannot find checkpoint or savepoint", ErrSavepointNotFound},
	// Not yet proven against a real ForSt backend (the test Flink has none):
	// the webhook refuses CANONICAL for such jobs before any trigger.
	{"does not support canonical savepoint", ErrFormatNotSupported},
	{"only supports native savepoint", ErrFormatNotSupported},
	{"Canonical savepoint is not supported", ErrFormatNotSupported},
	{"not support the CANONICAL", ErrFormatNotSupported},
}

// classify returns the kind that text describes, or nil.
func classify(text string) error {
	for _, c := range classification {
		if strings.Contains(text, c.fragment) {
			return c.kind
		}
	}
	return nil
}

// rootCause returns the most telling line of a Java stack trace: the last
// "Caused by:" line without its prefix, else the first line of the trace
// (after the "<Exception on server side:" heading of a REST error), clipped
// to maxMessageBytes.
func rootCause(trace string) string {
	cause := ""
	for _, line := range strings.Split(trace, "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "Caused by: "); ok {
			cause = rest
		} else if cause == "" && line != "" && line != "<Exception on server side:" {
			cause = line
		}
	}
	return clip(cause)
}
