package flinkharness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"time"
)

// A few JobManager REST calls that tests need to set the scene. They are deliberately
// plain: the product's own client lives in package flink and is what tests exercise.

// UploadJar uploads the cluster's own jar through POST /jars/upload and returns the jar
// id for /jars/{id}/run (with entryClass StatefulJobEntryClass).
func (c *Cluster) UploadJar(ctx context.Context) (string, error) {
	jar, err := os.Open(c.JarPath)
	if err != nil {
		return "", err
	}
	defer jar.Close()

	body, writer := io.Pipe()
	form := multipart.NewWriter(writer)
	go func() {
		part, err := form.CreateFormFile("jarfile", path.Base(c.JarPath))
		if err == nil {
			_, err = io.Copy(part, jar)
		}
		if err == nil {
			err = form.Close()
		}
		writer.CloseWithError(err)
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.RESTURL+"/jars/upload", body)
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", form.FormDataContentType())
	var answer struct {
		Filename string `json:"filename"`
		Status   string `json:"status"`
	}
	if err := doJSON(req, &answer); err != nil {
		return "", fmt.Errorf("upload %s: %w", c.JarPath, err)
	}
	return path.Base(answer.Filename), nil
}

// WaitUntilJobRunning polls the live GET /jobs/overview until every task of jobID runs:
// only then does a savepoint trigger succeed. It fails at once if the job ends.
func (c *Cluster) WaitUntilJobRunning(ctx context.Context, jobID string) error {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.RESTURL+"/jobs/overview", nil)
		if err != nil {
			return err
		}
		var overview struct {
			Jobs []struct {
				ID    string `json:"jid"`
				State string `json:"state"`
				Tasks struct {
					Running int `json:"running"`
					Total   int `json:"total"`
				} `json:"tasks"`
			} `json:"jobs"`
		}
		if err := doJSON(req, &overview); err != nil {
			return fmt.Errorf("wait for job %s: %w", jobID, err)
		}
		for _, job := range overview.Jobs {
			if job.ID != jobID {
				continue
			}
			switch {
			case job.State == "RUNNING" && job.Tasks.Total > 0 && job.Tasks.Running == job.Tasks.Total:
				return nil
			case job.State == "FAILED" || job.State == "CANCELED" || job.State == "FINISHED":
				return fmt.Errorf("job %s ended %s", jobID, job.State)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for job %s to run: %w", jobID, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// doJSON sends req and decodes a 2xx answer into into.
func doJSON(req *http.Request, into any) error {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", req.Method, req.URL.Path, resp.Status, bytes.TrimSpace(body))
	}
	return json.Unmarshal(body, into)
}

// MaxCount returns the stateful job's gauge maxCount, the highest per-key
// count its counter reached (the largest over its subtasks), and whether the
// gauge was reported yet. A job restored from a savepoint starts from the
// counts it carried; a fresh one from 1. The JobManager fetches metrics every
// metrics.fetcher.update-interval (10 s by default; set it lower in
// Options.FlinkConfig for tests that read it).
func (c *Cluster) MaxCount(ctx context.Context, jobID string) (int64, bool, error) {
	get := func(path string, into any) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.RESTURL+path, nil)
		if err != nil {
			return err
		}
		return doJSON(req, into)
	}
	var job struct {
		Vertices []struct {
			ID string `json:"id"`
		} `json:"vertices"`
	}
	if err := get("/jobs/"+jobID, &job); err != nil {
		return 0, false, err
	}
	for _, v := range job.Vertices {
		base := "/jobs/" + jobID + "/vertices/" + v.ID + "/subtasks/metrics"
		var names []struct {
			ID string `json:"id"`
		}
		if err := get(base, &names); err != nil {
			return 0, false, err
		}
		for _, n := range names {
			if n.ID != "maxCount" && !strings.HasSuffix(n.ID, ".maxCount") {
				continue
			}
			var values []struct {
				Max float64 `json:"max"`
			}
			if err := get(base+"?get="+url.QueryEscape(n.ID), &values); err != nil {
				return 0, false, err
			}
			if len(values) == 0 {
				return 0, false, nil
			}
			return int64(values[0].Max), true, nil
		}
	}
	return 0, false, nil
}
