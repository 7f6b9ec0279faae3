package flink_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/flinkharness"
)

// TestContractJars proves against the real Flink what session mode relies
// on: upload, a run under a caller-chosen job ID that is idempotent, a run
// restored from a savepoint (and what it reports as restored), and the
// errors of a bad class, a bad path, unmapped state and a vanished jar.
func TestContractJars(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Flink")
	}
	ctx := context.Background()
	cluster := flinkharness.Start(ctx, t, flinkharness.Options{SavepointDir: t.TempDir()})
	c := newClient(t, cluster.RESTURL)

	jar, err := c.UploadJar(ctx, cluster.JarPath)
	require.NoError(t, err)
	ids, err := c.JarIDs(ctx)
	require.NoError(t, err)
	assert.Contains(t, ids, jar, "GET /jars lists the upload")

	run := func(jobID, name, savepoint string, extra ...string) (string, error) {
		return c.RunJar(ctx, jar, flink.RunRequest{
			EntryClass: flinkharness.StatefulJobEntryClass, Args: append([]string{"--job-name", name}, extra...),
			Parallelism: 1, JobID: jobID, SavepointPath: savepoint,
		})
	}

	first := flink.TriggerIDFor("jars", "first")
	t.Run("a run under a chosen job ID is idempotent", func(t *testing.T) {
		got, err := run(first, "jars-first", "")
		require.NoError(t, err)
		assert.Equal(t, first, got, "the job gets the ID the caller chose")
		require.NoError(t, cluster.WaitUntilJobRunning(ctx, first))

		_, err = run(first, "jars-first", "")
		require.ErrorIs(t, err, flink.ErrDuplicateJob)
		jobs, err := c.JobsOverview(ctx)
		require.NoError(t, err)
		running := 0
		for _, j := range jobs {
			if j.Name == "jars-first" {
				running++
			}
		}
		assert.Equal(t, 1, running, "the second run started nothing")
	})

	var path string
	t.Run("a run from a stop's savepoint reports it as restored", func(t *testing.T) {
		trigger := flink.TriggerIDFor("jars", "stop")
		_, err := c.StopWithSavepoint(ctx, first, flink.StopRequest{TriggerID: trigger})
		require.NoError(t, err)
		op := pollSavepoint(t, c, first, trigger)
		require.True(t, op.Succeeded(), "%v", op.Failure)
		path = op.Location

		second := flink.TriggerIDFor("jars", "second")
		_, err = run(second, "jars-second", path)
		require.NoError(t, err)
		require.NoError(t, cluster.WaitUntilJobRunning(ctx, second))
		waitFor(t, 30*time.Second, 200*time.Millisecond, func() (bool, error) {
			stats, err := c.Checkpoints(ctx, second)
			if err != nil {
				return false, err
			}
			return stats.Latest.Restored != nil && stats.Latest.Restored.ExternalPath == path, nil
		})
		require.NoError(t, c.CancelJob(ctx, second))
	})

	t.Run("errors", func(t *testing.T) {
		_, err := c.RunJar(ctx, jar, flink.RunRequest{EntryClass: "com.example.Missing", JobID: flink.TriggerIDFor("jars", "missing-class")})
		require.ErrorIs(t, err, flink.ErrBadRequest)
		assert.Contains(t, err.Error(), "com.example.Missing")
		assert.NotContains(t, err.Error(), "\n", "one line")

		_, err = run(flink.TriggerIDFor("jars", "bad-path"), "jars-bad-path", "file:/nowhere/savepoint-000000-000000000000")
		require.ErrorIs(t, err, flink.ErrSavepointNotFound)
		assert.True(t, flink.Permanent(err))
		assert.Contains(t, err.Error(), "/nowhere/savepoint-000000-000000000000")
		assert.NotContains(t, err.Error(), "\n", "one line")

		_, err = run(flink.TriggerIDFor("jars", "unmapped"), "jars-unmapped", path, "--variant", string(flinkharness.JobVariantWithoutCounter))
		require.ErrorIs(t, err, flink.ErrBadRequest, "state that maps to no operator is refused")
		assert.Contains(t, err.Error(), "allowNonRestoredState")

		_, err = c.RunJar(ctx, "0000-missing.jar", flink.RunRequest{EntryClass: flinkharness.StatefulJobEntryClass})
		require.ErrorIs(t, err, flink.ErrJarNotFound)

		_, err = run("not-hex", "jars-bad-id", "")
		require.ErrorIs(t, err, flink.ErrBadRequest, "a bad job ID is refused before sending")
	})
}

// TestUploadJarAnswers: the upload's answer is capped and read like any
// other, and the upload has a timeout of its own.
func TestUploadJarAnswers(t *testing.T) {
	ctx := context.Background()
	jar := writeJar(t)
	t.Run("a 10 MiB answer", func(t *testing.T) {
		srv := answer(t, http.StatusOK, `{"filename":"`+strings.Repeat("x", 10<<20)+`"}`)
		c, err := flink.New(srv.URL, flink.Options{})
		require.NoError(t, err)
		_, err = c.UploadJar(ctx, jar)
		require.ErrorIs(t, err, flink.ErrResponseTooLarge)
		assert.Equal(t, "upload jar job.jar: the answer is larger than 4194304 bytes, the most this client reads", err.Error())
	})
	t.Run("an HTML error page", func(t *testing.T) {
		srv := answer(t, http.StatusInternalServerError, "<html>"+secret+"</html>")
		c, err := flink.New(srv.URL, flink.Options{})
		require.NoError(t, err)
		_, err = c.UploadJar(ctx, jar)
		assert.EqualError(t, err, "HTTP 500 from upload jar job.jar")
	})
	t.Run("a server that never answers", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
		defer srv.Close()
		defer close(release)
		c, err := flink.New(srv.URL, flink.Options{UploadTimeout: 200 * time.Millisecond})
		require.NoError(t, err)
		start := time.Now()
		_, err = c.UploadJar(ctx, jar)
		require.ErrorIs(t, err, flink.ErrUnreachable)
		assert.Less(t, time.Since(start), 5*time.Second)
	})
}
