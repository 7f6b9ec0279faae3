// Package flinkop owns the protocol of a savepoint operation against a Flink
// JobManager: trigger a savepoint, stop a job with one, dispose of one.
//
// Flink forgets a trigger's result after rest.async.store-duration (and on a
// JobManager restart), after which sending the same trigger ID again takes a
// second savepoint. So every operation follows one protocol:
//
//  1. The caller derives the trigger ID from what it records (SavepointTriggerID,
//     StopTriggerID) and records it, with the time, before anything is sent.
//  2. Send posts it; an unanswered send is not a failure: Poll finds out
//     whether it arrived.
//  3. Poll asks for its status. A trigger Flink no longer knows is looked up
//     in the job's checkpoint history before anything is sent again, and
//     only after a grace, because the history is cached; so is one that
//     Flink keeps IN_PROGRESS although its job ended long ago.
//
// Poll and Send return an Outcome, a value the caller maps onto its own
// status and events; they never write anything themselves. Dispose and
// PollDisposal do the same for a disposal, whose trigger ID Flink chooses.
//
// The package talks to Flink only; it knows nothing of Kubernetes.
package flinkop
