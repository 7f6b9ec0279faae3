package flinkop

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
)

func TestPickFromHistory(t *testing.T) {
	at := time.UnixMilli(1_000_000)
	savepoint := func(ms int64, path string) flink.Checkpoint {
		return flink.Checkpoint{IsSavepoint: true, Status: "COMPLETED", TriggerTimestamp: ms, ExternalPath: path}
	}
	// Newest first, as Flink lists it.
	history := &flink.CheckpointStats{History: []flink.Checkpoint{
		savepoint(1_003_000, "file:/sp/other/savepoint-c"),
		savepoint(1_002_000, "file:/sp/mine/savepoint-b"),
		{Status: "COMPLETED", TriggerTimestamp: 1_001_500, ExternalPath: "file:/checkpoints/chk-9"},
		savepoint(1_001_000, "file:/sp/mine/savepoint-a"),
		savepoint(999_500, "file:/sp/mine/savepoint-skewed"),
		savepoint(990_000, "file:/sp/mine/savepoint-old"),
		{IsSavepoint: true, Status: "FAILED", TriggerTimestamp: 1_004_000, ExternalPath: "file:/sp/mine/savepoint-failed"},
	}}

	tests := []struct {
		name  string
		query historyQuery
		want  string
	}{
		{"the earliest at or after the trigger", historyQuery{Since: at, Dir: "/sp/mine"}, "file:/sp/mine/savepoint-a"},
		{"one held by another Savepoint is skipped", historyQuery{Since: at, Dir: "file:///sp/mine", Held: []string{"file:/sp/mine/savepoint-a"}}, "file:/sp/mine/savepoint-b"},
		{"all held since the trigger: the one within the clock skew", historyQuery{Since: at, Dir: "/sp/mine/", Held: []string{"/sp/mine/savepoint-b", "file:/sp/mine/savepoint-a"}}, "file:/sp/mine/savepoint-skewed"},
		{"before the skew is never ours", historyQuery{Since: at, Dir: "/sp/mine/", Held: []string{"/sp/mine/savepoint-b", "file:/sp/mine/savepoint-a", "file:/sp/mine/savepoint-skewed"}}, ""},
		{"another directory is not ours", historyQuery{Since: at.Add(4500 * time.Millisecond), Dir: "/sp/mine"}, ""},
		{"no directory: any", historyQuery{Since: at.Add(4500 * time.Millisecond)}, "file:/sp/other/savepoint-c"},
		{"a directory that is only a prefix of a name does not match", historyQuery{Since: at, Dir: "/sp/min"}, ""},
		{"nothing since the trigger", historyQuery{Since: at.Add(10 * time.Second)}, ""},
		{"checkpoints and failed savepoints never count", historyQuery{Since: at.Add(5500 * time.Millisecond)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := pickFromHistory(history, tt.query)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.want != "", ok)
		})
	}
}
