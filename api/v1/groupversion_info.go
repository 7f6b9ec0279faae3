// Package v1 holds the cmf.confluent.io/v1 API: Flink savepoints (attached and
// detached) and the parents they belong to (FlinkApplication, Statement) and
// run on (ComputePool). Types and defaulting helpers only; no logic.
//
// +kubebuilder:object:generate=true
// +groupName=cmf.confluent.io
package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of every kind in this package.
	GroupVersion = schema.GroupVersion{Group: "cmf.confluent.io", Version: "v1"}

	schemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds this package's kinds to a runtime.Scheme.
	AddToScheme = schemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&Savepoint{}, &SavepointList{},
		&DetachedSavepoint{}, &DetachedSavepointList{},
		&FlinkApplication{}, &FlinkApplicationList{},
		&Statement{}, &StatementList{},
		&ComputePool{}, &ComputePoolList{},
		&SavepointPolicy{}, &SavepointPolicyList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
