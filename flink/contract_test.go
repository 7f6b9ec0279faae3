package flink_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/flinkharness"
)

// -record rewrites testdata/recorded/ with the real Flink's answers, which the
// decoding unit tests and the fuzz corpus read.
var record = flag.Bool("record", false, "write the real Flink's answers to testdata/recorded")

// TestContract proves the client against a real Flink session cluster: every
// field name, every answer shape and every trap of FLINK-FACTS.md that the
// controller relies on.
func TestContract(t *testing.T) {
	if testing.Short() {
		t.Skip("contract test: needs a real Flink; run it with `make test`")
	}
	ctx := context.Background()
	defaultDir := t.TempDir()
	cluster := flinkharness.Start(ctx, t, flinkharness.Options{JobName: "contract", SavepointDir: defaultDir})
	client := newClient(t, cluster.RESTURL)
	job := cluster.JobID

	t.Run("cluster info and job lookups", func(t *testing.T) {
		info, err := client.Info(ctx)
		require.NoError(t, err)
		assert.Equal(t, cluster.FlinkVersion, info.FlinkVersion)
		capture(t, "config", "GET", cluster.RESTURL+"/config", "")
		capture(t, "jobs-overview", "GET", cluster.RESTURL+"/jobs/overview", "")

		jobs, err := client.JobsOverview(ctx)
		require.NoError(t, err)
		require.Len(t, jobs, 1)
		assert.Equal(t, job, jobs[0].ID)
		assert.Equal(t, "contract", jobs[0].Name)
		assert.True(t, jobs[0].AllTasksRunning())

		state, err := client.JobState(ctx, job)
		require.NoError(t, err)
		assert.Equal(t, "RUNNING", state)

		config, err := client.JobManagerConfig(ctx)
		require.NoError(t, err)
		assert.Equal(t, defaultDir, filepath.Clean(flinkharness.LocalPath(config["execution.checkpointing.savepoint-dir"])))

		_, err = client.JobState(ctx, "00000000000000000000000000000000")
		assert.ErrorIs(t, err, flink.ErrJobNotFound)
		capture(t, "job-status-unknown", "GET", cluster.RESTURL+"/jobs/00000000000000000000000000000000/status", "")
		capture(t, "job-status-running", "GET", cluster.RESTURL+"/jobs/"+job+"/status", "")
		capture(t, "job-details-running", "GET", cluster.RESTURL+"/jobs/"+job, "")
		_, err = client.Job(ctx, "00000000000000000000000000000000")
		assert.ErrorIs(t, err, flink.ErrJobNotFound)
		capture(t, "job-details-unknown", "GET", cluster.RESTURL+"/jobs/00000000000000000000000000000000", "")

		// A trigger Flink forgot is looked for in the job's history; a job
		// it does not know has none.
		_, err = client.Checkpoints(ctx, "00000000000000000000000000000000")
		assert.ErrorIs(t, err, flink.ErrJobNotFound)
		capture(t, "checkpoints-unknown-job", "GET", cluster.RESTURL+"/jobs/00000000000000000000000000000000/checkpoints", "")
	})

	t.Run("CANONICAL and NATIVE savepoints complete with _metadata at the location", func(t *testing.T) {
		for _, format := range []flink.Format{flink.FormatCanonical, flink.FormatNative} {
			dir := t.TempDir()
			op := takeSavepoint(t, client, job, flink.SavepointRequest{
				TriggerID: flink.TriggerIDFor(t.Name(), string(format)), TargetDirectory: dir, Format: format,
			})
			require.True(t, op.Succeeded(), "failure: %v", op.Failure)
			assert.True(t, strings.HasPrefix(op.Location, "file:"+dir+"/savepoint-"), op.Location)
			assert.FileExists(t, filepath.Join(flinkharness.LocalPath(op.Location), "_metadata"))
		}
	})

	t.Run("no target directory uses the cluster's default", func(t *testing.T) {
		op := takeSavepoint(t, client, job, flink.SavepointRequest{TriggerID: flink.TriggerIDFor(t.Name())})
		require.True(t, op.Succeeded(), "failure: %v", op.Failure)
		assert.True(t, strings.HasPrefix(flinkharness.LocalPath(op.Location), defaultDir+"/savepoint-"), op.Location)
	})

	t.Run("a misspelt field is ignored silently, so ours must be spelt as Flink reads them", func(t *testing.T) {
		// camelCase targetDirectory is the stop endpoint's spelling; the
		// savepoint endpoint ignores it and writes to the default directory.
		wanted := t.TempDir()
		trigger := flink.TriggerIDFor(t.Name())
		body := `{"targetDirectory":"` + wanted + `","triggerId":"` + trigger + `"}`
		status, _ := raw(t, "POST", cluster.RESTURL+"/jobs/"+job+"/savepoints", body)
		require.Equal(t, http.StatusAccepted, status)
		op := pollSavepoint(t, client, job, trigger)
		require.True(t, op.Succeeded())
		assert.True(t, strings.HasPrefix(flinkharness.LocalPath(op.Location), defaultDir), "misspelt target ignored: %s", op.Location)
		entries, _ := os.ReadDir(wanted)
		assert.Empty(t, entries)
	})

	t.Run("the same trigger ID twice takes exactly one savepoint", func(t *testing.T) {
		dir := t.TempDir()
		req := flink.SavepointRequest{TriggerID: flink.TriggerIDFor(t.Name()), TargetDirectory: dir}
		first, err := client.TriggerSavepoint(ctx, job, req)
		require.NoError(t, err)
		second, err := client.TriggerSavepoint(ctx, job, req)
		require.NoError(t, err)
		assert.Equal(t, first, second)
		op := pollSavepoint(t, client, job, req.TriggerID)
		require.True(t, op.Succeeded())
		capture(t, "savepoint-status-completed", "GET", cluster.RESTURL+"/jobs/"+job+"/savepoints/"+req.TriggerID, "")

		// Once completed, a repeat still answers from the cache.
		_, err = client.TriggerSavepoint(ctx, job, req)
		require.NoError(t, err)
		again := pollSavepoint(t, client, job, req.TriggerID)
		assert.Equal(t, op.Location, again.Location)
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Len(t, entries, 1, "one savepoint directory")
	})

	t.Run("a trigger is accepted with 202 and is IN_PROGRESS until it completes", func(t *testing.T) {
		dir := t.TempDir()
		// A savepoint takes tens of milliseconds here: the status asked right
		// after the trigger catches it IN_PROGRESS on most tries.
		for i := 0; ; i++ {
			trigger := flink.TriggerIDFor(t.Name(), strconv.Itoa(i))
			status, _ := capture(t, "savepoint-trigger-accepted", "POST", cluster.RESTURL+"/jobs/"+job+"/savepoints",
				`{"target-directory":"`+dir+`","triggerId":"`+trigger+`"}`)
			require.Equal(t, http.StatusAccepted, status)
			status, data := raw(t, "GET", cluster.RESTURL+"/jobs/"+job+"/savepoints/"+trigger, "")
			if bytes.Contains(data, []byte(`"IN_PROGRESS"`)) {
				keep(t, "savepoint-status-in-progress", status, data)
				op, err := client.SavepointStatus(ctx, job, trigger)
				require.NoError(t, err)
				assert.True(t, op.State == flink.OperationInProgress || op.Succeeded(), "state %s, failure %v", op.State, op.Failure)
				break
			}
			require.Less(t, i, 20, "no status IN_PROGRESS caught in 20 triggers: %s", data)
		}
	})

	t.Run("the checkpoint history lists a savepoint, for a trigger Flink has forgotten", func(t *testing.T) {
		since := time.Now().Add(-time.Second).UnixMilli()
		op := takeSavepoint(t, client, job, flink.SavepointRequest{TriggerID: flink.TriggerIDFor(t.Name()), TargetDirectory: t.TempDir()})
		require.True(t, op.Succeeded())
		// GET /jobs/{id}/checkpoints is cached for web.refresh-interval.
		waitFor(t, 20*time.Second, 250*time.Millisecond, func() (bool, error) {
			stats, err := client.Checkpoints(ctx, job)
			if err != nil {
				return false, err
			}
			for _, sp := range stats.SavepointsSince(since) {
				if sp.ExternalPath == op.Location {
					return true, nil
				}
			}
			return false, nil
		})
		capture(t, "checkpoints", "GET", cluster.RESTURL+"/jobs/"+job+"/checkpoints", "")
	})

	t.Run("an unknown trigger is ErrTriggerNotFound", func(t *testing.T) {
		unknown := flink.TriggerIDFor(t.Name())
		_, err := client.SavepointStatus(ctx, job, unknown)
		require.ErrorIs(t, err, flink.ErrTriggerNotFound)
		capture(t, "savepoint-status-unknown-trigger", "GET", cluster.RESTURL+"/jobs/"+job+"/savepoints/"+unknown, "")
	})

	t.Run("a trigger for an unknown job is accepted, then fails with ErrJobNotFound", func(t *testing.T) {
		unknownJob := "0123456789abcdef0123456789abcdef"
		trigger := flink.TriggerIDFor(t.Name())
		_, err := client.TriggerSavepoint(ctx, unknownJob, flink.SavepointRequest{TriggerID: trigger, TargetDirectory: t.TempDir()})
		require.NoError(t, err, "Flink answers 202 even for an unknown job")
		op := pollSavepoint(t, client, unknownJob, trigger)
		require.Error(t, op.Failure, "COMPLETED carries the failure")
		assert.ErrorIs(t, op.Failure, flink.ErrJobNotFound)
		assert.True(t, flink.Permanent(op.Failure))
		capture(t, "savepoint-status-job-not-found", "GET", cluster.RESTURL+"/jobs/"+unknownJob+"/savepoints/"+trigger, "")
	})

	t.Run("a bad trigger ID is refused before it is sent", func(t *testing.T) {
		_, err := client.TriggerSavepoint(ctx, job, flink.SavepointRequest{TriggerID: "my-savepoint"})
		assert.ErrorIs(t, err, flink.ErrBadRequest)
		status, _ := capture(t, "savepoint-trigger-bad-trigger-id", "POST", cluster.RESTURL+"/jobs/"+job+"/savepoints", `{"triggerId":"my-savepoint"}`)
		assert.Equal(t, http.StatusBadRequest, status, "Flink itself refuses it too")
	})

	t.Run("disposal removes the savepoint; a second disposal is ErrSavepointNotFound", func(t *testing.T) {
		op := takeSavepoint(t, client, job, flink.SavepointRequest{TriggerID: flink.TriggerIDFor(t.Name()), TargetDirectory: t.TempDir()})
		require.True(t, op.Succeeded())
		require.DirExists(t, flinkharness.LocalPath(op.Location))

		disposal, trigger := dispose(t, client, op.Location)
		require.True(t, disposal.Succeeded(), "failure: %v", disposal.Failure)
		assert.NoDirExists(t, flinkharness.LocalPath(op.Location))
		capture(t, "savepoint-disposal-completed", "GET", cluster.RESTURL+"/savepoint-disposal/"+trigger, "")

		status, _ := capture(t, "savepoint-disposal-accepted", "POST", cluster.RESTURL+"/savepoint-disposal", `{"savepoint-path":"`+op.Location+`"}`)
		assert.Equal(t, http.StatusOK, status, "a disposal is answered 200, not 202")
		unknown := flink.TriggerIDFor(t.Name(), "unknown")
		_, err := client.DisposalStatus(ctx, unknown)
		assert.ErrorIs(t, err, flink.ErrTriggerNotFound)
		capture(t, "savepoint-disposal-unknown-trigger", "GET", cluster.RESTURL+"/savepoint-disposal/"+unknown, "")

		again, trigger := dispose(t, client, op.Location)
		capture(t, "savepoint-disposal-missing-path", "GET", cluster.RESTURL+"/savepoint-disposal/"+trigger, "")
		require.Error(t, again.Failure)
		assert.ErrorIs(t, again.Failure, flink.ErrSavepointNotFound)
		assert.Contains(t, again.Failure.Error(), "Cannot find checkpoint or savepoint")
	})

	t.Run("a request through a proxy that fails twice with 503 succeeds on retry", func(t *testing.T) {
		var failures atomic.Int32
		target, _ := url.Parse(cluster.RESTURL)
		forward := httputil.NewSingleHostReverseProxy(target)
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if failures.Add(1) <= 2 {
				http.Error(w, `{"errors":["injected"]}`, http.StatusServiceUnavailable)
				return
			}
			forward.ServeHTTP(w, r)
		}))
		defer proxy.Close()
		retrying, err := flink.New(proxy.URL, flink.Options{Retries: 2, RetryWait: 10 * time.Millisecond})
		require.NoError(t, err)
		trigger := flink.TriggerIDFor(t.Name())
		_, err = retrying.TriggerSavepoint(ctx, job, flink.SavepointRequest{TriggerID: trigger, TargetDirectory: t.TempDir()})
		require.NoError(t, err)
		assert.Equal(t, int32(3), failures.Load())
		assert.True(t, pollSavepoint(t, client, job, trigger).Succeeded())

		failures.Store(0)
		noRetry, err := flink.New(proxy.URL, flink.Options{Retries: -1})
		require.NoError(t, err)
		_, err = noRetry.JobsOverview(ctx)
		assert.ErrorIs(t, err, flink.ErrUnreachable, "a 503 is the cluster not serving")
	})

	t.Run("stop with a savepoint leaves a savepoint and a finished job", func(t *testing.T) {
		dir := t.TempDir()
		trigger := flink.TriggerIDFor(t.Name())
		_, err := client.StopWithSavepoint(ctx, job, flink.StopRequest{TriggerID: trigger, TargetDirectory: dir})
		require.NoError(t, err)
		op := pollSavepoint(t, client, job, trigger)
		require.True(t, op.Succeeded(), "failure: %v", op.Failure)
		assert.FileExists(t, filepath.Join(flinkharness.LocalPath(op.Location), "_metadata"))
		waitFor(t, 20*time.Second, 50*time.Millisecond, func() (bool, error) {
			state, err := client.JobState(ctx, job)
			return state == "FINISHED", err
		})
		capture(t, "job-status-finished", "GET", cluster.RESTURL+"/jobs/"+job+"/status", "")
		// GET /jobs/{id} is cached for web.refresh-interval: wait for its end-time.
		waitFor(t, 20*time.Second, 100*time.Millisecond, func() (bool, error) {
			details, err := client.Job(ctx, job)
			return err == nil && details.State == "FINISHED" && details.EndTime > 0, err
		})
		capture(t, "job-details-finished", "GET", cluster.RESTURL+"/jobs/"+job, "")
		// A stop of a job that ended is accepted too; its status fails.
		status, _ := capture(t, "stop-accepted", "POST", cluster.RESTURL+"/jobs/"+job+"/stop",
			`{"targetDirectory":"`+dir+`","triggerId":"`+flink.TriggerIDFor(t.Name(), "again")+`"}`)
		assert.Equal(t, http.StatusAccepted, status)

		// A savepoint of a job that no longer runs fails; the kind says so.
		late := flink.TriggerIDFor(t.Name(), "late")
		_, err = client.TriggerSavepoint(ctx, job, flink.SavepointRequest{TriggerID: late, TargetDirectory: dir})
		require.NoError(t, err)
		lateOp := pollSavepoint(t, client, job, late)
		require.Error(t, lateOp.Failure)
		t.Logf("savepoint of a finished job: %v", lateOp.Failure)
		capture(t, "savepoint-status-job-finished", "GET", cluster.RESTURL+"/jobs/"+job+"/savepoints/"+late, "")
	})
}

// TestContractJobNotRunning proves the failure of a savepoint of a job whose
// tasks do not all run: a job needing more slots than the cluster has stays
// scheduled, deterministically.
func TestContractJobNotRunning(t *testing.T) {
	if testing.Short() {
		t.Skip("contract test: needs a real Flink; run it with `make test`")
	}
	ctx := context.Background()
	cluster := flinkharness.Start(ctx, t, flinkharness.Options{Slots: 1})
	client := newClient(t, cluster.RESTURL)
	jarID, err := cluster.UploadJar(ctx)
	require.NoError(t, err)
	status, body := raw(t, "POST", cluster.RESTURL+"/jars/"+jarID+"/run",
		`{"entryClass":"`+flinkharness.StatefulJobEntryClass+`","programArgsList":["--job-name","starved"],"parallelism":4}`)
	require.Equal(t, http.StatusOK, status, string(body))

	var runID struct {
		JobID string `json:"jobid"`
	}
	require.NoError(t, json.Unmarshal(body, &runID), string(body))
	jobs, err := client.JobsOverview(ctx)
	require.NoError(t, err)
	i := slices.IndexFunc(jobs, func(j flink.JobOverview) bool { return j.ID == runID.JobID })
	require.GreaterOrEqual(t, i, 0, "the job run is listed: %+v", jobs)
	job := jobs[i]
	assert.False(t, job.AllTasksRunning(), "4 parallel tasks cannot run in 1 slot")
	trigger := flink.TriggerIDFor(t.Name())
	_, err = client.TriggerSavepoint(ctx, job.ID, flink.SavepointRequest{TriggerID: trigger, TargetDirectory: t.TempDir()})
	require.NoError(t, err)
	op := pollSavepoint(t, client, job.ID, trigger)
	require.Error(t, op.Failure)
	assert.ErrorIs(t, op.Failure, flink.ErrJobNotRunning)
	assert.False(t, flink.Permanent(op.Failure), "worth retrying once the tasks run")
	capture(t, "savepoint-status-tasks-not-running", "GET", cluster.RESTURL+"/jobs/"+job.ID+"/savepoints/"+trigger, "")
}

// TestContractWithoutDefaultDirectory covers a cluster with no
// execution.checkpointing.savepoint-dir, a job restored from a savepoint, a
// trigger result that expires, and a cluster that went away.
func TestContractWithoutDefaultDirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("contract test: needs a real Flink; run it with `make test`")
	}
	ctx := context.Background()

	// A savepoint to restore from, taken on a first cluster.
	first := flinkharness.Start(ctx, t, flinkharness.Options{JobName: "origin"})
	origin := newClient(t, first.RESTURL)
	sp := takeSavepoint(t, origin, first.JobID, flink.SavepointRequest{TriggerID: flink.TriggerIDFor(t.Name()), TargetDirectory: t.TempDir()})
	require.True(t, sp.Succeeded(), "failure: %v", sp.Failure)
	require.NoError(t, first.Stop())

	t.Run("a stopped cluster is ErrUnreachable, quickly", func(t *testing.T) {
		start := time.Now()
		_, err := origin.JobsOverview(ctx)
		require.ErrorIs(t, err, flink.ErrUnreachable)
		assert.Less(t, time.Since(start), 3*time.Second, "two quick retries, then the answer")
	})

	cluster := flinkharness.Start(ctx, t, flinkharness.Options{
		JobName: "restored", RestoreFrom: flinkharness.LocalPath(sp.Location), AsyncStoreDuration: 2 * time.Second,
	})
	client := newClient(t, cluster.RESTURL)

	t.Run("a job restored from a savepoint reports that path", func(t *testing.T) {
		waitFor(t, 20*time.Second, 250*time.Millisecond, func() (bool, error) {
			stats, err := client.Checkpoints(ctx, cluster.JobID)
			if err != nil {
				return false, err
			}
			restored := stats.Latest.Restored
			return restored != nil && restored.IsSavepoint && flinkharness.LocalPath(restored.ExternalPath) == flinkharness.LocalPath(sp.Location), nil
		})
	})

	t.Run("no target directory and no default is ErrNoSavepointDirectory", func(t *testing.T) {
		_, err := client.TriggerSavepoint(ctx, cluster.JobID, flink.SavepointRequest{TriggerID: flink.TriggerIDFor(t.Name())})
		require.ErrorIs(t, err, flink.ErrNoSavepointDirectory)
		assert.True(t, flink.Permanent(err))
		assert.Contains(t, err.Error(), "execution.checkpointing.savepoint-dir")
		capture(t, "savepoint-trigger-no-directory", "POST", cluster.RESTURL+"/jobs/"+cluster.JobID+"/savepoints",
			`{"triggerId":"`+flink.TriggerIDFor(t.Name(), "raw")+`"}`)
	})

	t.Run("a trigger result expires after rest.async.store-duration", func(t *testing.T) {
		trigger := flink.TriggerIDFor(t.Name())
		dir := t.TempDir()
		op := takeSavepoint(t, client, cluster.JobID, flink.SavepointRequest{TriggerID: trigger, TargetDirectory: dir})
		require.True(t, op.Succeeded())
		// The JobManager forgets the trigger.
		waitFor(t, 30*time.Second, 250*time.Millisecond, func() (bool, error) {
			_, err := client.SavepointStatus(ctx, cluster.JobID, trigger)
			if errors.Is(err, flink.ErrTriggerNotFound) {
				return true, nil
			}
			return false, err
		})

		// Repeating the trigger now would take a SECOND savepoint: that is why
		// the controller looks in the checkpoint history first.
		_, err := client.TriggerSavepoint(ctx, cluster.JobID, flink.SavepointRequest{TriggerID: trigger, TargetDirectory: dir})
		require.NoError(t, err)
		second := pollSavepoint(t, client, cluster.JobID, trigger)
		require.True(t, second.Succeeded())
		assert.NotEqual(t, op.Location, second.Location)
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Len(t, entries, 2, "an expired trigger ID no longer deduplicates")
	})
}

func newClient(t *testing.T, restURL string) *flink.Client {
	t.Helper()
	c, err := flink.New(restURL, flink.Options{RetryWait: 20 * time.Millisecond})
	require.NoError(t, err)
	return c
}

func takeSavepoint(t *testing.T, c *flink.Client, job string, req flink.SavepointRequest) *flink.Operation {
	t.Helper()
	triggerID, err := c.TriggerSavepoint(context.Background(), job, req)
	require.NoError(t, err)
	require.Equal(t, req.TriggerID, triggerID, "Flink echoes the caller's trigger ID")
	return pollSavepoint(t, c, job, triggerID)
}

func pollSavepoint(t *testing.T, c *flink.Client, job, triggerID string) *flink.Operation {
	t.Helper()
	var op *flink.Operation
	waitFor(t, 60*time.Second, 20*time.Millisecond, func() (bool, error) {
		var err error
		op, err = c.SavepointStatus(context.Background(), job, triggerID)
		return err == nil && op.State == flink.OperationCompleted, err
	})
	return op
}

func dispose(t *testing.T, c *flink.Client, path string) (*flink.Operation, string) {
	t.Helper()
	ctx := context.Background()
	triggerID, err := c.DisposeSavepoint(ctx, path)
	require.NoError(t, err)
	var op *flink.Operation
	waitFor(t, 30*time.Second, 20*time.Millisecond, func() (bool, error) {
		op, err = c.DisposalStatus(ctx, triggerID)
		return err == nil && op.State == flink.OperationCompleted, err
	})
	return op, triggerID
}

// waitFor polls check on the test's goroutine until it reports done, fails
// the test at check's first error, and gives up after timeout.
func waitFor(t *testing.T, timeout, interval time.Duration, check func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		done, err := check()
		require.NoError(t, err)
		if done {
			return
		}
		require.True(t, time.Now().Before(deadline), "still not done after %s", timeout)
		time.Sleep(interval)
	}
}

// raw sends one request as it is and returns the status and body.
func raw(t *testing.T, method, url, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, buf.Bytes()
}

// capture sends one request as it is and, with -record, keeps the answer
// under testdata/recorded/<name>.json, its HTTP status in <name>.status.
func capture(t *testing.T, name, method, url, body string) (int, []byte) {
	t.Helper()
	status, data := raw(t, method, url, body)
	keep(t, name, status, data)
	return status, data
}

// keep writes an answer under testdata/recorded/ with -record.
func keep(t *testing.T, name string, status int, data []byte) {
	t.Helper()
	if *record {
		dir := filepath.Join("testdata", "recorded")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name+".json"), data, 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name+".status"), []byte(strconv.Itoa(status)+"\n"), 0o644))
	}
}
