package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Labels and annotations of scheduled savepoints.
const (
	// PolicyLabel names the SavepointPolicy that took a Savepoint.
	PolicyLabel = "cmf.confluent.io/policy"
	// ScheduledTimeAnnotation is the schedule slot (RFC 3339) a policy's
	// Savepoint was taken for; with the policy and the parent it makes the
	// Savepoint's name, so one slot never gets two savepoints.
	ScheduledTimeAnnotation = "cmf.confluent.io/scheduled-time"
	// RunRequestAnnotation on a SavepointPolicy asks for a savepoint of every
	// parent it covers now, as a scheduled run would take it (`kubectl
	// savepoint policy run`). Its value is any token; each new value is one
	// run, recorded in status.lastRunRequest.
	RunRequestAnnotation = "cmf.confluent.io/run-request"
)

// PolicyParents says which parents of its namespace a SavepointPolicy covers.
type PolicyParents struct {
	// applications are FlinkApplications of this namespace, by name.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=1000
	// +kubebuilder:validation:items:MaxLength=253
	Applications []string `json:"applications,omitempty"`

	// statements are Statements of this namespace, by name.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=1000
	// +kubebuilder:validation:items:MaxLength=253
	Statements []string `json:"statements,omitempty"`

	// selector covers every FlinkApplication and Statement of this namespace
	// whose labels match. A parent named in applications or statements of
	// another policy is covered by that one instead (names are more specific).
	// +optional
	Selector *metav1.LabelSelector `json:"selector,omitempty"`
}

// BlackoutWindow is a recurring time in which no scheduled savepoint starts.
type BlackoutWindow struct {
	// schedule is when each window starts: a standard 5-field cron expression
	// (minute hour day-of-month month day-of-week), e.g. "0 9 * * 1-5".
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	Schedule string `json:"schedule"`

	// duration is how long each window lasts, e.g. "8h" or "30m".
	// +required
	Duration metav1.Duration `json:"duration"`

	// timeZone is the IANA time zone the schedule is read in, e.g.
	// "Europe/Berlin"; the policy's timeZone when empty.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	TimeZone string `json:"timeZone,omitempty"`
}

// SavepointTemplate is how the savepoints a policy takes are made.
type SavepointTemplate struct {
	// formatType is CANONICAL or NATIVE; CANONICAL when empty.
	// +optional
	FormatType FormatType `json:"formatType,omitempty"`

	// path is the directory the savepoints are written below; the Flink
	// cluster's execution.checkpointing.savepoint-dir when empty.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	Path string `json:"path,omitempty"`

	// backoffLimit is how many times a failed savepoint is retried: -1 until
	// it succeeds (the default), 0 never.
	// +optional
	// +kubebuilder:validation:Minimum=-1
	BackoffLimit *int32 `json:"backoffLimit,omitempty"`
}

// RetentionOrigin is an origin whose savepoints retention may delete.
// MANUAL and IMPORTED savepoints are never deleted by a policy.
// +kubebuilder:validation:Enum=PERIODIC;UPGRADE;SUSPEND
type RetentionOrigin string

// Retention says which COMPLETED savepoints of a covered parent a policy
// deletes (their data disposed through the normal delete path). Whatever it
// says, a policy never deletes a MANUAL or IMPORTED savepoint, a
// DetachedSavepoint, a savepoint in flight, the newest COMPLETED savepoint of
// a parent, or a restore point.
type Retention struct {
	// keepLast keeps the newest keepLast COMPLETED savepoints of the chosen
	// origins per parent; older ones are deleted.
	// +optional
	// +kubebuilder:validation:Minimum=1
	KeepLast *int32 `json:"keepLast,omitempty"`

	// maxAge deletes COMPLETED savepoints of the chosen origins older than
	// this, e.g. "168h". With keepLast too, a savepoint goes when either says so.
	// +optional
	MaxAge *metav1.Duration `json:"maxAge,omitempty"`

	// origins are the origins whose savepoints retention deletes: PERIODIC
	// (the default), UPGRADE, SUSPEND.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=3
	Origins []RetentionOrigin `json:"origins,omitempty"`
}

// SavepointPolicySpec is a schedule, a retention and defaults for the
// savepoints of some or all parents of a namespace.
// +kubebuilder:validation:XValidation:rule="!has(self.blackoutWindows) || has(self.schedule)",message="spec.blackoutWindows needs spec.schedule: windows only hold back scheduled savepoints",fieldPath=".blackoutWindows"
type SavepointPolicySpec struct {
	// parents are the FlinkApplications and Statements the policy covers.
	// Leave it out to make the policy the namespace default: it covers every
	// parent no other policy covers, and its template is the default for
	// every Savepoint of the namespace that leaves those fields out.
	// +optional
	Parents *PolicyParents `json:"parents,omitempty"`

	// schedule is when savepoints are taken: a standard 5-field cron
	// expression, e.g. "0 2 * * *", or "@every <duration>", e.g. "@every 6h";
	// also @hourly, @daily, @weekly, @monthly. No savepoints are scheduled
	// when empty (the policy may still keep retention and defaults).
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Schedule string `json:"schedule,omitempty"`

	// timeZone is the IANA time zone the schedule is read in, e.g.
	// "Europe/Berlin"; the manager's local time (UTC in its image) when
	// empty. Daylight saving time is handled as Kubernetes CronJobs handle
	// it (the same cron library): a time that does not exist that day is not
	// run, a time that occurs twice runs at both.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	TimeZone string `json:"timeZone,omitempty"`

	// suspend stops scheduling new savepoints (retention still runs).
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// startingDeadline is how late a scheduled savepoint may still start,
	// e.g. after the manager was down or a blackout window ended. A run
	// missed by more is skipped and counted; without it, one missed run is
	// taken late. Only the latest missed run is ever caught up.
	// +optional
	StartingDeadline *metav1.Duration `json:"startingDeadline,omitempty"`

	// jitter spreads the parents' savepoints over this time after each
	// scheduled time: every parent gets its own fixed offset below jitter
	// (derived from the policy and parent names), so many jobs on one
	// schedule do not all take their savepoint at the same second.
	// +optional
	Jitter *metav1.Duration `json:"jitter,omitempty"`

	// blackoutWindows are times in which no scheduled savepoint starts
	// (savepoints in flight finish; manual ones are never held back). A run
	// that falls in a window waits for its end, within startingDeadline.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	BlackoutWindows []BlackoutWindow `json:"blackoutWindows,omitempty"`

	// template says how the policy's savepoints are made.
	// +optional
	Template *SavepointTemplate `json:"template,omitempty"`

	// retention deletes the older savepoints of covered parents, disposing
	// their data. Whatever it says, a policy never deletes a MANUAL or
	// IMPORTED savepoint, a DetachedSavepoint, a savepoint in flight, the
	// newest COMPLETED savepoint of a parent, or a restore point.
	// +optional
	Retention *Retention `json:"retention,omitempty"`
}

// SkipCounts counts scheduled runs that took no savepoint, by reason.
type SkipCounts struct {
	// blackout: the run fell in a blackout window and its deadline passed
	// before the window ended (or the next run came first).
	// +optional
	Blackout int64 `json:"blackout,omitempty"`
	// inFlight: a savepoint of the parent was TRIGGER_PENDING or IN_PROGRESS.
	// +optional
	InFlight int64 `json:"inFlight,omitempty"`
	// notRunning: the parent's job was not RUNNING until the deadline passed
	// (or the next run came first).
	// +optional
	NotRunning int64 `json:"notRunning,omitempty"`
	// missedDeadline: the run was missed (e.g. the manager was down) by more
	// than startingDeadline, or an older missed run was superseded.
	// +optional
	MissedDeadline int64 `json:"missedDeadline,omitempty"`
}

// PolicyParentStatus is a policy's schedule for one parent it covers.
type PolicyParentStatus struct {
	// kind is FlinkApplication or Statement.
	Kind ParentKind `json:"kind"`
	// name is the parent's name.
	Name string `json:"name"`
	// lastScheduleTime is the latest scheduled time handled (taken or skipped).
	// +optional
	LastScheduleTime *metav1.Time `json:"lastScheduleTime,omitempty"`
	// nextScheduleTime is when the next savepoint is due, jitter included.
	// +optional
	NextScheduleTime *metav1.Time `json:"nextScheduleTime,omitempty"`
	// waiting says why the due run has not started yet: Blackout or NotRunning.
	// +optional
	Waiting string `json:"waiting,omitempty"`
	// lastSavepoint is the name of the newest Savepoint the policy took.
	// +optional
	LastSavepoint string `json:"lastSavepoint,omitempty"`
	// lastSuccessfulSavepoint is the newest COMPLETED Savepoint of the parent
	// (of any origin): the state it can be restored to.
	// +optional
	LastSuccessfulSavepoint string `json:"lastSuccessfulSavepoint,omitempty"`
	// lastSuccessTime is when lastSuccessfulSavepoint completed.
	// +optional
	LastSuccessTime *metav1.Time `json:"lastSuccessTime,omitempty"`
	// runs counts the savepoints the policy took of the parent.
	// +optional
	Runs int64 `json:"runs,omitempty"`
	// skipped counts the scheduled runs that took no savepoint, by reason.
	// +optional
	Skipped SkipCounts `json:"skipped,omitempty"`
	// retentionDeletions counts the savepoints retention deleted.
	// +optional
	RetentionDeletions int64 `json:"retentionDeletions,omitempty"`
}

// SavepointPolicyStatus is what the manager observed and did.
type SavepointPolicyStatus struct {
	// parents are the parents the policy applies to (it is their most
	// specific policy), each with its schedule.
	// +optional
	// +listType=map
	// +listMapKey=kind
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=10000
	Parents []PolicyParentStatus `json:"parents,omitempty"`

	// parentCount is the number of parents the policy applies to.
	// +optional
	ParentCount int32 `json:"parentCount,omitempty"`

	// lastSuccessTime is the oldest of the covered parents' newest COMPLETED
	// savepoint times: every covered parent has a good savepoint at least
	// this recent. Empty while a covered parent has none.
	// +optional
	LastSuccessTime *metav1.Time `json:"lastSuccessTime,omitempty"`

	// nextScheduleTime is the earliest next run among the covered parents.
	// +optional
	NextScheduleTime *metav1.Time `json:"nextScheduleTime,omitempty"`

	// lastRunRequest is the last run-request annotation value carried out.
	// +optional
	LastRunRequest string `json:"lastRunRequest,omitempty"`

	// conditions are the latest observations: Ready (the schedule is valid
	// and running), Conflict (another policy is as specific for a parent).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the metadata.generation the status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// SavepointPolicy takes savepoints of some or all parents of its namespace
// on a schedule, deletes the older ones, and gives defaults to every
// Savepoint of the namespace (when it covers the whole namespace).
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=spp,categories=flink
// +kubebuilder:printcolumn:name="Schedule",type=string,JSONPath=`.spec.schedule`
// +kubebuilder:printcolumn:name="Suspended",type=boolean,JSONPath=`.spec.suspend`
// +kubebuilder:printcolumn:name="Parents",type=integer,JSONPath=`.status.parentCount`
// +kubebuilder:printcolumn:name="Last Success",type=date,JSONPath=`.status.lastSuccessTime`
// +kubebuilder:printcolumn:name="Next",type=string,JSONPath=`.status.nextScheduleTime`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type SavepointPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec says what the policy covers, when it takes savepoints and which it keeps.
	// +required
	Spec SavepointPolicySpec `json:"spec"`

	// status is what the manager observed and did.
	// +optional
	Status SavepointPolicyStatus `json:"status,omitempty"`
}

// SavepointPolicyList is a list of SavepointPolicies.
// +kubebuilder:object:root=true
type SavepointPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SavepointPolicy `json:"items"`
}

// NamespaceDefault reports whether the policy covers its whole namespace.
func (p *SavepointPolicy) NamespaceDefault() bool {
	return p.Spec.Parents == nil ||
		(len(p.Spec.Parents.Applications) == 0 && len(p.Spec.Parents.Statements) == 0 && p.Spec.Parents.Selector == nil)
}

// RetentionOrigins are the origins retention deletes: PERIODIC by default.
func (r *Retention) RetentionOrigins() []SavepointOrigin {
	if len(r.Origins) == 0 {
		return []SavepointOrigin{OriginPeriodic}
	}
	out := make([]SavepointOrigin, len(r.Origins))
	for i, o := range r.Origins {
		out[i] = SavepointOrigin(o)
	}
	return out
}
