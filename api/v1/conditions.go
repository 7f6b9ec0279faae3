package v1

// The vocabulary that the manager writes and the plugin reads: condition
// types and the reasons of their conditions. Both sides use these names, so
// a reason the manager starts writing is one the plugin knows.

// Condition types.
const (
	// ConditionReady is True on a Savepoint once it is COMPLETED, and on a
	// parent while its job runs as the spec asks; its reason names the step.
	ConditionReady = "Ready"
	// ConditionClusterReachable on a Savepoint says whether its parent's
	// JobManager answered.
	ConditionClusterReachable = "ClusterReachable"
	// ConditionComputePool on a parent in session mode says whether its
	// ComputePool exists and answers. A ComputePool's own condition is Ready.
	ConditionComputePool = "ComputePoolReady"
)

// Reasons of a Savepoint's Ready condition (and of its events).
const (
	ReasonCompleted = "Completed"
	ReasonAdopted   = "Adopted"
	// ReasonRetrying: an attempt failed and another follows after a wait.
	ReasonRetrying = "Retrying"
	// ReasonFailed: Flink refused or failed the savepoint and backoffLimit is spent.
	ReasonFailed    = "Failed"
	ReasonAbandoned = "Abandoned"
	// ReasonDeleted: deleted before its trigger was sent.
	ReasonDeleted        = "Deleted"
	ReasonParentNotFound = "ParentNotFound"
	// ReasonJobNotKnown (TRIGGER_PENDING): the parent's status records no
	// job ID yet; the savepoint waits for it. A job is never found by name.
	ReasonJobNotKnown = "JobNotKnown"
	// ReasonJobGone: the job went away while its savepoint was in flight.
	ReasonJobGone = "JobGone"
	// ReasonBadRestURL: the parent's JobManager URL is not a usable URL.
	ReasonBadRestURL = "BadRestURL"
	// ReasonDisposalPending (ClusterReachable): a deleted savepoint's data
	// could not be disposed yet.
	ReasonDisposalPending = "DisposalPending"
)

// Reasons of a parent's conditions (Ready, ComputePoolReady).
const (
	// ComputePoolReady reasons.
	ReasonComputePoolFound    = "Found"
	ReasonComputePoolNotFound = "ComputePoolNotFound"
	ReasonUnreachable         = "Unreachable"
	ReasonReachable           = "Reachable"

	// Ready reasons while the job is on its way.
	ReasonDeploying   = "Deploying"
	ReasonDeployed    = "Deployed"
	ReasonStarting    = "Starting"
	ReasonRunning     = "Running"
	ReasonStopping    = "Stopping"
	ReasonCancelling  = "Cancelling"
	ReasonSuspended   = "Suspended"
	ReasonProgressing = "Progressing"

	// Ready reasons the manager retries by itself.
	ReasonStopFailed          = "StopFailed"
	ReasonJarCacheUnavailable = "JarCacheUnavailable"

	// Ready reasons after which the manager does nothing until the spec (or
	// its savepointRedeployNonce) changes: see StaysUntilSpecChanges.
	ReasonDeployFailed                 = "DeployFailed"
	ReasonSavepointNotResolved         = "SavepointNotResolved"
	ReasonStartFromSavepointUnresolved = "StartFromSavepointUnresolved"
	ReasonDeploymentError              = "DeploymentError"
	ReasonRenderFailed                 = "RenderFailed"
	ReasonOperatorNotInstalled         = "FlinkKubernetesOperatorNotInstalled"
	ReasonJobEnded                     = "JobEnded"
	ReasonJobFinished                  = "JobFinished"
)

// StaysUntilSpecChanges lists the Ready reasons of a parent after which the
// manager will not act again until the spec or its savepointRedeployNonce
// changes: a wait for the job to run ends there.
var StaysUntilSpecChanges = []string{
	ReasonDeployFailed, ReasonSavepointNotResolved, ReasonStartFromSavepointUnresolved,
	ReasonDeploymentError, ReasonRenderFailed, ReasonOperatorNotInstalled,
	ReasonJobEnded, ReasonJobFinished,
}
