package flinkop

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
)

const testJob = "4a72ea65395266e0589418e88b95b7ab"

// protocolAt is the protocol with the clock stopped at now.
func protocolAt(now time.Time) Protocol {
	return Protocol{
		Backoff: Backoff{Base: 100 * time.Millisecond, Cap: time.Second},
		PollMin: 50 * time.Millisecond, PollMax: 2 * time.Second,
		ForgottenTriggerGrace: 10 * time.Second,
		Now:                   func() time.Time { return now },
	}
}

// checkOutcome compares an outcome with the one wanted, its error by kind
// and text.
func checkOutcome(t *testing.T, want, got Outcome, errIs error, errText string) {
	t.Helper()
	switch {
	case errIs != nil:
		assert.ErrorIs(t, got.Err, errIs)
	case errText == "":
		assert.NoError(t, got.Err)
	}
	if errText != "" {
		require.Error(t, got.Err)
		assert.Contains(t, got.Err.Error(), errText)
	}
	got.Err = nil
	assert.Equal(t, want, got)
}

func TestSend(t *testing.T) {
	trigger := SavepointTriggerID("uid", 1)
	dir := "file:/savepoints/orders"
	tests := []struct {
		name     string
		request  Request
		format   flink.Format
		answers  map[string]string
		want     Outcome
		errIs    error
		errText  string
		wantBody map[string]any
	}{
		{
			name: "a savepoint trigger goes out with the recorded ID, spelt as Flink reads it: poll it", request: TakeSavepoint, format: flink.FormatNative,
			answers:  map[string]string{callTrigger: "savepoint-trigger-accepted"},
			want:     Outcome{Kind: Pending, Wait: 50 * time.Millisecond},
			wantBody: map[string]any{"target-directory": dir, "triggerId": trigger, "formatType": "NATIVE", "cancel-job": false},
		},
		{
			name: "a stop goes out with the recorded ID, in the stop's own spelling", request: StopWithSavepoint,
			answers:  map[string]string{callStop: "stop-accepted"},
			want:     Outcome{Kind: Pending, Wait: 50 * time.Millisecond},
			wantBody: map[string]any{"targetDirectory": dir, "triggerId": trigger, "formatType": "CANONICAL", "drain": false},
		},
		{
			name: "no answer: Unreachable, for the poll to find out whether it arrived", request: TakeSavepoint,
			answers: map[string]string{callTrigger: noAnswer},
			want:    Outcome{Kind: Unreachable, Wait: 100 * time.Millisecond, Call: callTrigger}, errIs: flink.ErrUnreachable,
		},
		{
			name: "a stop without an answer: Unreachable", request: StopWithSavepoint,
			answers: map[string]string{callStop: noAnswer},
			want:    Outcome{Kind: Unreachable, Wait: 100 * time.Millisecond, Call: callStop}, errIs: flink.ErrUnreachable,
		},
		{
			name: "refused, no savepoint directory: Failed, for good", request: TakeSavepoint,
			answers: map[string]string{callTrigger: "savepoint-trigger-no-directory"},
			want:    Outcome{Kind: Failed, Call: callTrigger}, errIs: flink.ErrNoSavepointDirectory,
		},
		{
			name: "refused as malformed: Failed", request: TakeSavepoint,
			answers: map[string]string{callTrigger: "savepoint-trigger-bad-trigger-id"},
			want:    Outcome{Kind: Failed, Call: callTrigger}, errIs: flink.ErrBadRequest,
		},
		{
			name: "a server error: Failed (the caller's backoff decides)", request: TakeSavepoint,
			answers: map[string]string{callTrigger: internalError},
			want:    Outcome{Kind: Failed, Call: callTrigger}, errText: "something inside",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jm, client := newJobManager(t, tt.answers)
			op := Operation{Request: tt.request, JobID: testJob, TriggerID: trigger, Recorded: time.Now(), Dir: dir, Format: tt.format}
			got := protocolAt(time.Now()).Send(context.Background(), client, op)
			checkOutcome(t, tt.want, got, tt.errIs, tt.errText)
			if tt.wantBody != nil {
				call := callTrigger
				if tt.request == StopWithSavepoint {
					call = callStop
				}
				assert.Equal(t, tt.wantBody, jm.last(call).body)
				assert.Equal(t, "/jobs/"+testJob+"/"+map[string]string{callTrigger: "savepoints", callStop: "stop"}[call], jm.last(call).path)
			}
		})
	}
}

func TestPoll(t *testing.T) {
	history := recordedHistory(t)
	first, second, newest := history[0], history[1], history[len(history)-1]
	at := func(cp flink.Checkpoint) time.Time { return time.UnixMilli(cp.TriggerTimestamp) }
	// No savepoint of the recorded history is ours when recorded this late.
	late := at(newest).Add(clockSkew + time.Second)
	// Recorded after every savepoint of the history, but within the clock
	// skew of some: the earliest of those.
	skewedRecord := at(newest).Add(clockSkew / 2)
	var skewed flink.Checkpoint
	for _, cp := range history {
		if !at(cp).Before(skewedRecord.Add(-clockSkew)) {
			skewed = cp
			break
		}
	}
	trigger := SavepointTriggerID("uid", 1)
	jobEnded := recordedEndTime(t, "job-details-finished")
	noHeld := func(context.Context) ([]string, error) { return nil, nil }
	heldNotAsked := func(context.Context) ([]string, error) {
		return nil, errors.New("held was asked, but no savepoint of the history could be this trigger's")
	}
	forgotten := map[string]string{callSavepointStatus: "savepoint-status-unknown-trigger", callCheckpoints: "checkpoints"}
	with := func(base map[string]string, more ...string) map[string]string {
		answers := map[string]string{}
		for k, v := range base {
			answers[k] = v
		}
		for i := 0; i < len(more); i += 2 {
			answers[more[i]] = more[i+1]
		}
		return answers
	}

	tests := []struct {
		name     string
		answers  map[string]string
		request  Request
		resend   ResendPolicy
		recorded time.Time
		age      time.Duration
		dir      string
		held     Held
		want     Outcome
		errIs    error
		errText  string
		calls    []string
	}{
		// Flink knows the trigger.
		{
			name:    "completed: the savepoint's location",
			answers: map[string]string{callSavepointStatus: "savepoint-status-completed"},
			want:    Outcome{Kind: Completed, Path: recordedLocation(t)},
			calls:   []string{callSavepointStatus},
		},
		{
			name:    "in progress, young: polled again soon",
			answers: map[string]string{callSavepointStatus: "savepoint-status-in-progress"}, age: 20 * time.Millisecond,
			want:  Outcome{Kind: Pending, Wait: 50 * time.Millisecond},
			calls: []string{callSavepointStatus},
		},
		{
			name:    "in progress, older: polled less often",
			answers: map[string]string{callSavepointStatus: "savepoint-status-in-progress"}, age: time.Second,
			want:  Outcome{Kind: Pending, Wait: 500 * time.Millisecond},
			calls: []string{callSavepointStatus},
		},
		{
			name:    "in progress for a while, within the grace: polled at most every PollMax",
			answers: map[string]string{callSavepointStatus: "savepoint-status-in-progress"}, age: 9 * time.Second,
			want:  Outcome{Kind: Pending, Wait: 2 * time.Second},
			calls: []string{callSavepointStatus},
		},
		{
			name:    "failed by Flink: Failed, with the root cause of its stack trace",
			answers: map[string]string{callSavepointStatus: "savepoint-status-tasks-not-running"},
			want:    Outcome{Kind: Failed}, errIs: flink.ErrJobNotRunning, errText: "Not all required tasks are currently running",
			calls: []string{callSavepointStatus},
		},
		{
			name:    "failed because the job finished: JobGone",
			answers: map[string]string{callSavepointStatus: "savepoint-status-job-finished"},
			want:    Outcome{Kind: JobGone}, errIs: flink.ErrJobNotFound, errText: "FlinkJobNotFoundException",
			calls: []string{callSavepointStatus},
		},
		{
			name:    "failed because the job never existed: JobGone",
			answers: map[string]string{callSavepointStatus: "savepoint-status-job-not-found"},
			want:    Outcome{Kind: JobGone}, errIs: flink.ErrJobNotFound,
			calls: []string{callSavepointStatus},
		},
		{
			name:    "no answer: Unreachable, asked again after the backoff's first step",
			answers: map[string]string{callSavepointStatus: noAnswer},
			want:    Outcome{Kind: Unreachable, Wait: 100 * time.Millisecond, Call: callSavepointStatus}, errIs: flink.ErrUnreachable,
			calls: []string{callSavepointStatus},
		},
		{
			name:    "an error answer is about the question, not the trigger: Unreachable, never Failed (it may have completed)",
			answers: map[string]string{callSavepointStatus: internalError},
			want:    Outcome{Kind: Unreachable, Wait: 100 * time.Millisecond, Call: callSavepointStatus}, errText: "IllegalStateException: something inside",
			calls: []string{callSavepointStatus},
		},

		// IN_PROGRESS for longer than the grace: its job is looked at.
		{
			name:    "in progress past the grace, its job runs: polled again",
			answers: map[string]string{callSavepointStatus: "savepoint-status-in-progress", callJob: "job-details-running"}, age: 11 * time.Second,
			want:  Outcome{Kind: Pending, Wait: 2 * time.Second},
			calls: []string{callSavepointStatus, callJob},
		},
		{
			name:     "in progress, its job ended moments ago: polled again (a stop's result comes right after its job ends)",
			answers:  map[string]string{callSavepointStatus: "savepoint-status-in-progress", callJob: "job-details-finished"},
			recorded: jobEnded.Add(-time.Minute), age: time.Minute + time.Second,
			want:  Outcome{Kind: Pending, Wait: 2 * time.Second},
			calls: []string{callSavepointStatus, callJob},
		},
		{
			name:     "in progress for good, its job ended long ago, in the history: Completed from it",
			answers:  map[string]string{callSavepointStatus: "savepoint-status-in-progress", callJob: "job-details-finished", callCheckpoints: "checkpoints"},
			recorded: at(first), dir: dirOf(first.ExternalPath), age: jobEnded.Sub(at(first)) + time.Hour,
			want:  Outcome{Kind: Completed, Path: first.ExternalPath, Recovered: true},
			calls: []string{callSavepointStatus, callJob, callCheckpoints},
		},
		{
			name:     "in progress for good, its job ended long ago, not in the history: JobGone (Flink keeps a trigger that met a cancellation IN_PROGRESS)",
			answers:  map[string]string{callSavepointStatus: "savepoint-status-in-progress", callJob: "job-details-finished", callCheckpoints: "checkpoints"},
			recorded: jobEnded.Add(-time.Minute), age: time.Hour,
			want: Outcome{Kind: JobGone}, errText: fmt.Sprintf("job %s ended (FINISHED): no running job can take the savepoint of trigger %s, and the job's checkpoint history has none of it", testJob, trigger),
			calls: []string{callSavepointStatus, callJob, callCheckpoints},
		},
		{
			name:     "in progress for good, its job unknown: JobGone",
			answers:  map[string]string{callSavepointStatus: "savepoint-status-in-progress", callJob: "job-details-unknown", callCheckpoints: "checkpoints-unknown-job"},
			recorded: late, age: time.Hour,
			want: Outcome{Kind: JobGone}, errText: "ended (gone): no running job",
			calls: []string{callSavepointStatus, callJob, callCheckpoints},
		},
		{
			name:    "in progress past the grace, its job unanswered: Unreachable",
			answers: map[string]string{callSavepointStatus: "savepoint-status-in-progress", callJob: noAnswer}, age: time.Hour,
			want: Outcome{Kind: Unreachable, Wait: 100 * time.Millisecond, Call: callJob}, errIs: flink.ErrUnreachable,
			calls: []string{callSavepointStatus, callJob},
		},

		// Flink forgot the trigger: the history decides.
		{
			name:    "forgotten, in the history: Completed from it, nothing sent",
			answers: forgotten, recorded: at(first), dir: dirOf(first.ExternalPath), age: time.Hour,
			want:  Outcome{Kind: Completed, Path: first.ExternalPath, Recovered: true},
			calls: []string{callSavepointStatus, callCheckpoints},
		},
		{
			name:    "forgotten, its savepoint held by another record: the next one is ours",
			answers: forgotten, recorded: at(first), age: time.Hour,
			held:  func(context.Context) ([]string, error) { return []string{first.ExternalPath}, nil },
			want:  Outcome{Kind: Completed, Path: second.ExternalPath, Recovered: true},
			calls: []string{callSavepointStatus, callCheckpoints},
		},
		{
			name:    "forgotten, stamped within the clock skew before the record (another machine's clock): ours",
			answers: forgotten, recorded: skewedRecord, age: time.Hour,
			want:  Outcome{Kind: Completed, Path: skewed.ExternalPath, Recovered: true},
			calls: []string{callSavepointStatus, callCheckpoints},
		},
		{
			name:    "forgotten, within the grace, nothing since the trigger: look again when the grace ends, nothing sent",
			answers: forgotten, recorded: late, age: 3 * time.Second, held: heldNotAsked,
			want:  Outcome{Kind: RetryAfter, Wait: 7 * time.Second},
			calls: []string{callSavepointStatus, callCheckpoints},
		},
		{
			name:    "forgotten, within the grace, savepoints only in another directory: look again",
			answers: forgotten, recorded: at(first), dir: "file:/somewhere/else", age: 3 * time.Second,
			want:  Outcome{Kind: RetryAfter, Wait: 7 * time.Second},
			calls: []string{callSavepointStatus, callCheckpoints},
		},
		{
			name:    "forgotten, grace over, not in the history: the same trigger sent again",
			answers: with(forgotten, callTrigger, "savepoint-trigger-accepted"), recorded: late, age: 11 * time.Second,
			want:  Outcome{Kind: Resent, Wait: 50 * time.Millisecond, Resent: true},
			calls: []string{callSavepointStatus, callCheckpoints, callTrigger},
		},
		{
			name:    "forgotten, grace over, the resend unanswered: Unreachable, for the next poll",
			answers: with(forgotten, callTrigger, noAnswer), recorded: late, age: 11 * time.Second,
			want: Outcome{Kind: Unreachable, Wait: 100 * time.Millisecond, Resent: true, Call: callTrigger}, errIs: flink.ErrUnreachable,
			calls: []string{callSavepointStatus, callCheckpoints, callTrigger},
		},
		{
			name:    "forgotten, grace over, the resend refused: Failed",
			answers: with(forgotten, callTrigger, "savepoint-trigger-no-directory"), recorded: late, age: 11 * time.Second,
			want: Outcome{Kind: Failed, Resent: true, Call: callTrigger}, errIs: flink.ErrNoSavepointDirectory,
			calls: []string{callSavepointStatus, callCheckpoints, callTrigger},
		},
		{
			name:    "forgotten, grace over, never to be sent again (its owner is deleted): NotTaken",
			answers: forgotten, resend: ResendNever, recorded: late, age: 11 * time.Second,
			want:  Outcome{Kind: NotTaken},
			calls: []string{callSavepointStatus, callCheckpoints},
		},
		{
			name:    "a stop forgotten, grace over, its job runs: sent again as a stop",
			answers: with(forgotten, callJobState, "job-status-running", callStop, "stop-accepted"), request: StopWithSavepoint, resend: ResendWhileRunning,
			recorded: late, age: 11 * time.Second,
			want:  Outcome{Kind: Resent, Wait: 50 * time.Millisecond, Resent: true},
			calls: []string{callSavepointStatus, callCheckpoints, callJobState, callStop},
		},
		{
			name:    "a stop forgotten, grace over, its job finished: JobGone, saying the history has no savepoint of the stop",
			answers: with(forgotten, callJobState, "job-status-finished"), request: StopWithSavepoint, resend: ResendWhileRunning,
			recorded: late, age: 11 * time.Second,
			want: Outcome{Kind: JobGone}, errText: fmt.Sprintf("job %s ended (FINISHED): no running job can take the savepoint of stop %s, and the job's checkpoint history has none of it", testJob, trigger),
			calls: []string{callSavepointStatus, callCheckpoints, callJobState},
		},
		{
			name:    "a stop forgotten, grace over, its job unknown: JobGone",
			answers: with(forgotten, callJobState, "job-status-unknown"), request: StopWithSavepoint, resend: ResendWhileRunning,
			recorded: late, age: 11 * time.Second,
			want: Outcome{Kind: JobGone}, errText: "ended (gone): no running job can take the savepoint of stop",
			calls: []string{callSavepointStatus, callCheckpoints, callJobState},
		},
		{
			name:    "a stop forgotten, grace over, its job's state unanswered: Unreachable, nothing sent",
			answers: with(forgotten, callJobState, noAnswer), request: StopWithSavepoint, resend: ResendWhileRunning,
			recorded: late, age: 11 * time.Second,
			want: Outcome{Kind: Unreachable, Wait: 100 * time.Millisecond, Call: callJobState}, errIs: flink.ErrUnreachable,
			calls: []string{callSavepointStatus, callCheckpoints, callJobState},
		},
		{
			name:    "forgotten, the job unknown: JobGone at once, there is no history to wait for",
			answers: with(forgotten, callCheckpoints, "checkpoints-unknown-job"), recorded: late, age: time.Second,
			want: Outcome{Kind: JobGone}, errIs: flink.ErrJobNotFound,
			calls: []string{callSavepointStatus, callCheckpoints},
		},
		{
			name:    "forgotten, the history unanswered: Unreachable",
			answers: with(forgotten, callCheckpoints, noAnswer), recorded: late, age: time.Hour,
			want: Outcome{Kind: Unreachable, Wait: 100 * time.Millisecond, Call: callCheckpoints}, errIs: flink.ErrUnreachable,
			calls: []string{callSavepointStatus, callCheckpoints},
		},
		{
			name:    "forgotten, the history an error: Unreachable, never a failed attempt (its savepoint may be there)",
			answers: with(forgotten, callCheckpoints, internalError), recorded: late, age: time.Hour,
			want: Outcome{Kind: Unreachable, Wait: 100 * time.Millisecond, Call: callCheckpoints}, errText: "something inside",
			calls: []string{callSavepointStatus, callCheckpoints},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jm, client := newJobManager(t, tt.answers)
			recorded := tt.recorded
			if recorded.IsZero() {
				recorded = time.Now()
			}
			op := Operation{Request: TakeSavepoint, JobID: testJob, TriggerID: trigger, Recorded: recorded, Dir: tt.dir, Resend: tt.resend}
			if tt.request != 0 {
				op.Request = tt.request
			}
			held := tt.held
			if held == nil {
				held = noHeld
			}
			got, err := protocolAt(recorded.Add(tt.age)).Poll(context.Background(), client, op, held)
			require.NoError(t, err)
			checkOutcome(t, tt.want, got, tt.errIs, tt.errText)
			assert.Equal(t, tt.calls, jm.calls())
			if last := tt.calls[len(tt.calls)-1]; last == callTrigger || last == callStop {
				assert.Equal(t, trigger, jm.last(last).body["triggerId"], "the same trigger ID, never a new one")
			}
		})
	}
}

func TestPollHeldFails(t *testing.T) {
	history := recordedHistory(t)
	_, client := newJobManager(t, map[string]string{callSavepointStatus: "savepoint-status-unknown-trigger", callCheckpoints: "checkpoints"})
	recorded := time.UnixMilli(history[0].TriggerTimestamp)
	op := Operation{Request: TakeSavepoint, JobID: testJob, TriggerID: SavepointTriggerID("uid", 1), Recorded: recorded}
	_, err := protocolAt(recorded.Add(time.Hour)).Poll(context.Background(), client, op, func(context.Context) ([]string, error) {
		return nil, errors.New("the API server is down")
	})
	require.ErrorContains(t, err, "the API server is down", "without what others hold, no history entry is taken, and nothing is sent")
}

func TestDispose(t *testing.T) {
	path := "file:/savepoints/orders/savepoint-4a72ea-42475d904369"
	tests := []struct {
		name    string
		answer  string
		wantID  string
		want    Outcome
		errIs   error
		errText string
	}{
		{"accepted: Flink's ID is the one to poll", "savepoint-disposal-accepted", recordedRequestID(t, "savepoint-disposal-accepted"), Outcome{Kind: Pending, Wait: 50 * time.Millisecond}, nil, ""},
		{"no answer: Unreachable, ask again", noAnswer, "", Outcome{Kind: Unreachable, Wait: 100 * time.Millisecond, Call: callDispose}, flink.ErrUnreachable, ""},
		{"an error: Failed, ask again", internalError, "", Outcome{Kind: Failed, Call: callDispose}, nil, "something inside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jm, client := newJobManager(t, map[string]string{callDispose: tt.answer})
			id, got := protocolAt(time.Now()).Dispose(context.Background(), client, path)
			assert.Equal(t, tt.wantID, id)
			checkOutcome(t, tt.want, got, tt.errIs, tt.errText)
			assert.Equal(t, map[string]any{"savepoint-path": path}, jm.last(callDispose).body)
		})
	}
}

func TestPollDisposal(t *testing.T) {
	tests := []struct {
		name    string
		answer  string
		want    Outcome
		errIs   error
		errText string
	}{
		{"completed: the data is gone", "savepoint-disposal-completed", Outcome{Kind: Completed}, nil, ""},
		{"no savepoint at the path (disposed before): the data is gone", "savepoint-disposal-missing-path", Outcome{Kind: Completed}, nil, ""},
		{"in progress: poll again", "savepoint-status-in-progress", Outcome{Kind: Pending, Wait: 50 * time.Millisecond}, nil, ""},
		{"failed otherwise: Failed, dispose again", "savepoint-status-tasks-not-running", Outcome{Kind: Failed}, flink.ErrJobNotRunning, ""},
		{"forgotten by the JobManager: Failed, dispose again", "savepoint-disposal-unknown-trigger", Outcome{Kind: Failed}, flink.ErrTriggerNotFound, ""},
		{"no answer: Unreachable, poll the same disposal again", noAnswer, Outcome{Kind: Unreachable, Wait: 100 * time.Millisecond, Call: callDisposalStatus}, flink.ErrUnreachable, ""},
		{"an error answer: Unreachable, poll the same disposal again", internalError, Outcome{Kind: Unreachable, Wait: 100 * time.Millisecond, Call: callDisposalStatus}, nil, "something inside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jm, client := newJobManager(t, map[string]string{callDisposalStatus: tt.answer})
			got := protocolAt(time.Now()).PollDisposal(context.Background(), client, "1f6ca12a0d4cf39a5c5b18a3e2b5d6f1")
			checkOutcome(t, tt.want, got, tt.errIs, tt.errText)
			assert.Equal(t, "/savepoint-disposal/1f6ca12a0d4cf39a5c5b18a3e2b5d6f1", jm.last(callDisposalStatus).path)
		})
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		name    string
		backoff Backoff
		n       int32
		want    time.Duration
	}{
		{"the first failure waits the base", Backoff{Base: 50 * time.Millisecond, Cap: time.Second}, 1, 50 * time.Millisecond},
		{"doubled per failure", Backoff{Base: 50 * time.Millisecond, Cap: time.Second}, 3, 200 * time.Millisecond},
		{"capped", Backoff{Base: 50 * time.Millisecond, Cap: time.Second}, 10, time.Second},
		{"capped, not overflowed", Backoff{Base: 50 * time.Millisecond, Cap: time.Second}, 1000, time.Second},
		{"defaults: 1s", Backoff{}, 1, time.Second},
		{"defaults: capped at 5 minutes", Backoff{}, 20, 5 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.backoff.Wait(tt.n))
		})
	}
	assert.Equal(t, 100*time.Millisecond, protocolAt(time.Now()).UnreachableWait(), "the backoff's first step")
	assert.Equal(t, time.Second, Protocol{}.UnreachableWait(), "with the defaults")
}

func TestMessage(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"Flink's root cause, without what was asked", &flink.Error{Op: "trigger savepoint of job 1", Message: "Not all required tasks are currently running."}, "Not all required tasks are currently running."},
		{"wrapped: still Flink's", fmt.Errorf("stop: %w", &flink.Error{Op: "stop job 1", Message: "FlinkJobNotFoundException: Could not find Flink job (1)"}), "FlinkJobNotFoundException: Could not find Flink job (1)"},
		{"no message from Flink: the error's text", &flink.Error{Op: "get status", Err: errors.New("connection refused")}, "get status: connection refused"},
		{"one line, trimmed", errors.New("  first line \nsecond line"), "first line"},
		{"no error: nothing", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Message(tt.err))
		})
	}
}

func TestTriggerIDs(t *testing.T) {
	// Recorded trigger IDs outlive a manager's version: an upgraded manager
	// must derive the very IDs the earlier one did.
	assert.Equal(t, flink.TriggerIDFor("uid", "1"), SavepointTriggerID("uid", 1))
	assert.Equal(t, flink.TriggerIDFor("uid", "stop", testJob, "2"), StopTriggerID("uid", testJob, 2))
	assert.NotEqual(t, SavepointTriggerID("uid", 1), SavepointTriggerID("uid", 2), "each attempt its own savepoint")
	assert.NotEqual(t, StopTriggerID("uid", testJob, 1), StopTriggerID("uid", "5c5b18a3e2b5d6f11f6ca12a0d4cf39a", 1), "each job its own stop")
	assert.Regexp(t, `^[0-9a-f]{32}$`, StopTriggerID("uid", testJob, 1))
}
