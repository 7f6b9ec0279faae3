package flinkop

import (
	"fmt"
	"time"
)

// Kind says what became of an operation after one step of the protocol.
type Kind int

const (
	// Pending: Flink is on it (or was just sent it); poll again after Wait.
	Pending Kind = iota + 1
	// Completed: the savepoint is at Path. For a disposal: the data is gone.
	Completed
	// RetryAfter: Flink forgot the trigger and the checkpoint history does
	// not show its savepoint yet; the history is cached, so look again after
	// Wait before anything is sent again.
	RetryAfter
	// Resent: Flink forgot the trigger, the history has no savepoint of it
	// and the grace is over: the same trigger was sent again. Poll after Wait.
	Resent
	// Failed: Flink failed or refused the operation (Err). Nothing of it is
	// left to follow; whether to try again is the caller's policy. For a
	// disposal: send it again.
	Failed
	// JobGone: the job is not there (any more), so no savepoint of it can be
	// taken or found (Err says how that showed).
	JobGone
	// NotTaken: Flink forgot the trigger, the history has no savepoint of it,
	// the grace is over, and the operation may not be sent again
	// (ResendNever): Flink took no savepoint that can be found.
	NotTaken
	// Unreachable: no usable answer (Err): no answer at all, or an error
	// about the request rather than the operation. Nothing is known; ask
	// again after Wait, with the same trigger. It never counts as a failure:
	// the operation may have happened.
	Unreachable
)

// String names the kind, for logs and test failures.
func (k Kind) String() string {
	switch k {
	case Pending:
		return "Pending"
	case Completed:
		return "Completed"
	case RetryAfter:
		return "RetryAfter"
	case Resent:
		return "Resent"
	case Failed:
		return "Failed"
	case JobGone:
		return "JobGone"
	case NotTaken:
		return "NotTaken"
	case Unreachable:
		return "Unreachable"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Outcome is what one step of the protocol found; the caller maps it onto
// its status and events.
type Outcome struct {
	Kind Kind
	// Path is the savepoint's location when Completed (not for a disposal).
	Path string
	// Wait is how long to wait before the next step: for Pending, RetryAfter,
	// Resent and Unreachable. Failed leaves the wait to the caller's backoff.
	Wait time.Duration
	// Err is why, for Failed, JobGone and Unreachable.
	Err error
	// Recovered: Completed from the checkpoint history, Flink having
	// forgotten the trigger.
	Recovered bool
	// Resent: this outcome is that of sending a forgotten trigger again
	// (Kind Resent when it went out, else Unreachable, Failed or JobGone).
	Resent bool
	// Call names the JobManager REST call that failed, for the caller's
	// metrics: "trigger", "stop", "savepoint-status", "checkpoints",
	// "job-status", "job", "dispose" or "disposal-status"; empty when none
	// did.
	Call string
}

// CallTrigger is Outcome.Call of a savepoint trigger's POST: when it got
// no answer and provably never left (see endpoint.NotSent), Flink never saw
// the trigger.
const CallTrigger = callTrigger

// REST calls, as Outcome.Call names them.
const (
	callTrigger         = "trigger"
	callStop            = "stop"
	callSavepointStatus = "savepoint-status"
	callCheckpoints     = "checkpoints"
	callJobState        = "job-status"
	callJob             = "job"
	callDispose         = "dispose"
	callDisposalStatus  = "disposal-status"
)
