package flink_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/flinkharness"
)

// BenchmarkSavepointRoundTrip measures trigger → COMPLETED of a savepoint of
// a small stateful job on a real Flink, polling every 5ms.
func BenchmarkSavepointRoundTrip(b *testing.B) {
	ctx := context.Background()
	cluster := flinkharness.Start(ctx, b, flinkharness.Options{JobName: "bench"})
	client, err := flink.New(cluster.RESTURL, flink.Options{})
	require.NoError(b, err)
	dir := b.TempDir()

	b.Run("savepoint", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			trigger := flink.TriggerIDFor(b.Name(), strconv.Itoa(i))
			_, err := client.TriggerSavepoint(ctx, cluster.JobID, flink.SavepointRequest{TriggerID: trigger, TargetDirectory: dir})
			require.NoError(b, err)
			for {
				op, err := client.SavepointStatus(ctx, cluster.JobID, trigger)
				require.NoError(b, err)
				if op.State == flink.OperationCompleted {
					require.True(b, op.Succeeded(), "%v", op.Failure)
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
	})
}
