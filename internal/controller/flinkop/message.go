package flinkop

import (
	"errors"
	"strings"

	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
)

// Message is an error as one line for a condition, a status or an event:
// Flink's own message (the root cause of its stack trace) when the error
// carries one, else the error's text; its first line, trimmed.
func Message(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	var fe *flink.Error
	if errors.As(err, &fe) && fe.Message != "" {
		msg = fe.Message
	}
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return strings.TrimSpace(msg)
}
