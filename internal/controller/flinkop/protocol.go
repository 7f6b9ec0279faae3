package flinkop

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
)

// Protocol holds the timings of the savepoint-operation protocol. Zero
// values take the defaults.
type Protocol struct {
	// Backoff is the wait after a failure. Its first step is also the wait
	// after no usable answer (Unreachable).
	Backoff Backoff
	// PollMin and PollMax bound the interval between status polls, which
	// grows with the trigger's age; default 50ms and 2s.
	PollMin, PollMax time.Duration
	// ForgottenTriggerGrace is how long after a trigger was recorded a
	// forgotten trigger is answered by looking at the checkpoint history
	// again (it is cached for web.refresh-interval) rather than by sending
	// it again; default 10s.
	ForgottenTriggerGrace time.Duration
	// Now returns the time; default time.Now.
	Now func() time.Time
}

// Backoff is a capped exponential wait.
type Backoff struct {
	// Base is the wait after the first failure, doubled per failure; default 1s.
	Base time.Duration
	// Cap caps the wait; default 5 minutes.
	Cap time.Duration
}

// Wait is the wait after the n-th failure (n ≥ 1).
func (b Backoff) Wait(n int32) time.Duration {
	b = b.orDefaults()
	wait := b.Base
	for i := int32(1); i < n && wait < b.Cap; i++ {
		wait *= 2
	}
	return min(wait, b.Cap)
}

func (b Backoff) orDefaults() Backoff {
	if b.Base == 0 {
		b.Base = time.Second
	}
	if b.Cap == 0 {
		b.Cap = 5 * time.Minute
	}
	return b
}

// WithDefaults is p with its zero timings set to the defaults: a Backoff of
// 1s doubling to 5 minutes, polls every 50ms to 2s, a forgotten-trigger grace
// of 10s, and time.Now.
func (p Protocol) WithDefaults() Protocol {
	p.Backoff = p.Backoff.orDefaults()
	if p.PollMin == 0 {
		p.PollMin = 50 * time.Millisecond
	}
	if p.PollMax == 0 {
		p.PollMax = 2 * time.Second
	}
	if p.ForgottenTriggerGrace == 0 {
		p.ForgottenTriggerGrace = 10 * time.Second
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	return p
}

// UnreachableWait is how long to wait after a JobManager gave no usable
// answer before asking again: the backoff's first step, the same for every
// operation and every caller. Nothing was attempted, so nothing is counted
// and the wait does not grow.
func (p Protocol) UnreachableWait() time.Duration {
	return p.WithDefaults().Backoff.Wait(1)
}

// PollInterval is the wait before the next status poll of a trigger
// recorded at recorded: it grows with the trigger's age (small savepoints
// take tens of milliseconds, big ones minutes), between PollMin and PollMax.
func (p Protocol) PollInterval(recorded time.Time) time.Duration {
	p = p.WithDefaults()
	if recorded.IsZero() {
		return p.PollMin
	}
	return max(p.PollMin, min(p.Now().Sub(recorded)/2, p.PollMax))
}

// Send posts the recorded trigger. Pending: it went out, poll it.
// Unreachable: no answer, it may have arrived; Poll finds out (never send
// again instead: Flink would take a second savepoint once it forgot the
// first). Failed or JobGone: Flink refused it.
func (p Protocol) Send(ctx context.Context, jm JobManager, op Operation) Outcome {
	p = p.WithDefaults()
	var err error
	call := callTrigger
	switch op.Request {
	case StopWithSavepoint:
		call = callStop
		_, err = jm.StopWithSavepoint(ctx, op.JobID, flink.StopRequest{TriggerID: op.TriggerID, TargetDirectory: op.Dir, Format: op.Format})
	default:
		_, err = jm.TriggerSavepoint(ctx, op.JobID, flink.SavepointRequest{TriggerID: op.TriggerID, TargetDirectory: op.Dir, Format: op.Format})
	}
	switch {
	case err == nil:
		return Outcome{Kind: Pending, Wait: p.PollMin}
	case errors.Is(err, flink.ErrUnreachable):
		return p.unreachable(call, err)
	}
	return refused(call, err)
}

// Poll asks Flink about the recorded trigger and says what became of it. A
// trigger Flink no longer knows is looked for in the job's checkpoint
// history (see pickFromHistory), with held naming the paths that are not
// this trigger's; only once the grace is over is it sent again, as
// op.Resend allows. A trigger still IN_PROGRESS long after its job ended
// is looked for there too (see inProgress). The error is not Flink's: held
// failed.
func (p Protocol) Poll(ctx context.Context, jm JobManager, op Operation, held Held) (Outcome, error) {
	p = p.WithDefaults()
	status, err := jm.SavepointStatus(ctx, op.JobID, op.TriggerID)
	switch {
	case errors.Is(err, flink.ErrTriggerNotFound), errors.Is(err, flink.ErrJobNotFound):
		// Its result expired, or the JobManager restarted: the history
		// decides whether a savepoint was taken.
		return p.forgotten(ctx, jm, op, held)
	case err != nil:
		// An error about the question, not an answer about the trigger: it
		// may have completed, so it is asked about again, never replaced.
		return p.unreachable(callSavepointStatus, err), nil
	case status.State != flink.OperationCompleted:
		return p.inProgress(ctx, jm, op, held)
	case status.Failure != nil:
		return refused("", status.Failure), nil
	}
	return Outcome{Kind: Completed, Path: status.Location}, nil
}

// inProgress decides about a trigger that Flink reports IN_PROGRESS. Flink
// leaves one that reached the job while it was being cancelled IN_PROGRESS
// for good (measured on Flink 2.3: still so 40s after the job was CANCELED),
// so a trigger older than the grace has its job looked at: once the job has
// ended for longer than the grace (and the clock skew), nothing more comes
// of the trigger, and the history says whether it took a savepoint. A
// trigger that completes normally is reported COMPLETED within moments of
// its job ending (a stop ends its job FINISHED), long before that.
func (p Protocol) inProgress(ctx context.Context, jm JobManager, op Operation, held Held) (Outcome, error) {
	pending := Outcome{Kind: Pending, Wait: p.PollInterval(op.Recorded)}
	if p.Now().Sub(op.Recorded) < p.ForgottenTriggerGrace {
		return pending, nil
	}
	// Cached for web.refresh-interval, which is safe here: an ended job
	// stays ended, and a stale answer only makes the wait longer.
	job, err := jm.Job(ctx, op.JobID)
	state := "gone"
	switch {
	case errors.Is(err, flink.ErrJobNotFound):
		// Gone from the JobManager: it ended long ago.
	case err != nil:
		return p.unreachable(callJob, err), nil
	case !flink.JobEnded(job.State), job.EndTime <= 0:
		return pending, nil
	case p.Now().Sub(time.UnixMilli(job.EndTime)) < p.ForgottenTriggerGrace+clockSkew:
		return pending, nil
	default:
		state = job.State
	}
	o, decided, err := p.fromHistory(ctx, jm, op, held)
	if err != nil || (decided && o.Kind != JobGone) {
		return o, err
	}
	return ended(op, state), nil
}

// forgotten decides about a trigger the JobManager no longer knows.
func (p Protocol) forgotten(ctx context.Context, jm JobManager, op Operation, held Held) (Outcome, error) {
	if o, decided, err := p.fromHistory(ctx, jm, op, held); err != nil || decided {
		// Found; or no job, whose history would never show it; or no answer.
		return o, err
	}
	if age := p.Now().Sub(op.Recorded); age < p.ForgottenTriggerGrace {
		return Outcome{Kind: RetryAfter, Wait: p.ForgottenTriggerGrace - age}, nil
	}
	switch op.Resend {
	case ResendNever:
		return Outcome{Kind: NotTaken}, nil
	case ResendWhileRunning:
		state, err := jm.JobState(ctx, op.JobID)
		switch {
		case errors.Is(err, flink.ErrJobNotFound):
			return ended(op, "gone"), nil
		case err != nil:
			return p.unreachable(callJobState, err), nil
		case flink.JobEnded(state):
			return ended(op, state), nil
		}
	}
	o := p.Send(ctx, jm, op)
	o.Resent = true
	if o.Kind == Pending {
		o.Kind = Resent
	}
	return o, nil
}

// fromHistory looks for the trigger's savepoint in the job's checkpoint
// history (see pickFromHistory). It has decided when the savepoint is there
// (Completed), when the job has no history (JobGone: Flink does not know the
// job) or when the history could not be read (Unreachable); otherwise none
// of the history is the trigger's, yet.
func (p Protocol) fromHistory(ctx context.Context, jm JobManager, op Operation, held Held) (Outcome, bool, error) {
	stats, err := jm.Checkpoints(ctx, op.JobID)
	switch {
	case errors.Is(err, flink.ErrJobNotFound):
		return Outcome{Kind: JobGone, Err: err}, true, nil
	case err != nil:
		return p.unreachable(callCheckpoints, err), true, nil
	}
	if !candidates(stats, op.Recorded) {
		return Outcome{}, false, nil // nobody needs to be asked what they hold
	}
	var others []string
	if held != nil {
		if others, err = held(ctx); err != nil {
			return Outcome{}, true, fmt.Errorf("savepoints held already: %w", err)
		}
	}
	if path, found := pickFromHistory(stats, historyQuery{Since: op.Recorded, Dir: op.Dir, Held: others}); found {
		return Outcome{Kind: Completed, Path: path, Recovered: true}, true, nil
	}
	return Outcome{}, false, nil
}

// unreachable is no usable answer from call.
func (p Protocol) unreachable(call string, err error) Outcome {
	return Outcome{Kind: Unreachable, Err: err, Wait: p.UnreachableWait(), Call: call}
}

// ended is a trigger of a job that ended, whose savepoint the job's history
// does not show: nothing can take it any more, and none of it can be found.
func ended(op Operation, state string) Outcome {
	return Outcome{Kind: JobGone, Err: fmt.Errorf("job %s ended (%s): no running job can take the savepoint of %s %s, and the job's checkpoint history has none of it", op.JobID, state, op.Request.noun(), op.TriggerID)}
}

// refused is Flink's no: JobGone when it says the job is not there.
func refused(call string, err error) Outcome {
	if errors.Is(err, flink.ErrJobNotFound) {
		return Outcome{Kind: JobGone, Err: err, Call: call}
	}
	return Outcome{Kind: Failed, Err: err, Call: call}
}
