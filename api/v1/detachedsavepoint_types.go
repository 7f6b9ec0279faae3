package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DetachedSavepointSource records the attached savepoint a detach came from.
// +kubebuilder:validation:XValidation:rule="has(self.uid)",message="spec.source.uid is required: the metadata.uid of the Savepoint to detach, so that a savepoint replaced under the same name is never detached (kubectl savepoint detach sets it)",fieldPath=".uid"
type DetachedSavepointSource struct {
	// namespace of the attached Savepoint.
	// +kubebuilder:validation:MinLength=1
	Namespace string `json:"namespace"`

	// application is the FlinkApplication the savepoint was attached to.
	// Only an application's savepoints can be detached.
	// +kubebuilder:validation:MinLength=1
	Application string `json:"application"`

	// savepointName is the name of the attached Savepoint.
	// +kubebuilder:validation:MinLength=1
	SavepointName string `json:"savepointName"`

	// uid is the metadata.uid of the attached Savepoint. Required: a
	// savepoint replaced under the same name is not the one detached.
	// +kubebuilder:validation:MinLength=1
	UID string `json:"uid,omitempty"`
}

// DetachedSavepointSpec registers a savepoint that no parent owns.
//
// spec.source is fixed at creation: a transition rule on the field itself is
// skipped when the old object has none, so this rule on the parent struct
// also refuses adding one later (which would make the manager remove the
// named Savepoint as if detached).
// +kubebuilder:validation:XValidation:rule="has(self.source) == has(oldSelf.source) && (!has(self.source) || self.source == oldSelf.source)",message="spec.source cannot be added, removed or changed after creation: a detach is the creation of a DetachedSavepoint with a source (kubectl savepoint detach)",fieldPath=".source"
type DetachedSavepointSpec struct {
	// path is the exact, complete location of the savepoint, e.g.
	// s3://flink/stateful-flink/savepoints/savepoint-1a2b3c-4d5e6f7a8b9c.
	// Immutable.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.path is immutable: import the other path as a new DetachedSavepoint"
	Path string `json:"path"`

	// source is set when the savepoint was detached from an application's
	// attached Savepoint: creating a DetachedSavepoint with a source detaches
	// that Savepoint (it is then removed without disposing its data). Set
	// only at creation; it cannot be added, removed or changed later.
	// +optional
	Source *DetachedSavepointSource `json:"source,omitempty"`
}

// DetachedSavepointStatus is always COMPLETED: a detached savepoint only
// points at data that exists.
type DetachedSavepointStatus struct {
	// state is always COMPLETED.
	// +optional
	// +kubebuilder:default=COMPLETED
	State SavepointState `json:"state,omitempty"`

	// origin is IMPORTED for a registered path; a detach keeps the origin of
	// the attached savepoint.
	// +optional
	Origin SavepointOrigin `json:"origin,omitempty"`

	// conditions are the latest observations of the detached savepoint.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// DetachedSavepoint is a savepoint that belongs to no parent: imported from a
// path, or detached from an application before the application goes. Its name
// is unique across all namespaces. Deleting it never touches the data.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=dsp,categories=flink
// +kubebuilder:printcolumn:name="State",type=string,JSONPath=`.status.state`
// +kubebuilder:printcolumn:name="Path",type=string,JSONPath=`.spec.path`
// +kubebuilder:printcolumn:name="Source",type=string,JSONPath=`.spec.source.application`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type DetachedSavepoint struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec says where the savepoint is and where it came from.
	// +required
	Spec DetachedSavepointSpec `json:"spec"`

	// status of a detached savepoint: always COMPLETED.
	// +optional
	// +kubebuilder:default={state: COMPLETED}
	Status DetachedSavepointStatus `json:"status,omitempty"`
}

// DetachedSavepointList is a list of DetachedSavepoints.
// +kubebuilder:object:root=true
type DetachedSavepointList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DetachedSavepoint `json:"items"`
}
