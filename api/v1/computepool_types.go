package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ComputePoolSpec says where a running Flink session cluster is reached.
type ComputePoolSpec struct {
	// restURL is the JobManager REST endpoint, e.g. http://flink-jobmanager.flink.svc:8081.
	// +required
	// +kubebuilder:validation:Pattern=`^https?://`
	// +kubebuilder:validation:MaxLength=2048
	RestURL string `json:"restURL"`

	// sqlGatewayURL is the SQL Gateway REST endpoint that runs Statements,
	// e.g. http://flink-sql-gateway.flink.svc:8083.
	// +optional
	// +kubebuilder:validation:Pattern=`^https?://`
	// +kubebuilder:validation:MaxLength=2048
	SQLGatewayURL string `json:"sqlGatewayURL,omitempty"`
}

// ComputePoolStatus is what the manager observed of the cluster.
type ComputePoolStatus struct {
	// flinkVersion is the version the JobManager reports.
	// +optional
	FlinkVersion string `json:"flinkVersion,omitempty"`

	// reachable is true when the JobManager answered the last check.
	// +optional
	Reachable bool `json:"reachable,omitempty"`

	// conditions are the latest observations; Ready says whether jobs can run.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the metadata.generation the status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// ComputePool is a running Flink session cluster that FlinkApplications and
// Statements naming it run their jobs on.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=cpool,categories=flink
// +kubebuilder:printcolumn:name="REST URL",type=string,JSONPath=`.spec.restURL`
// +kubebuilder:printcolumn:name="Reachable",type=boolean,JSONPath=`.status.reachable`
// +kubebuilder:printcolumn:name="Flink",type=string,JSONPath=`.status.flinkVersion`
// +kubebuilder:printcolumn:name="SQL Gateway",type=string,JSONPath=`.spec.sqlGatewayURL`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ComputePool struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec says where the cluster is.
	// +required
	Spec ComputePoolSpec `json:"spec"`

	// status is what the manager observed.
	// +optional
	Status ComputePoolStatus `json:"status,omitempty"`
}

// ComputePoolList is a list of ComputePools.
// +kubebuilder:object:root=true
type ComputePoolList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ComputePool `json:"items"`
}
