package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FormatType is the on-disk format of a savepoint.
// +kubebuilder:validation:Enum=CANONICAL;NATIVE
type FormatType string

const (
	// FormatCanonical is Flink's state-backend independent savepoint format.
	FormatCanonical FormatType = "CANONICAL"
	// FormatNative is the state backend's own format: faster, not portable.
	FormatNative FormatType = "NATIVE"
)

// SavepointState is where a savepoint is in its lifecycle.
// +kubebuilder:validation:Enum=TRIGGER_PENDING;IN_PROGRESS;COMPLETED;FAILED;ABANDONED
type SavepointState string

const (
	// StateTriggerPending: accepted, waiting to be triggered (again, after a failure).
	StateTriggerPending SavepointState = "TRIGGER_PENDING"
	// StateInProgress: Flink is writing the savepoint.
	StateInProgress SavepointState = "IN_PROGRESS"
	// StateCompleted: the savepoint exists at status.path.
	StateCompleted SavepointState = "COMPLETED"
	// StateFailed: the savepoint failed and backoffLimit allows no more retries.
	StateFailed SavepointState = "FAILED"
	// StateAbandoned: given up, because the job went away or a user said so.
	StateAbandoned SavepointState = "ABANDONED"
)

// SavepointOrigin says what made a savepoint.
// +kubebuilder:validation:Enum=MANUAL;UPGRADE;SUSPEND;PERIODIC;IMPORTED
type SavepointOrigin string

const (
	// OriginManual: a user asked for it by creating the Savepoint.
	OriginManual SavepointOrigin = "MANUAL"
	// OriginUpgrade: taken when the parent's job was upgraded, then adopted.
	OriginUpgrade SavepointOrigin = "UPGRADE"
	// OriginSuspend: taken when the parent's job was suspended or stopped, then adopted.
	OriginSuspend SavepointOrigin = "SUSPEND"
	// OriginPeriodic: taken on a schedule, by a SavepointPolicy or by the
	// Flink Kubernetes Operator (then adopted).
	OriginPeriodic SavepointOrigin = "PERIODIC"
	// OriginImported: registered from an existing path.
	OriginImported SavepointOrigin = "IMPORTED"
)

// DefaultBackoffLimit retries a failed savepoint until it succeeds or is abandoned.
const DefaultBackoffLimit int32 = -1

// SavepointSpec is what a user asks for: a savepoint of one parent's job.
// +kubebuilder:validation:XValidation:rule="has(self.application) != has(self.statement)",message="set exactly one of spec.application or spec.statement: the parent whose job the savepoint is taken of"
// +kubebuilder:validation:XValidation:rule="has(oldSelf.application) == has(self.application) && (!has(self.application) || oldSelf.application == self.application)",message="spec.application is immutable: create a new Savepoint for another application",fieldPath=".application"
// +kubebuilder:validation:XValidation:rule="has(oldSelf.statement) == has(self.statement) && (!has(self.statement) || oldSelf.statement == self.statement)",message="spec.statement is immutable: create a new Savepoint for another statement",fieldPath=".statement"
type SavepointSpec struct {
	// application is the name of the FlinkApplication, in this namespace, whose
	// job the savepoint is taken of. Set exactly one of application or statement.
	// Immutable.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Application string `json:"application,omitempty"`

	// statement is the name of the Statement, in this namespace, whose job the
	// savepoint is taken of. Set exactly one of application or statement.
	// Immutable.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Statement string `json:"statement,omitempty"`

	// path is the directory the savepoint is written below, e.g.
	// s3://my-bucket/custom-path/. When left out: the namespace default
	// SavepointPolicy's template path, else the Flink cluster's
	// execution.checkpointing.savepoint-dir.
	// +optional
	Path string `json:"path,omitempty"`

	// formatType is the savepoint format: CANONICAL (portable across state
	// backends) or NATIVE (the state backend's own, faster). A job whose state
	// backend supports only NATIVE (ForSt, async state) cannot take CANONICAL.
	// When left out: the namespace default SavepointPolicy's template, else
	// CANONICAL (filled in at admission; the controller reads empty as CANONICAL).
	// +optional
	FormatType FormatType `json:"formatType,omitempty"`

	// backoffLimit is how many times a failed savepoint is retried: -1 retries
	// until it succeeds or is abandoned, 0 never retries. When left out: the
	// namespace default SavepointPolicy's template, else -1 (filled in at
	// admission; the controller reads a missing value as -1). An attempt
	// whose cluster did not answer before anything was sent counts as failed
	// ("cluster not reachable at <url>"); with -1 the savepoint waits for the
	// cluster instead. A trigger that may have reached Flink is never counted
	// as failed without asking Flink about it.
	// +optional
	// +kubebuilder:validation:Minimum=-1
	BackoffLimit *int32 `json:"backoffLimit,omitempty"`
}

// SavepointStatus is what the controller observed of the savepoint.
type SavepointStatus struct {
	// state is where the savepoint is in its lifecycle: TRIGGER_PENDING,
	// IN_PROGRESS, COMPLETED, FAILED or ABANDONED.
	// +optional
	State SavepointState `json:"state,omitempty"`

	// path is the exact, complete location of the savepoint, set once COMPLETED.
	// +optional
	Path string `json:"path,omitempty"`

	// error is the cause of the last failure, as Flink reported it.
	// +optional
	Error string `json:"error,omitempty"`

	// failures counts the failed attempts so far.
	// +optional
	Failures int32 `json:"failures,omitempty"`

	// triggerId is the trigger ID of the current attempt (32 hexadecimal
	// characters). It is recorded before the trigger is sent, so a retry or a
	// restart asks Flink about the same savepoint instead of taking another.
	// +optional
	TriggerID string `json:"triggerId,omitempty"`

	// nextAttemptTime is when a failed savepoint is triggered again.
	// +optional
	NextAttemptTime *metav1.Time `json:"nextAttemptTime,omitempty"`

	// disposalTriggerId is the JobManager's ID of the disposal of a deleted
	// savepoint's data, while it runs.
	// +optional
	DisposalTriggerID string `json:"disposalTriggerId,omitempty"`

	// triggerTimestamp is when the current attempt was triggered, to the
	// microsecond (polls and the checkpoint-history lookup need the precision).
	// +optional
	TriggerTimestamp *metav1.MicroTime `json:"triggerTimestamp,omitempty"`

	// resultTimestamp is when the savepoint reached COMPLETED, FAILED or ABANDONED.
	// +optional
	ResultTimestamp *metav1.Time `json:"resultTimestamp,omitempty"`

	// jobId is the Flink job the savepoint was taken of.
	// +optional
	JobID string `json:"jobId,omitempty"`

	// origin says what made the savepoint: MANUAL, UPGRADE, SUSPEND, PERIODIC or IMPORTED.
	// +optional
	Origin SavepointOrigin `json:"origin,omitempty"`

	// pendingDeletion is true while a deletion waits for the Flink cluster to
	// dispose the savepoint's data.
	// +optional
	PendingDeletion bool `json:"pendingDeletion,omitempty"`

	// restURL is the JobManager REST endpoint the savepoint was triggered
	// (or adopted) through, recorded with the trigger. The trigger is asked
	// about, and the data disposed, only through it: wherever the parent
	// points later, a deletion never disposes through another cluster.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	RestURL string `json:"restURL,omitempty"`

	// conditions are the latest observations of the savepoint.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the metadata.generation the status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// Savepoint is a savepoint of a FlinkApplication's or a Statement's job: it is
// triggered, tracked and finally disposed with its parent's Flink cluster.
// Its metadata.uid is the UID that startFromSavepoint.uid refers to.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=sp,categories=flink
// +kubebuilder:selectablefield:JSONPath=`.spec.application`
// +kubebuilder:selectablefield:JSONPath=`.spec.statement`
// +kubebuilder:printcolumn:name="State",type=string,JSONPath=`.status.state`
// +kubebuilder:printcolumn:name="Application",type=string,JSONPath=`.spec.application`
// +kubebuilder:printcolumn:name="Statement",type=string,JSONPath=`.spec.statement`
// +kubebuilder:printcolumn:name="Format",type=string,JSONPath=`.spec.formatType`
// +kubebuilder:printcolumn:name="Path",type=string,JSONPath=`.status.path`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Origin",type=string,JSONPath=`.status.origin`,priority=1
// +kubebuilder:printcolumn:name="Failures",type=integer,JSONPath=`.status.failures`,priority=1
// +kubebuilder:printcolumn:name="Error",type=string,JSONPath=`.status.error`,priority=1
type Savepoint struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec says which parent's job to take a savepoint of, and how.
	// +required
	Spec SavepointSpec `json:"spec"`

	// status is the savepoint's lifecycle as the controller observed it.
	// +optional
	Status SavepointStatus `json:"status,omitempty"`
}

// SavepointList is a list of Savepoints.
// +kubebuilder:object:root=true
type SavepointList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Savepoint `json:"items"`
}

// ParentKind is the kind of a savepoint's parent.
type ParentKind string

const (
	// ParentApplication is a FlinkApplication.
	ParentApplication ParentKind = "FlinkApplication"
	// ParentStatement is a Statement.
	ParentStatement ParentKind = "Statement"
)

// Terminal reports whether a savepoint in this state stays in it:
// COMPLETED, FAILED or ABANDONED.
func (s SavepointState) Terminal() bool {
	return s == StateCompleted || s == StateFailed || s == StateAbandoned
}

// EffectiveState is the state, with TRIGGER_PENDING for a savepoint the
// manager has not looked at yet (an empty state).
func (s *SavepointStatus) EffectiveState() SavepointState {
	if s.State == "" {
		return StateTriggerPending
	}
	return s.State
}

// Parent returns the kind and name of the savepoint's parent, or "" and ""
// when spec names none.
func (s *Savepoint) Parent() (ParentKind, string) {
	switch {
	case s.Spec.Application != "":
		return ParentApplication, s.Spec.Application
	case s.Spec.Statement != "":
		return ParentStatement, s.Spec.Statement
	}
	return "", ""
}
