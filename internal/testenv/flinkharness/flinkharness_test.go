package flinkharness_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/flinkharness"
)

// TestStartWithJob proves the cluster a test gets: the stateful job running with all its
// tasks, the jar runnable through /jars/upload + /jars/{id}/run, and a savepoint of it
// restorable into a second cluster.
func TestStartWithJob(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cluster := flinkharness.Start(ctx, t, flinkharness.Options{
		JobName:      "harness-job",
		SavepointDir: t.TempDir(),
		Parallelism:  2,
	})

	require.Regexp(t, `^[0-9a-f]{32}$`, cluster.JobID)
	require.Regexp(t, `^2\.\d+\.\d+$`, cluster.FlinkVersion)
	job := findJob(t, cluster.RESTURL, cluster.JobID)
	require.Equal(t, "harness-job", job.Name)
	require.Equal(t, "RUNNING", job.State)
	require.Positive(t, job.Tasks.Total)
	require.Equal(t, job.Tasks.Total, job.Tasks.Running, "a savepoint needs every task running")

	jarID, err := cluster.UploadJar(ctx)
	require.NoError(t, err)
	var run struct {
		JobID string `json:"jobid"`
	}
	postJSON(t, cluster.RESTURL+"/jars/"+jarID+"/run", map[string]any{
		"entryClass":      flinkharness.StatefulJobEntryClass,
		"programArgsList": []string{"--job-name", "uploaded-job"},
	}, &run)
	require.Regexp(t, `^[0-9a-f]{32}$`, run.JobID)
	require.NoError(t, cluster.WaitUntilJobRunning(ctx, run.JobID))
	require.Equal(t, "uploaded-job", findJob(t, cluster.RESTURL, run.JobID).Name)

	savepoint := takeSavepoint(t, cluster.RESTURL, cluster.JobID)
	restored := flinkharness.Start(ctx, t, flinkharness.Options{
		JobName:               "restored-job",
		RestoreFrom:           savepoint,
		Variant:               flinkharness.JobVariantWithoutCounter,
		AllowNonRestoredState: true,
	})
	var checkpoints struct {
		Latest struct {
			Restored struct {
				ExternalPath string `json:"external_path"`
			} `json:"restored"`
		} `json:"latest"`
	}
	getJSON(t, restored.RESTURL+"/jobs/"+restored.JobID+"/checkpoints", &checkpoints)
	require.Equal(t, savepoint, checkpoints.Latest.Restored.ExternalPath)
}

// TestStartWithSQLGateway proves the embedded SQL Gateway answers, and that Stop ends
// the JVM and may be called twice.
func TestStartWithSQLGateway(t *testing.T) {
	t.Parallel()
	cluster := flinkharness.Start(t.Context(), t, flinkharness.Options{SQLGateway: true})

	require.Empty(t, cluster.JobID)
	require.Regexp(t, `^http://127\.0\.0\.1:\d+$`, cluster.SQLGatewayURL)
	var session struct {
		SessionHandle string `json:"sessionHandle"`
	}
	postJSON(t, cluster.SQLGatewayURL+"/v4/sessions", map[string]any{}, &session)
	require.NotEmpty(t, session.SessionHandle)

	require.NoError(t, cluster.Stop())
	require.NoError(t, cluster.Stop())
	select {
	case <-cluster.Exited():
	default:
		t.Fatal("the JVM still runs after Stop")
	}
	_, err := http.Get(cluster.RESTURL + "/overview")
	require.Error(t, err, "the REST API still answers after Stop")
}

type overviewJob struct {
	ID    string `json:"jid"`
	Name  string `json:"name"`
	State string `json:"state"`
	Tasks struct {
		Running int `json:"running"`
		Total   int `json:"total"`
	} `json:"tasks"`
}

func findJob(t *testing.T, restURL, jobID string) overviewJob {
	t.Helper()
	var overview struct {
		Jobs []overviewJob `json:"jobs"`
	}
	getJSON(t, restURL+"/jobs/overview", &overview)
	for _, job := range overview.Jobs {
		if job.ID == jobID {
			return job
		}
	}
	t.Fatalf("job %s not in /jobs/overview: %+v", jobID, overview.Jobs)
	return overviewJob{}
}

// takeSavepoint triggers a savepoint into the cluster's default directory and returns
// its location once COMPLETED.
func takeSavepoint(t *testing.T, restURL, jobID string) string {
	t.Helper()
	var trigger struct {
		RequestID string `json:"request-id"`
	}
	postJSON(t, restURL+"/jobs/"+jobID+"/savepoints", map[string]any{}, &trigger)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for ctx.Err() == nil {
		var status struct {
			Status struct {
				ID string `json:"id"`
			} `json:"status"`
			Operation struct {
				Location     string         `json:"location"`
				FailureCause map[string]any `json:"failure-cause"`
			} `json:"operation"`
		}
		getJSON(t, restURL+"/jobs/"+jobID+"/savepoints/"+trigger.RequestID, &status)
		if status.Status.ID == "COMPLETED" {
			require.Nil(t, status.Operation.FailureCause)
			require.NotEmpty(t, status.Operation.Location)
			return status.Operation.Location
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("savepoint of %s not completed within a minute", jobID)
	return ""
}

func getJSON(t *testing.T, url string, into any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s", url)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(into))
}

func postJSON(t *testing.T, url string, body, into any) {
	t.Helper()
	payload, err := json.Marshal(body)
	require.NoError(t, err)
	resp, err := http.Post(url, "application/json", bytes.NewReader(payload))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Contains(t, []int{http.StatusOK, http.StatusAccepted}, resp.StatusCode, "POST %s", url)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(into))
}
