package v1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Labels and annotations the project reads and writes.
const (
	// ApplicationLabel names the FlinkApplication an attached Savepoint belongs to.
	// The webhook sets it from spec.application so that lookups by parent are indexed.
	ApplicationLabel = "cmf.confluent.io/application"
	// StatementLabel names the Statement an attached Savepoint belongs to.
	StatementLabel = "cmf.confluent.io/statement"
	// RestURLAnnotation on a parent overrides where its JobManager REST API is reached.
	RestURLAnnotation = "cmf.confluent.io/rest-url"
	// AbandonAnnotation set to "true" on a Savepoint abandons it: no more
	// triggers or retries (`kubectl savepoint abandon`).
	AbandonAnnotation = "cmf.confluent.io/abandon"
	// ForceDeleteAnnotation set to "true" on a Savepoint makes its deletion
	// skip disposal: the resource goes at once and its data stays, orphaned
	// (`kubectl savepoint delete --force`).
	ForceDeleteAnnotation = "cmf.confluent.io/force-delete"
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

// StartFromSavepoint says which savepoint a job starts from. Exactly one of
// savepointName, uid and initialSavepointPath is set.
// +kubebuilder:validation:XValidation:rule="[has(self.savepointName), has(self.uid), has(self.initialSavepointPath)].filter(x, x).size() == 1",message="set exactly one of savepointName, uid or initialSavepointPath"
type StartFromSavepoint struct {
	// savepointName is the name of a Savepoint (attached, in the parent's
	// namespace) or of a DetachedSavepoint to start from.
	// +optional
	// +kubebuilder:validation:MinLength=1
	SavepointName string `json:"savepointName,omitempty"`

	// uid is the metadata.uid of a Savepoint or DetachedSavepoint to start from.
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
