package flinkop

import (
	"context"
	"errors"

	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
)

// Dispose asks Flink to delete the savepoint data at path. Deleting data is
// final: call it only for an explicit delete of a COMPLETED savepoint.
// Flink chooses the disposal's trigger ID (it ignores one of ours), so the
// caller records the returned ID and polls it with PollDisposal. Pending:
// it went out. Failed or Unreachable: ask again later.
func (p Protocol) Dispose(ctx context.Context, jm JobManager, path string) (string, Outcome) {
	p = p.WithDefaults()
	id, err := jm.DisposeSavepoint(ctx, path)
	switch {
	case err == nil:
		return id, Outcome{Kind: Pending, Wait: p.PollMin}
	case errors.Is(err, flink.ErrUnreachable):
		return "", p.unreachable(callDispose, err)
	}
	return "", Outcome{Kind: Failed, Err: err, Call: callDispose}
}

// PollDisposal asks Flink about the disposal triggered as id. Completed:
// the data is gone (a path that holds no savepoint any more counts: the
// disposal, or an earlier one, deleted it). Failed: the disposal failed, or
// Flink forgot it; disposing again is safe. Unreachable: poll id again.
func (p Protocol) PollDisposal(ctx context.Context, jm JobManager, id string) Outcome {
	p = p.WithDefaults()
	status, err := jm.DisposalStatus(ctx, id)
	switch {
	case errors.Is(err, flink.ErrTriggerNotFound):
		// The JobManager forgot it (restart or expiry): ask again.
		return Outcome{Kind: Failed, Err: err}
	case err != nil:
		return p.unreachable(callDisposalStatus, err)
	case status.State != flink.OperationCompleted:
		return Outcome{Kind: Pending, Wait: p.PollMin}
	case status.Failure != nil && !errors.Is(status.Failure, flink.ErrSavepointNotFound):
		return Outcome{Kind: Failed, Err: status.Failure}
	}
	return Outcome{Kind: Completed}
}
