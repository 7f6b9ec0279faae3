package v1

import (
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestSavepointStateTerminal(t *testing.T) {
	for _, tc := range []struct {
		state    SavepointState
		terminal bool
	}{
		{"", false}, {StateTriggerPending, false}, {StateInProgress, false},
		{StateCompleted, true}, {StateFailed, true}, {StateAbandoned, true},
	} {
		assert.Equal(t, tc.terminal, tc.state.Terminal(), "state %q", tc.state)
	}
}

func TestEffectiveState(t *testing.T) {
	assert.Equal(t, StateTriggerPending, (&SavepointStatus{}).EffectiveState())
	assert.Equal(t, StateInProgress, (&SavepointStatus{State: StateInProgress}).EffectiveState())
}

func TestParentKinds(t *testing.T) {
	for _, tc := range []struct {
		kind                                    ParentKind
		resource, noun, field, label, startFrom string
		newParent                               Parent
	}{
		{ParentApplication, "flinkapplications", "application", "spec.application", ApplicationLabel, "spec.job.startFromSavepoint", &FlinkApplication{}},
		{ParentStatement, "statements", "statement", "spec.statement", StatementLabel, "spec.startFromSavepoint", &Statement{}},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			assert.Equal(t, tc.resource, tc.kind.Resource())
			assert.Equal(t, tc.noun, tc.kind.Noun())
			assert.Equal(t, tc.field, tc.kind.SavepointField())
			assert.Equal(t, tc.label, tc.kind.Label())
			assert.Equal(t, tc.startFrom, tc.kind.StartFromField())
			p := tc.kind.NewParent()
			assert.IsType(t, tc.newParent, p)
			assert.Equal(t, tc.kind, p.ParentKind())

			// The accessors read and write the kind's own fields.
			nonce := int64(3)
			ref := &StartFromSavepoint{SavepointName: "nightly"}
			p.SetStartFrom(ref, &nonce)
			assert.Same(t, ref, p.StartFrom())
			assert.Equal(t, &nonce, p.RedeployNonce())
			assert.Nil(t, p.Session())
			p.SessionRecord().Deploys = 2
			assert.Equal(t, int32(2), p.Session().Deploys)
			p.ObservedJob().JobID = "j"
			*p.StatusConditions() = append(*p.StatusConditions(), metav1Condition())
			assert.Len(t, *p.StatusConditions(), 1)
		})
	}
	assert.Nil(t, ParentKind("Other").NewParent())
}

func TestStaysUntilSpecChangesHasTheFinishedJob(t *testing.T) {
	// A bounded job that finishes while `start --wait` waits ends the wait.
	assert.Contains(t, StaysUntilSpecChanges, ReasonJobFinished)
	assert.Contains(t, StaysUntilSpecChanges, ReasonDeployFailed)
	assert.NotContains(t, StaysUntilSpecChanges, ReasonStopFailed, "the manager retries a failed stop by itself")
}

func metav1Condition() metav1.Condition {
	return metav1.Condition{Type: ConditionReady, Status: metav1.ConditionTrue, Reason: ReasonRunning}
}
