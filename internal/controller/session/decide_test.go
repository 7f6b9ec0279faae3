package session

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestDecide has one row per transition of a session-mode parent.
func TestDecide(t *testing.T) {
	const here, there = "http://pool-a:8081", "http://pool-b:8081"
	// runs: a parent whose job runs as asked, everything looked at.
	runs := func(change func(*facts)) facts {
		f := facts{
			hasFinalizer: true, running: true, poolFound: true, poolReady: true,
			restURL: here, deployedURL: here, deploys: 1, submitted: true, jobID: "j1",
			lookedAtJob: true, jobState: "RUNNING",
		}
		if change != nil {
			change(&f)
		}
		return f
	}
	// created: a new parent, its pool found, its finalizer added.
	created := func(change func(*facts)) facts {
		return runs(func(f *facts) {
			f.deploys, f.submitted, f.jobID, f.jobState, f.deployedURL = 0, false, "", "", ""
			if change != nil {
				change(f)
			}
		})
	}
	for _, tc := range []struct {
		name string
		f    facts
		want step
	}{
		// Deletion.
		{"deleted, its job dealt with", runs(func(f *facts) { f.deleting, f.hasFinalizer = true, false }), stepNothing},
		{"deleted after its pool (namespace deletion): finalized where deployed", runs(func(f *facts) { f.deleting, f.poolFound = true, false }), stepFinalizeAtDeployed},
		{"deleted, pool gone, never deployed", created(func(f *facts) { f.deleting, f.poolFound = true, false }), stepDropFinalizer},
		{"deleted", runs(func(f *facts) { f.deleting = true }), stepFinalize},
		{"deleted while stopping: the stop is followed in finalize", runs(func(f *facts) { f.deleting, f.stopInFlight = true, true }), stepFinalize},

		// The pool and the endpoint.
		{"created before its pool", created(func(f *facts) { f.poolFound = false }), stepWaitForPool},
		{"pool deleted under a running job", runs(func(f *facts) { f.poolFound = false }), stepWaitForPool},
		{"pool endpoint is no URL", created(func(f *facts) { f.badRestURL = true }), stepBadRestURL},
		{"deployed before endpoints were recorded", runs(func(f *facts) { f.deployedURL = "" }), stepRecordEndpoint},
		{"pool found, not reported yet", created(func(f *facts) { f.poolReady = false }), stepPoolFound},
		{"created: finalizer first", created(func(f *facts) { f.hasFinalizer = false }), stepAddFinalizer},

		// Looking at the job.
		{"stop in flight", runs(func(f *facts) { f.stopInFlight = true }), stepPollStop},
		{"Flink not asked yet", runs(func(f *facts) { f.lookedAtJob = false }), stepLookAtJob},
		{"endpoint does not answer", runs(func(f *facts) { f.unreachable = true }), stepUnreachable},

		// Deploys.
		{"created", created(nil), stepDeploy},
		{"job of the same name ran already: taken over", created(func(f *facts) { f.jobState = "RUNNING" }), stepWatch},
		{"recorded, not submitted, Flink does not know it", runs(func(f *facts) { f.submitted, f.jobState = false, "" }), stepResubmit},
		{"recorded, not submitted, cache behind", runs(func(f *facts) { f.submitted, f.jobState, f.stale = false, "", true }), stepWaitForCache},
		{"recorded, not submitted, Flink runs it", runs(func(f *facts) { f.submitted = false }), stepWatch},
		{"running as asked", runs(nil), stepWatch},
		{"starting", runs(func(f *facts) { f.jobState = "INITIALIZING" }), stepWatch},
		{"refused deploy", runs(func(f *facts) { f.refused, f.jobState = true, "FAILED" }), stepShowRefused},

		// Suspend and resume.
		{"suspended while running", runs(func(f *facts) { f.running = false }), stepSuspend},
		{"suspended, job stopped", runs(func(f *facts) { f.running, f.stoppedByManager, f.jobState = false, true, "FINISHED" }), stepShowSuspended},
		{"suspended, never deployed", created(func(f *facts) { f.running = false }), stepShowSuspended},
		{"resumed", runs(func(f *facts) { f.stoppedByManager, f.jobState = true, "FINISHED" }), stepDeploy},

		// Upgrades and redeploys.
		{"spec changed, savepoint upgrade", runs(func(f *facts) { f.specChanged = true }), stepUpgrade},
		{"spec changed, stateless upgrade", runs(func(f *facts) { f.specChanged, f.stateless = true, true }), stepCancelForRedeploy},
		{"spec changed, job stopped for it", runs(func(f *facts) { f.specChanged, f.stoppedByManager, f.jobState = true, true, "FINISHED" }), stepDeploy},
		{"new nonce", runs(func(f *facts) { f.specChanged, f.nonceChanged = true, true }), stepCancelForRedeploy},
		{"new nonce, job cancelled for it", runs(func(f *facts) {
			f.specChanged, f.nonceChanged, f.stoppedByManager, f.jobState = true, true, true, "CANCELED"
		}), stepDeploy},
		{"endpoint changed: stopped at the old one", runs(func(f *facts) { f.restURL = there }), stepUpgrade},
		{"endpoint changed, old one gone with its job", runs(func(f *facts) { f.restURL, f.jobState = there, "" }), stepRedeployLost},

		// A job that ended without the manager.
		{"finished on its own", runs(func(f *facts) { f.jobState = "FINISHED" }), stepShowEnded},
		{"failed on its own", runs(func(f *facts) { f.jobState = "FAILED" }), stepShowEnded},
		{"lost with its cluster", runs(func(f *facts) { f.jobState = "" }), stepRedeployLost},
		{"lost, and the spec changed", runs(func(f *facts) { f.jobState, f.specChanged = "", true }), stepDeploy},
		{"failed on its own, then the spec changed", runs(func(f *facts) { f.jobState, f.specChanged = "FAILED", true }), stepDeploy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want.String(), decide(tc.f).String())
		})
	}
}
