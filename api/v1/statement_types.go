package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// StatementSpec is a Flink SQL statement run through a ComputePool's SQL Gateway.
// +kubebuilder:validation:XValidation:rule="!has(self.startFromSavepoint) || !has(self.startFromSavepoint.initialSavepointPath)",message="spec.startFromSavepoint.initialSavepointPath is not supported for a Statement: start it from one of its own Savepoints with savepointName or uid",fieldPath=".startFromSavepoint.initialSavepointPath"
// +kubebuilder:validation:XValidation:rule="self.computePoolName == oldSelf.computePoolName",message="spec.computePoolName is immutable: create a new Statement on the other pool",fieldPath=".computePoolName"
type StatementSpec struct {
	// statement is the SQL to run, e.g. INSERT INTO sink SELECT * FROM source.
	// +required
	// +kubebuilder:validation:MinLength=1
	Statement string `json:"statement"`

	// computePoolName is the ComputePool, in this namespace, whose SQL Gateway runs the statement.
	// +required
	// +kubebuilder:validation:MinLength=1
	ComputePoolName string `json:"computePoolName"`

	// properties are SQL session properties, e.g. sql.current-catalog.
	// +optional
	Properties map[string]string `json:"properties,omitempty"`

	// flinkConfiguration is Flink configuration for the statement's job, e.g.
	// state.backend.type: rocksdb.
	// +optional
	FlinkConfiguration map[string]string `json:"flinkConfiguration,omitempty"`

	// parallelism is the job's default parallelism.
	// +optional
	// +kubebuilder:validation:Minimum=1
	Parallelism *int32 `json:"parallelism,omitempty"`

	// stopped: true stops the job with a savepoint (kept as a Savepoint of
	// origin SUSPEND); false again starts it from that savepoint.
	// +optional
	Stopped bool `json:"stopped,omitempty"`

	// savepointRedeployNonce: changing it restarts the statement from
	// startFromSavepoint, even if that did not change (`kubectl savepoint start`).
	// +optional
	SavepointRedeployNonce *int64 `json:"savepointRedeployNonce,omitempty"`

	// startFromSavepoint starts the statement from one of its OWN attached
	// Savepoints: set savepointName or uid.
	// +optional
	StartFromSavepoint *StartFromSavepoint `json:"startFromSavepoint,omitempty"`
}

// StatementStatus is what the manager observed of the statement.
type StatementStatus struct {
	// jobStatus is the statement's Flink job.
	// +optional
	JobStatus JobStatus `json:"jobStatus,omitempty"`

	// phase is the statement's phase, e.g. PENDING, RUNNING, STOPPED, FAILED.
	// +optional
	Phase string `json:"phase,omitempty"`

	// error is the last error running the statement.
	// +optional
	Error string `json:"error,omitempty"`

	// conditions are the latest observations of the statement.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the metadata.generation the status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Session is the manager's record of running the job on its ComputePool
	// (session mode); empty otherwise.
	// +optional
	Session *SessionStatus `json:"session,omitempty"`
}

// Statement is a Flink SQL statement that runs as a job on a ComputePool.
// Savepoints attach to it; it can only start from its own.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=fstmt,categories=flink
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Compute Pool",type=string,JSONPath=`.spec.computePoolName`
// +kubebuilder:printcolumn:name="Stopped",type=boolean,JSONPath=`.spec.stopped`
// +kubebuilder:printcolumn:name="Job ID",type=string,JSONPath=`.status.jobStatus.jobId`,priority=1
// +kubebuilder:printcolumn:name="Statement",type=string,JSONPath=`.spec.statement`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Statement struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired statement.
	// +required
	Spec StatementSpec `json:"spec"`

	// status is what the manager observed.
	// +optional
	Status StatementStatus `json:"status,omitempty"`
}

// StatementList is a list of Statements.
// +kubebuilder:object:root=true
type StatementList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Statement `json:"items"`
}
