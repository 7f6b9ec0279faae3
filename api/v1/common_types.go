package v1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Labels and annotations the project reads and writes.
const (
	// ApplicationLabel names the FlinkApplication an attached Savepoint belongs to.
	// The webhook sets it from spec.application so that lookups by parent are indexed.
	ApplicationLabel = "cmf.confluent.io/application"
	// StatementLabel names the Statement an attached Savepoint belongs to.
	StatementLabel = "cmf.confluent.io/statement"
	// RestURLAnnotation on a parent overrides where its JobManager REST API
	// is reached; at most MaxEndpointURLLength bytes (the webhook checks it).
	RestURLAnnotation = "cmf.confluent.io/rest-url"
	// TakeOverJobAnnotation on a session-mode parent names, by its Flink job
	// ID, a job already running on the parent's pool that the manager takes
	// over at the first deploy instead of submitting a new one. A job is
	// never taken over by its name: another team's job may bear it.
	TakeOverJobAnnotation = "cmf.confluent.io/take-over-job"
	// AbandonAnnotation set to "true" on a Savepoint abandons it: no more
	// triggers or retries (`kubectl savepoint abandon`).
	AbandonAnnotation = "cmf.confluent.io/abandon"
	// ForceDeleteAnnotation set to "true" on a Savepoint makes its deletion
	// skip disposal: the resource goes at once and its data stays, orphaned
	// (`kubectl savepoint delete --force`).
	ForceDeleteAnnotation = "cmf.confluent.io/force-delete"
	// DetachedAsAnnotation records, before an attached Savepoint is deleted
	// for a detach, the DetachedSavepoint that keeps its data: its deletion
	// then never disposes, even if the DetachedSavepoint is deleted meanwhile.
	DetachedAsAnnotation = "cmf.confluent.io/detached-as"
	// AdoptedPathAnnotation marks a Savepoint the manager adopted: a
	// savepoint taken outside a Savepoint resource (a suspend, an upgrade,
	// the Flink Kubernetes Operator, Flink's REST or CLI) at this exact path.
	// Such a Savepoint is COMPLETED from the start and is never triggered.
	// Only the manager may set it (the webhook refuses anyone else).
	AdoptedPathAnnotation = "cmf.confluent.io/adopted-path"
	// AdoptedOriginAnnotation is an adopted Savepoint's status.origin.
	AdoptedOriginAnnotation = "cmf.confluent.io/adopted-origin"
	// AdoptedJobAnnotation is the Flink job an adopted savepoint was taken of.
	AdoptedJobAnnotation = "cmf.confluent.io/adopted-job"
	// AdoptedFromAnnotation says where an adopted savepoint was found, e.g.
	// "stop-with-savepoint", "checkpoint-history" or
	// "flinkstatesnapshot/orders-savepoint-upgrade-1732520000000".
	AdoptedFromAnnotation = "cmf.confluent.io/adopted-from"
	// DisposeFinalizer keeps a COMPLETED attached Savepoint until its data
	// is disposed (or it was detached, or its deletion forced).
	DisposeFinalizer = "cmf.confluent.io/dispose-savepoint"
	// ParentFinalizer keeps a parent while savepoints are attached to it.
	ParentFinalizer = "cmf.confluent.io/attached-savepoints"
)

// The longest URLs the manager accepts. An endpoint (a ComputePool's
// restURL and sqlGatewayURL, a parent's rest-url annotation) is a scheme, a
// host, a port and perhaps a path: tens of bytes. 2048 is what HTTP clients,
// proxies and browsers have long handled, so no working endpoint is
// refused, while an endpoint can no longer be a payload: the manager keys a
// client by it and writes it into status, events and logs. A jar may sit
// behind a presigned object-store URL, whose signature and session token
// can pass 2 KB, hence 4096 for job.jarURI. The CRDs' maxLength markers
// repeat these numbers (a test keeps them equal).
const (
	MaxEndpointURLLength = 2048
	MaxJarURILength      = 4096
)

// StartFromSavepoint says which savepoint a job starts from: savepointName,
// uid or initialSavepointPath. savepointName may come with a uid: the
// webhook pins a name that resolves to a DetachedSavepoint to its uid.
// +kubebuilder:validation:XValidation:rule="has(self.initialSavepointPath) ? !has(self.savepointName) && !has(self.uid) : (has(self.savepointName) || has(self.uid))",message="set one of savepointName (with or without uid), uid or initialSavepointPath"
type StartFromSavepoint struct {
	// savepointName is the name of a Savepoint (attached, in the parent's
	// namespace) or of a DetachedSavepoint to start from.
	// +optional
	// +kubebuilder:validation:MinLength=1
	SavepointName string `json:"savepointName,omitempty"`

	// uid is the metadata.uid of a Savepoint or DetachedSavepoint to start
	// from. Beside savepointName it pins that name to that object: the
	// webhook fills it in when savepointName names a DetachedSavepoint (whose
	// name is global and can be released and claimed again), and a
	// DetachedSavepoint deleted since is never replaced by another of its
	// name. Remove it to resolve the name anew.
	// +optional
	// +kubebuilder:validation:MinLength=1
	UID string `json:"uid,omitempty"`

	// initialSavepointPath is the location of a savepoint that no resource
	// tracks, e.g. s3://bucket/savepoints/savepoint-1a2b3c. Applications only.
	// +optional
	// +kubebuilder:validation:MinLength=1
	InitialSavepointPath string `json:"initialSavepointPath,omitempty"`

	// allowNonRestoredState lets the job start even when the savepoint holds
	// state that no operator of the new job claims (that state is dropped).
	// +optional
	AllowNonRestoredState *bool `json:"allowNonRestoredState,omitempty"`
}

// JobStatus is what is known of a parent's running Flink job.
type JobStatus struct {
	// jobId is the Flink job ID (32 hexadecimal characters).
	// +optional
	JobID string `json:"jobId,omitempty"`

	// state is the Flink job state, e.g. RUNNING, FINISHED, CANCELED, FAILED.
	// +optional
	State string `json:"state,omitempty"`

	// jobName is the Flink job's name.
	// +optional
	JobName string `json:"jobName,omitempty"`

	// startTime is when the job was started.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`

	// restoredFrom is the savepoint path the running job was started from, if any.
	// +optional
	RestoredFrom string `json:"restoredFrom,omitempty"`
}

// SessionStatus is what the manager records to run a parent's job on its
// ComputePool (session mode). Each step is written here before it is sent to
// Flink, so that a manager restarted at any point carries on where it
// stopped: it never runs a job twice and never loses a stop's savepoint.
type SessionStatus struct {
	// Deploys counts the jobs the manager submitted for this parent; the
	// job ID of a deploy derives from the parent's UID and this count, so a
	// repeated submit of the same deploy is refused by Flink as a duplicate.
	// +optional
	Deploys int32 `json:"deploys,omitempty"`
	// DeployedSpec identifies the spec the current job was deployed from
	// (a hash of the fields that shape the job); a change redeploys.
	// +optional
	DeployedSpec string `json:"deployedSpec,omitempty"`
	// DeployedNonce is the savepointRedeployNonce of the current job; a
	// change redeploys from spec startFromSavepoint.
	// +optional
	DeployedNonce *int64 `json:"deployedNonce,omitempty"`
	// RestURL is the JobManager REST endpoint the current job was deployed
	// to. The job is stopped, cancelled and its savepoints reached there,
	// even after the ComputePool changes its URL or is deleted.
	// +optional
	RestURL string `json:"restURL,omitempty"`
	// Submitted is false between recording a deploy and Flink accepting it.
	// +optional
	Submitted bool `json:"submitted,omitempty"`
	// FailedDeploy is the DeployedSpec and nonce of a deploy that Flink
	// refused (a bad jar, class, statement or savepoint): it is not retried
	// until the spec or the nonce changes.
	// +optional
	FailedDeploy string `json:"failedDeploy,omitempty"`
	// JarURI is the job.jarURI last uploaded to the pool (applications).
	// +optional
	JarURI string `json:"jarURI,omitempty"`
	// JarSHA256 is the checksum of the uploaded jar's content: a jar with
	// the same content is not uploaded again.
	// +optional
	JarSHA256 string `json:"jarSHA256,omitempty"`
	// JarID is the uploaded jar's ID on the pool's JobManager.
	// +optional
	JarID string `json:"jarID,omitempty"`
	// Stop is the stop-with-savepoint in flight, recorded before it is sent.
	// +optional
	Stop *StopOperation `json:"stop,omitempty"`
	// StopFailures counts failed stops of the current job; the next attempt
	// waits longer each time.
	// +optional
	StopFailures int32 `json:"stopFailures,omitempty"`
	// NextStopTime is when the next stop may be tried after a failure.
	// +optional
	NextStopTime *metav1.Time `json:"nextStopTime,omitempty"`
	// StoppedByManager is true when the manager itself stopped or cancelled
	// the job (a suspend, an upgrade, a redeploy): it runs again when the
	// spec asks. A job that ended on its own is not restarted.
	// +optional
	StoppedByManager bool `json:"stoppedByManager,omitempty"`
	// ResumeFrom is the savepoint the next deploy starts from: the last
	// suspend or upgrade savepoint. Empty starts without state.
	// +optional
	ResumeFrom string `json:"resumeFrom,omitempty"`
	// DeletedPaths are the paths of this parent's savepoints that were
	// deleted (the newest 20): a savepoint deleted is never adopted again,
	// even while Flink's checkpoint history still lists it.
	// +optional
	DeletedPaths []string `json:"deletedPaths,omitempty"`
	// AdoptedCheckpointID is the newest entry of the current job's
	// checkpoint history already looked at for savepoints taken outside
	// (adopted with origin MANUAL).
	// +optional
	AdoptedCheckpointID int64 `json:"adoptedCheckpointID,omitempty"`
}

// StopOperation is a stop-with-savepoint the manager sent.
type StopOperation struct {
	// TriggerID is the stop's trigger ID at the JobManager.
	TriggerID string `json:"triggerId"`
	// JobID is the job being stopped.
	JobID string `json:"jobId"`
	// Origin is SUSPEND or UPGRADE: the origin of the Savepoint that adopts
	// the stop's savepoint.
	Origin SavepointOrigin `json:"origin"`
	// Format is the savepoint's format.
	// +optional
	Format FormatType `json:"format,omitempty"`
	// Time is when the stop was sent.
	Time metav1.MicroTime `json:"time"`
}
