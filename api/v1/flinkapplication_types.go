package v1

import (
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// JobState is the state a user wants a parent's job in.
// +kubebuilder:validation:Enum=running;suspended
type JobState string

const (
	// JobRunning asks for the job to run.
	JobRunning JobState = "running"
	// JobSuspended asks for the job to stop with a savepoint.
	JobSuspended JobState = "suspended"
)

// UpgradeMode is how a running job is taken down for a spec change.
// +kubebuilder:validation:Enum=stateless;savepoint;last-state
type UpgradeMode string

const (
	// UpgradeStateless cancels the job and starts the new spec without state.
	UpgradeStateless UpgradeMode = "stateless"
	// UpgradeSavepoint stops the job with a savepoint and starts the new spec from it.
	UpgradeSavepoint UpgradeMode = "savepoint"
	// UpgradeLastState starts the new spec from the job's last checkpoint.
	UpgradeLastState UpgradeMode = "last-state"
)

// Resource is the CPU and memory of one JobManager or TaskManager.
type Resource struct {
	// cpu is the number of cores, e.g. 1 or 500m.
	// +optional
	CPU *resource.Quantity `json:"cpu,omitempty"`

	// memory is Flink's total process memory, e.g. 2048m or 2g.
	// +optional
	Memory string `json:"memory,omitempty"`

	// ephemeralStorage is the local disk, e.g. 10Gi.
	// +optional
	EphemeralStorage string `json:"ephemeralStorage,omitempty"`
}

// ProcessSpec describes the JobManager or TaskManager processes.
type ProcessSpec struct {
	// resource is the CPU and memory of each process.
	// +optional
	Resource *Resource `json:"resource,omitempty"`

	// replicas is the number of processes.
	// +optional
	// +kubebuilder:validation:Minimum=1
	Replicas *int32 `json:"replicas,omitempty"`

	// podTemplate is merged into the processes' pods, as in a Flink Kubernetes
	// Operator FlinkDeployment.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:Type=object
	PodTemplate *runtime.RawExtension `json:"podTemplate,omitempty"`
}

// JobSpec is the Flink job of a FlinkApplication.
type JobSpec struct {
	// jarURI is where the job's jar is: local:// (inside the image, operator
	// mode), file:// or http(s):// (uploaded to a compute pool, session mode).
	// At most 4096 bytes: room for a presigned object-store URL.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	JarURI string `json:"jarURI,omitempty"`

	// entryClass is the job's main class.
	// +optional
	EntryClass string `json:"entryClass,omitempty"`

	// args are the program arguments.
	// +optional
	Args []string `json:"args,omitempty"`

	// parallelism is the job's default parallelism.
	// +optional
	// +kubebuilder:validation:Minimum=1
	Parallelism *int32 `json:"parallelism,omitempty"`

	// state is the state the job should be in: running, or suspended (stopped
	// with a savepoint that is kept as a Savepoint of origin SUSPEND).
	// +optional
	// +kubebuilder:default=running
	State JobState `json:"state,omitempty"`

	// upgradeMode is how the job is taken down for a spec change: stateless,
	// savepoint (a savepoint of origin UPGRADE, then the new spec starts from
	// it) or last-state.
	// +optional
	// +kubebuilder:default=stateless
	UpgradeMode UpgradeMode `json:"upgradeMode,omitempty"`

	// savepointRedeployNonce: changing it redeploys the job from
	// startFromSavepoint (or initialSavepointPath), even if that did not change.
	// +optional
	SavepointRedeployNonce *int64 `json:"savepointRedeployNonce,omitempty"`

	// initialSavepointPath is the savepoint the job starts from on its first
	// deployment, as in a FlinkDeployment. startFromSavepoint, when set, wins.
	// +optional
	InitialSavepointPath string `json:"initialSavepointPath,omitempty"`

	// allowNonRestoredState lets the job start from a savepoint holding state
	// that no operator claims.
	// +optional
	AllowNonRestoredState *bool `json:"allowNonRestoredState,omitempty"`

	// startFromSavepoint starts the job from a Savepoint (by name or uid), a
	// DetachedSavepoint, or a raw path: set one of savepointName, uid or
	// initialSavepointPath. A savepointName that names a DetachedSavepoint is
	// pinned to its uid at admission.
	// +optional
	StartFromSavepoint *StartFromSavepoint `json:"startFromSavepoint,omitempty"`
}

// FlinkApplicationSpec mirrors a Flink Kubernetes Operator FlinkDeployment
// spec; fields it does not know are kept as they are.
// +kubebuilder:pruning:PreserveUnknownFields
// +kubebuilder:validation:XValidation:rule="has(self.computePoolName) == has(oldSelf.computePoolName) && (!has(self.computePoolName) || self.computePoolName == oldSelf.computePoolName)",message="spec.computePoolName is immutable: a job cannot move between compute pools or between a pool and the Flink Kubernetes Operator; create a new FlinkApplication and start it from a savepoint of this one",fieldPath=".computePoolName"
type FlinkApplicationSpec struct {
	// computePoolName runs the job on that ComputePool (a Flink session
	// cluster) in this namespace. When empty, the job runs through the Flink
	// Kubernetes Operator as a FlinkDeployment of the same name.
	// +optional
	ComputePoolName string `json:"computePoolName,omitempty"`

	// image is the Flink image (operator mode).
	// +optional
	Image string `json:"image,omitempty"`

	// flinkVersion is the Flink version of the image, e.g. v2_0 (operator mode).
	// +optional
	FlinkVersion string `json:"flinkVersion,omitempty"`

	// serviceAccount the Flink pods run as (operator mode).
	// +optional
	ServiceAccount string `json:"serviceAccount,omitempty"`

	// flinkConfiguration is Flink configuration, e.g.
	// state.backend.type: rocksdb or execution.checkpointing.savepoint-dir.
	// +optional
	FlinkConfiguration map[string]string `json:"flinkConfiguration,omitempty"`

	// jobManager describes the JobManager processes (operator mode).
	// +optional
	JobManager *ProcessSpec `json:"jobManager,omitempty"`

	// taskManager describes the TaskManager processes (operator mode).
	// +optional
	TaskManager *ProcessSpec `json:"taskManager,omitempty"`

	// job is the Flink job to run.
	// +optional
	Job *JobSpec `json:"job,omitempty"`
}

// FlinkApplicationStatus is what the manager observed of the application.
type FlinkApplicationStatus struct {
	// jobStatus is the application's Flink job.
	// +optional
	JobStatus JobStatus `json:"jobStatus,omitempty"`

	// lifecycleState is the deployment's lifecycle, e.g. DEPLOYED, SUSPENDED.
	// +optional
	LifecycleState string `json:"lifecycleState,omitempty"`

	// error is the last deployment error.
	// +optional
	Error string `json:"error,omitempty"`

	// conditions are the latest observations of the application.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the metadata.generation the status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// operator is what the manager keeps of the application's Flink
	// Kubernetes Operator FlinkDeployment (operator mode).
	// +optional
	Operator *OperatorStatus `json:"operator,omitempty"`
	// Session is the manager's record of running the job on its ComputePool
	// (session mode); empty otherwise.
	// +optional
	Session *SessionStatus `json:"session,omitempty"`
}

// FlinkApplication is a Flink job packaged as a jar, run on a ComputePool or
// through the Flink Kubernetes Operator. Savepoints attach to it.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=fapp,categories=flink
// +kubebuilder:printcolumn:name="Job State",type=string,JSONPath=`.status.jobStatus.state`
// +kubebuilder:printcolumn:name="Compute Pool",type=string,JSONPath=`.spec.computePoolName`
// +kubebuilder:printcolumn:name="Job ID",type=string,JSONPath=`.status.jobStatus.jobId`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type FlinkApplication struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired application.
	// +required
	Spec FlinkApplicationSpec `json:"spec"`

	// status is what the manager observed.
	// +optional
	Status FlinkApplicationStatus `json:"status,omitempty"`
}

// FlinkApplicationList is a list of FlinkApplications.
// +kubebuilder:object:root=true
type FlinkApplicationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []FlinkApplication `json:"items"`
}
