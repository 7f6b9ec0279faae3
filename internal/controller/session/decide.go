package session

import "github.com/kubectl-savepoint/kubectl-savepoint/flink"

// A session-mode reconcile is observe → decide → act. observe gathers the
// facts (the parent's spec and record, its ComputePool, Flink's answers);
// decide, a pure function of those facts, picks the one step to take; act
// takes it. decide is where the state machine lives, and its table test
// (session_decide_test.go) has one row per transition.

// step is what one reconcile of a session-mode parent does.
type step int

const (
	// stepNothing: a deleted parent whose job was dealt with already.
	stepNothing step = iota
	// stepFinalizeAtDeployed: deleted, and its pool is gone first (a
	// namespace deletion deletes in no order): its job is still reached
	// where it was deployed.
	stepFinalizeAtDeployed
	// stepDropFinalizer: deleted, never deployed anywhere: nothing runs.
	stepDropFinalizer
	// stepWaitForPool: the pool does not exist (yet, or any more).
	stepWaitForPool
	// stepBadRestURL: the pool's (or the annotation's) endpoint is no URL.
	stepBadRestURL
	// stepRecordEndpoint: deployed before the endpoint was recorded: it
	// runs where the pool says now.
	stepRecordEndpoint
	// stepPoolFound: report the pool found before anything else.
	stepPoolFound
	// stepFinalize: deleted: stop or cancel the job, then let go.
	stepFinalize
	// stepAddFinalizer: before the first deploy, no job runs without a way
	// to cancel it.
	stepAddFinalizer
	// stepPollStop: a stop-with-savepoint is in flight.
	stepPollStop
	// stepLookAtJob: the next decision needs Flink's answers.
	stepLookAtJob
	// stepUnreachable: the job's endpoint did not answer; nothing decided.
	stepUnreachable
	// stepWaitForCache: a recorded deploy that Flink does not know, seen
	// through a cache that is behind the API server.
	stepWaitForCache
	// stepResubmit: a recorded deploy that Flink does not know (a crash or a
	// lost answer): sent again under the same job ID.
	stepResubmit
	// stepSuspend: the spec asks for no job and one runs: stop it with a
	// savepoint (origin SUSPEND).
	stepSuspend
	// stepShowSuspended: no job runs, none is asked for.
	stepShowSuspended
	// stepCancelForRedeploy: a new nonce, or a stateless upgrade: cancel
	// without a savepoint.
	stepCancelForRedeploy
	// stepUpgrade: the spec (or the endpoint) changed: stop with a
	// savepoint (origin UPGRADE), then deploy from it.
	stepUpgrade
	// stepWatch: the job runs as asked; watch it and adopt savepoints taken
	// outside.
	stepWatch
	// stepShowRefused: Flink refused this spec's deploy; nothing is retried
	// until the spec or the nonce changes.
	stepShowRefused
	// stepShowEnded: the job ended on its own (failed, or finished); it is
	// not restarted until the spec asks again.
	stepShowEnded
	// stepRedeployLost: the cluster lost the job (restarted without HA): it
	// runs again from its newest savepoint.
	stepRedeployLost
	// stepDeploy: record a new deploy and submit it.
	stepDeploy
)

var stepNames = [...]string{
	"Nothing", "FinalizeAtDeployed", "DropFinalizer", "WaitForPool", "BadRestURL", "RecordEndpoint",
	"PoolFound", "Finalize", "AddFinalizer", "PollStop", "LookAtJob", "Unreachable", "WaitForCache",
	"Resubmit", "Suspend", "ShowSuspended", "CancelForRedeploy", "Upgrade", "Watch", "ShowRefused",
	"ShowEnded", "RedeployLost", "Deploy",
}

func (s step) String() string { return stepNames[s] }

// facts are what decide needs: the parent's spec and record, its pool, and
// (once looked at) Flink's answers about its job.
type facts struct {
	// The parent.
	deleting, hasFinalizer bool
	// running: the spec asks for a running job.
	running bool
	// stateless: an upgrade cancels instead of stopping with a savepoint.
	stateless bool
	// specChanged: deployed before, from another spec (or nonce).
	specChanged bool
	// nonceChanged: a new savepointRedeployNonce since the last deploy.
	nonceChanged bool
	// refused: Flink refused a deploy of exactly this spec and nonce.
	refused bool

	// The record in status.session and status.jobStatus.
	deploys                     int32
	submitted, stoppedByManager bool
	stopInFlight                bool
	// jobID is the recorded job ID (not one found running under the
	// parent's name).
	jobID string

	// The pool.
	poolFound, poolReady, badRestURL bool
	// restURL is where the next deploy goes; deployedURL where the current
	// job was deployed ("" before the first deploy).
	restURL, deployedURL string

	// Flink, valid once lookedAtJob.
	lookedAtJob bool
	unreachable bool
	// jobState is the job's state; "" when Flink does not know it.
	jobState string
	// stale: the parent read from the cache is older than the API server's.
	stale bool
}

// moved: the endpoint changed since the deploy.
func (f facts) moved() bool { return f.deployedURL != "" && f.deployedURL != f.restURL }

// decide picks the next step for a session-mode parent.
func decide(f facts) step {
	switch {
	case f.deleting && !f.hasFinalizer:
		return stepNothing
	case !f.poolFound && f.deleting && f.deployedURL != "":
		return stepFinalizeAtDeployed
	case !f.poolFound && f.deleting:
		return stepDropFinalizer
	case !f.poolFound:
		return stepWaitForPool
	case f.badRestURL:
		return stepBadRestURL
	case f.deployedURL == "" && f.jobID != "":
		return stepRecordEndpoint
	case !f.poolReady:
		return stepPoolFound
	case f.deleting:
		return stepFinalize
	case !f.hasFinalizer:
		return stepAddFinalizer
	case f.stopInFlight:
		return stepPollStop
	case !f.lookedAtJob:
		return stepLookAtJob
	case f.unreachable:
		return stepUnreachable
	}

	state := f.jobState
	if f.deploys > 0 && !f.submitted && state == "" {
		if f.stale {
			return stepWaitForCache
		}
		return stepResubmit
	}
	alive := state != "" && !flink.JobEnded(state)
	if !f.running {
		if alive {
			return stepSuspend
		}
		return stepShowSuspended
	}

	changed := f.specChanged || (f.deploys > 0 && f.moved())
	if alive {
		switch {
		case f.nonceChanged || (changed && f.stateless):
			return stepCancelForRedeploy
		case changed:
			return stepUpgrade
		}
		return stepWatch
	}
	if f.refused {
		return stepShowRefused
	}
	// A job the cluster no longer knows was lost with it (a restart of a
	// session cluster without HA), as the Flink Kubernetes Operator sees a
	// lost job; one the manager stopped runs again when the spec asks.
	lost := f.deploys > 0 && f.submitted && state == "" && !f.stoppedByManager
	if f.deploys > 0 && !changed && !f.stoppedByManager && !lost {
		return stepShowEnded
	}
	if lost && !f.specChanged {
		return stepRedeployLost
	}
	return stepDeploy
}
