package flink_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/flinkharness"
)

// TestSQLGatewayContract runs SQL through a real SQL Gateway: an INSERT
// becomes a running job named by pipeline.name; a bad statement fails with
// its cause.
func TestSQLGatewayContract(t *testing.T) {
	ctx := context.Background()
	cluster := flinkharness.Start(ctx, t, flinkharness.Options{SQLGateway: true})
	gw, err := flink.NewSQLGateway(cluster.SQLGatewayURL, flink.Options{})
	require.NoError(t, err)
	jm := newClient(t, cluster.RESTURL)

	session, err := gw.OpenSession(ctx, map[string]string{"execution.runtime-mode": "streaming"})
	require.NoError(t, err)
	defer func() { assert.NoError(t, gw.CloseSession(ctx, session)) }()
	for _, ddl := range []string{
		"CREATE TEMPORARY TABLE clicks (region STRING, n BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '10', 'fields.region.length' = '2')",
		"CREATE TEMPORARY TABLE sink (region STRING, total BIGINT) WITH ('connector' = 'blackhole')",
	} {
		_, err := gw.Run(ctx, session, ddl, nil)
		require.NoError(t, err, ddl)
	}
	result, err := gw.Run(ctx, session, "INSERT INTO sink SELECT region, SUM(n) FROM clicks GROUP BY region",
		map[string]string{"pipeline.name": "clicks-per-region"})
	require.NoError(t, err)
	assert.Regexp(t, `^[0-9a-f]{32}$`, result.JobID)

	job, err := jm.Job(ctx, result.JobID)
	require.NoError(t, err)
	assert.Equal(t, "clicks-per-region", job.Name, "pipeline.name names the job")

	_, err = gw.Run(ctx, session, "INSERT INTO missing SELECT 1", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing")
	assert.NotContains(t, err.Error(), "\n")
}
