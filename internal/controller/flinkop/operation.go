package flinkop

import (
	"context"
	"strconv"
	"time"

	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
)

// JobManager is the part of *flink.Client the protocol uses.
type JobManager interface {
	TriggerSavepoint(ctx context.Context, jobID string, req flink.SavepointRequest) (string, error)
	StopWithSavepoint(ctx context.Context, jobID string, req flink.StopRequest) (string, error)
	SavepointStatus(ctx context.Context, jobID, triggerID string) (*flink.Operation, error)
	Checkpoints(ctx context.Context, jobID string) (*flink.CheckpointStats, error)
	JobState(ctx context.Context, jobID string) (string, error)
	Job(ctx context.Context, jobID string) (*flink.JobDetails, error)
	DisposeSavepoint(ctx context.Context, path string) (string, error)
	DisposalStatus(ctx context.Context, triggerID string) (*flink.Operation, error)
}

var _ JobManager = (*flink.Client)(nil)

// Request is what an operation asks of the job.
type Request int

const (
	// TakeSavepoint is POST /jobs/{id}/savepoints: the job runs on.
	TakeSavepoint Request = iota + 1
	// StopWithSavepoint is POST /jobs/{id}/stop: the job ends FINISHED.
	StopWithSavepoint
)

// noun is how messages name a trigger of this request.
func (r Request) noun() string {
	if r == StopWithSavepoint {
		return "stop"
	}
	return "trigger"
}

// ResendPolicy says what Poll does with a trigger that Flink has forgotten,
// whose savepoint the checkpoint history does not show once the grace is
// over.
type ResendPolicy int

const (
	// ResendAlways sends the same trigger again; if the job is gone, Flink's
	// answer to it says so (JobGone).
	ResendAlways ResendPolicy = iota
	// ResendWhileRunning sends it again only while the job has not ended
	// (asked live); once it has, the outcome is JobGone, saying that its
	// history has no savepoint of the trigger. A stop uses it: the job it
	// stopped has ended, and that is worth saying as such.
	ResendWhileRunning
	// ResendNever never sends it again: the outcome is NotTaken. For an
	// operation whose owner is being deleted: it is followed, not repeated.
	ResendNever
)

// Operation is a savepoint or stop trigger as its caller recorded it,
// before it was first sent.
type Operation struct {
	// Request is what the trigger asks: a savepoint, or a stop with one.
	Request Request
	// JobID is the job the trigger is for.
	JobID string
	// TriggerID is the recorded trigger ID (SavepointTriggerID, StopTriggerID).
	TriggerID string
	// Recorded is when the trigger was recorded, before it was first sent: the
	// history lookup takes no savepoint triggered before it (but for the
	// clock skew), and the grace and the poll interval count from it.
	Recorded time.Time
	// Dir is the target directory; empty uses the cluster's
	// execution.checkpointing.savepoint-dir, and the history lookup then
	// takes a savepoint in any directory.
	Dir string
	// Format is CANONICAL (default) or NATIVE.
	Format flink.Format
	// Resend is what Poll does with a forgotten trigger; see ResendPolicy.
	Resend ResendPolicy
}

// SavepointTriggerID is the trigger ID of a Savepoint's attempt (1, 2, …):
// the same attempt of the same Savepoint always names the same savepoint, so
// a crash or a retry asks Flink about it instead of taking another.
func SavepointTriggerID(savepointUID string, attempt int32) string {
	return flink.TriggerIDFor(savepointUID, strconv.Itoa(int(attempt)))
}

// StopTriggerID is the trigger ID of a parent's attempt (1, 2, …) to stop
// job jobID with a savepoint.
func StopTriggerID(parentUID, jobID string, attempt int32) string {
	return flink.TriggerIDFor(parentUID, "stop", jobID, strconv.Itoa(int(attempt)))
}

// Held returns the savepoint paths that records other than this operation's
// owner already hold: the history lookup never takes one of them for this
// trigger. It reads past any cache: a path taken a moment ago must count.
type Held func(ctx context.Context) ([]string, error)
