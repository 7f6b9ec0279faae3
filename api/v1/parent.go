package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Parent is a savepoint's parent, a FlinkApplication or a Statement: the
// per-kind answers in one place. Accessors only.
//
// +kubebuilder:object:generate=false
type Parent interface {
	metav1.Object
	runtime.Object
	// ParentKind is FlinkApplication or Statement.
	ParentKind() ParentKind
	// ComputePool is spec.computePoolName: empty for an application run
	// through the Flink Kubernetes Operator.
	ComputePool() string
	// StartFrom is the spec's startFromSavepoint.
	StartFrom() *StartFromSavepoint
	// RedeployNonce is the spec's savepointRedeployNonce.
	RedeployNonce() *int64
	// SetStartFrom sets startFromSavepoint and savepointRedeployNonce.
	SetStartFrom(ref *StartFromSavepoint, nonce *int64)
	// FlinkConfigurations are the Flink settings of the spec, most specific
	// last: an application's flinkConfiguration; a statement's
	// flinkConfiguration, then its properties.
	FlinkConfigurations() []map[string]string
	// ObservedJob is status.jobStatus.
	ObservedJob() *JobStatus
	// Phase is an application's status.lifecycleState, a statement's status.phase.
	Phase() string
	// StatusConditions are status.conditions.
	StatusConditions() *[]metav1.Condition
	// Session is status.session (session mode); nil before the first record.
	Session() *SessionStatus
	// SessionRecord is status.session, made empty first when there is none.
	SessionRecord() *SessionStatus
}

var (
	_ Parent = &FlinkApplication{}
	_ Parent = &Statement{}
)

// ParentKinds are the kinds a savepoint can be attached to.
var ParentKinds = []ParentKind{ParentApplication, ParentStatement}

// NewParent returns an empty object of the kind; nil for an unknown kind.
func (k ParentKind) NewParent() Parent {
	switch k {
	case ParentApplication:
		return &FlinkApplication{}
	case ParentStatement:
		return &Statement{}
	}
	return nil
}

// Resource is the kind's API resource, e.g. flinkapplications.
func (k ParentKind) Resource() string {
	if k == ParentStatement {
		return "statements"
	}
	return "flinkapplications"
}

// Noun is how a sentence, a flag and a printed reference name the kind:
// application or statement.
func (k ParentKind) Noun() string {
	if k == ParentStatement {
		return "statement"
	}
	return "application"
}

// SavepointField is the Savepoint field that names a parent of the kind.
func (k ParentKind) SavepointField() string {
	return "spec." + k.Noun()
}

// Label is the label naming a parent of the kind on its Savepoints.
func (k ParentKind) Label() string {
	if k == ParentStatement {
		return StatementLabel
	}
	return ApplicationLabel
}

// StartFromField is the path of the kind's startFromSavepoint.
func (k ParentKind) StartFromField() string {
	if k == ParentStatement {
		return "spec.startFromSavepoint"
	}
	return "spec.job.startFromSavepoint"
}

// ParentKind implements Parent.
func (a *FlinkApplication) ParentKind() ParentKind { return ParentApplication }

// ComputePool implements Parent.
func (a *FlinkApplication) ComputePool() string { return a.Spec.ComputePoolName }

// StartFrom implements Parent.
func (a *FlinkApplication) StartFrom() *StartFromSavepoint {
	if a.Spec.Job == nil {
		return nil
	}
	return a.Spec.Job.StartFromSavepoint
}

// RedeployNonce implements Parent.
func (a *FlinkApplication) RedeployNonce() *int64 {
	if a.Spec.Job == nil {
		return nil
	}
	return a.Spec.Job.SavepointRedeployNonce
}

// SetStartFrom implements Parent.
func (a *FlinkApplication) SetStartFrom(ref *StartFromSavepoint, nonce *int64) {
	if a.Spec.Job == nil {
		a.Spec.Job = &JobSpec{}
	}
	a.Spec.Job.StartFromSavepoint, a.Spec.Job.SavepointRedeployNonce = ref, nonce
}

// FlinkConfigurations implements Parent.
func (a *FlinkApplication) FlinkConfigurations() []map[string]string {
	return []map[string]string{a.Spec.FlinkConfiguration}
}

// ObservedJob implements Parent.
func (a *FlinkApplication) ObservedJob() *JobStatus { return &a.Status.JobStatus }

// Phase implements Parent.
func (a *FlinkApplication) Phase() string { return a.Status.LifecycleState }

// StatusConditions implements Parent.
func (a *FlinkApplication) StatusConditions() *[]metav1.Condition { return &a.Status.Conditions }

// Session implements Parent.
func (a *FlinkApplication) Session() *SessionStatus { return a.Status.Session }

// SessionRecord implements Parent.
func (a *FlinkApplication) SessionRecord() *SessionStatus {
	if a.Status.Session == nil {
		a.Status.Session = &SessionStatus{}
	}
	return a.Status.Session
}

// ParentKind implements Parent.
func (s *Statement) ParentKind() ParentKind { return ParentStatement }

// ComputePool implements Parent.
func (s *Statement) ComputePool() string { return s.Spec.ComputePoolName }

// StartFrom implements Parent.
func (s *Statement) StartFrom() *StartFromSavepoint { return s.Spec.StartFromSavepoint }

// RedeployNonce implements Parent.
func (s *Statement) RedeployNonce() *int64 { return s.Spec.SavepointRedeployNonce }

// SetStartFrom implements Parent.
func (s *Statement) SetStartFrom(ref *StartFromSavepoint, nonce *int64) {
	s.Spec.StartFromSavepoint, s.Spec.SavepointRedeployNonce = ref, nonce
}

// FlinkConfigurations implements Parent.
func (s *Statement) FlinkConfigurations() []map[string]string {
	return []map[string]string{s.Spec.FlinkConfiguration, s.Spec.Properties}
}

// ObservedJob implements Parent.
func (s *Statement) ObservedJob() *JobStatus { return &s.Status.JobStatus }

// Phase implements Parent.
func (s *Statement) Phase() string { return s.Status.Phase }

// StatusConditions implements Parent.
func (s *Statement) StatusConditions() *[]metav1.Condition { return &s.Status.Conditions }

// Session implements Parent.
func (s *Statement) Session() *SessionStatus { return s.Status.Session }

// SessionRecord implements Parent.
func (s *Statement) SessionRecord() *SessionStatus {
	if s.Status.Session == nil {
		s.Status.Session = &SessionStatus{}
	}
	return s.Status.Session
}
