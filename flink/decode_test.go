package flink

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorded returns an answer the real Flink gave in the contract tests
// (go test ./flink -run TestContract -record rewrites them).
func recorded(t testing.TB, name string) (int, []byte) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "recorded", name+".json"))
	require.NoError(t, err)
	statusText, err := os.ReadFile(filepath.Join("testdata", "recorded", name+".status"))
	require.NoError(t, err)
	status, err := strconv.Atoi(strings.TrimSpace(string(statusText)))
	require.NoError(t, err)
	return status, data
}

func TestDecodeRecordedOperations(t *testing.T) {
	tests := []struct {
		name        string
		wantState   OperationState
		wantSuccess bool
		wantKind    error
		wantMessage string
		wantPrefix  string
	}{
		{name: "savepoint-status-completed", wantState: OperationCompleted, wantSuccess: true, wantPrefix: "file:/"},
		{name: "savepoint-disposal-completed", wantState: OperationCompleted, wantSuccess: true},
		{
			name: "savepoint-status-job-not-found", wantState: OperationCompleted, wantKind: ErrJobNotFound,
			wantMessage: "org.apache.flink.runtime.messages.FlinkJobNotFoundException: Could not find Flink job",
		},
		{
			name: "savepoint-status-job-finished", wantState: OperationCompleted, wantKind: ErrJobNotFound,
			wantMessage: "FlinkJobNotFoundException",
		},
		{
			name: "savepoint-status-tasks-not-running", wantState: OperationCompleted, wantKind: ErrJobNotRunning,
			wantMessage: "Not all required tasks are currently running",
		},
		{
			name: "savepoint-disposal-missing-path", wantState: OperationCompleted, wantKind: ErrSavepointNotFound,
			wantMessage: "Cannot find checkpoint or savepoint",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, data := recorded(t, tt.name)
			var answer operationAnswer
			require.NoError(t, decodeAnswer("op", status, data, nil, &answer))
			op := answer.operation("op")
			assert.Equal(t, tt.wantState, op.State)
			assert.Equal(t, tt.wantSuccess, op.Succeeded())
			assert.True(t, strings.HasPrefix(op.Location, tt.wantPrefix), op.Location)
			if tt.wantKind == nil {
				assert.NoError(t, op.Failure)
				return
			}
			require.ErrorIs(t, op.Failure, tt.wantKind)
			assert.Contains(t, op.Failure.Error(), tt.wantMessage)
			assert.NotContains(t, op.Failure.Error(), "\n", "one line: the root cause, not the stack trace")
		})
	}
}

func TestDecodeRecordedErrors(t *testing.T) {
	tests := []struct {
		name        string
		wantKind    error
		wantMessage string
	}{
		{"savepoint-trigger-no-directory", ErrNoSavepointDirectory, "Config key [execution.checkpointing.savepoint-dir] is not set"},
		{"savepoint-status-unknown-trigger", ErrTriggerNotFound, "There is no savepoint operation with triggerId="},
		{"job-status-unknown", ErrJobNotFound, "FlinkJobNotFoundException: Could not find Flink job (00000000000000000000000000000000)"},
		{"savepoint-trigger-bad-trigger-id", ErrBadRequest, `NumberFormatException: For input string: "my" under radix 16`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, data := recorded(t, tt.name)
			err := decodeAnswer("op", status, data, nil, nil)
			require.ErrorIs(t, err, tt.wantKind)
			assert.Contains(t, err.Error(), tt.wantMessage)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
}

func TestDecodeRecordedDocuments(t *testing.T) {
	t.Run("config", func(t *testing.T) {
		status, data := recorded(t, "config")
		var info ClusterInfo
		require.NoError(t, decodeAnswer("op", status, data, nil, &info))
		assert.Equal(t, "2.3.0", info.FlinkVersion)
		assert.Positive(t, info.RefreshInterval)
	})
	t.Run("jobs overview", func(t *testing.T) {
		status, data := recorded(t, "jobs-overview")
		var answer struct {
			Jobs []JobOverview `json:"jobs"`
		}
		require.NoError(t, decodeAnswer("op", status, data, nil, &answer))
		require.NotEmpty(t, answer.Jobs)
		job := answer.Jobs[0]
		assert.Regexp(t, `^[0-9a-f]{32}$`, job.ID)
		assert.Equal(t, "contract", job.Name)
		assert.True(t, job.AllTasksRunning())
	})
	t.Run("checkpoints", func(t *testing.T) {
		status, data := recorded(t, "checkpoints")
		var stats CheckpointStats
		require.NoError(t, decodeAnswer("op", status, data, nil, &stats))
		savepoints := stats.SavepointsSince(0)
		require.NotEmpty(t, savepoints)
		for _, sp := range savepoints {
			assert.True(t, strings.HasPrefix(sp.ExternalPath, "file:/"), sp.ExternalPath)
			assert.Positive(t, sp.TriggerTimestamp)
		}
		require.NotNil(t, stats.Latest.Savepoint)
		assert.Equal(t, savepoints[0].ExternalPath, stats.Latest.Savepoint.ExternalPath, "history is newest first")
	})
}

// FuzzDecodeOperation feeds arbitrary bytes to the status decoder: it never
// panics, and a COMPLETED answer is either a success or a one-line failure.
func FuzzDecodeOperation(f *testing.F) {
	for _, name := range []string{
		"savepoint-status-completed", "savepoint-status-job-not-found", "savepoint-disposal-missing-path",
		"savepoint-disposal-completed", "savepoint-status-unknown-trigger", "savepoint-trigger-no-directory",
	} {
		status, data := recorded(f, name)
		f.Add(status, data)
	}
	f.Add(200, []byte(`{"status":{"id":"COMPLETED"},"operation":{"failure-cause":{}}}`))
	f.Add(500, []byte(`{"errors":[]}`))
	f.Fuzz(func(t *testing.T, status int, data []byte) {
		var answer operationAnswer
		err := decodeAnswer("op", status, data, nil, &answer)
		if err != nil {
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.NotContains(t, e.Message, "\n")
			return
		}
		op := answer.operation("op")
		if op.Failure != nil {
			assert.False(t, op.Succeeded())
			assert.NotContains(t, op.Failure.Error(), "\n")
		}
	})
}
