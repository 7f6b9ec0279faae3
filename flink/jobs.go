package flink

import (
	"context"
)

// JobOverview is one job of GET /jobs/overview, which is live (not cached).
type JobOverview struct {
	ID        string     `json:"jid"`
	Name      string     `json:"name"`
	State     string     `json:"state"`
	StartTime int64      `json:"start-time"`
	EndTime   int64      `json:"end-time"`
	Tasks     TaskCounts `json:"tasks"`
}

// TaskCounts counts a job's tasks by state.
type TaskCounts struct {
	Total    int `json:"total"`
	Running  int `json:"running"`
	Finished int `json:"finished"`
	Canceled int `json:"canceled"`
	Failed   int `json:"failed"`
}

// AllTasksRunning reports whether a savepoint can be triggered: the job is
// RUNNING and so is every task (RUNNING alone is not enough: a trigger before
// all tasks run fails with "Not all required tasks are currently running").
func (j *JobOverview) AllTasksRunning() bool {
	return j.State == "RUNNING" && j.Tasks.Total > 0 && j.Tasks.Running == j.Tasks.Total
}

// JobsOverview lists every job the JobManager knows, running or not.
func (c *Client) JobsOverview(ctx context.Context) ([]JobOverview, error) {
	var answer struct {
		Jobs []JobOverview `json:"jobs"`
	}
	if err := c.do(ctx, "list jobs", "GET", "/jobs/overview", nil, &answer); err != nil {
		return nil, err
	}
	return answer.Jobs, nil
}

// JobEnded reports whether a job state is final: the job runs no more and no
// savepoint can be taken of it.
func JobEnded(state string) bool {
	switch state {
	case "FINISHED", "CANCELED", "FAILED", "SUSPENDED":
		return true
	}
	return false
}

// JobDetails is GET /jobs/{id} (cached for web.refresh-interval).
type JobDetails struct {
	ID        string `json:"jid"`
	Name      string `json:"name"`
	State     string `json:"state"`
	StartTime int64  `json:"start-time"`
	EndTime   int64  `json:"end-time"`
}

// Job returns the details of one job, or ErrJobNotFound.
func (c *Client) Job(ctx context.Context, jobID string) (*JobDetails, error) {
	var answer JobDetails
	if err := c.do(ctx, "get job "+jobID, "GET", "/jobs/"+escape(jobID), nil, &answer); err != nil {
		return nil, notFoundAs(err, ErrJobNotFound)
	}
	return &answer, nil
}

// JobState returns the live state of one job (GET /jobs/{id}/status), or ErrJobNotFound.
func (c *Client) JobState(ctx context.Context, jobID string) (string, error) {
	var answer struct {
		Status string `json:"status"`
	}
	if err := c.do(ctx, "get state of job "+jobID, "GET", "/jobs/"+escape(jobID)+"/status", nil, &answer); err != nil {
		return "", notFoundAs(err, ErrJobNotFound)
	}
	return answer.Status, nil
}

// CancelJob cancels a job without a savepoint.
func (c *Client) CancelJob(ctx context.Context, jobID string) error {
	err := c.do(ctx, "cancel job "+jobID, "PATCH", "/jobs/"+escape(jobID)+"?mode=cancel", nil, nil)
	return notFoundAs(err, ErrJobNotFound)
}

// CheckpointStats is GET /jobs/{id}/checkpoints (cached for web.refresh-interval).
type CheckpointStats struct {
	Latest struct {
		Completed *Checkpoint `json:"completed"`
		Savepoint *Checkpoint `json:"savepoint"`
		Restored  *Restored   `json:"restored"`
	} `json:"latest"`
	// History holds the most recent checkpoints and savepoints, newest first
	// (web.checkpoints.history, 10 by default).
	History []Checkpoint `json:"history"`
}

// Checkpoint is one checkpoint or savepoint of a job.
type Checkpoint struct {
	ID               int64  `json:"id"`
	Status           string `json:"status"`
	IsSavepoint      bool   `json:"is_savepoint"`
	CheckpointType   string `json:"checkpoint_type"`
	TriggerTimestamp int64  `json:"trigger_timestamp"`
	LatestAck        int64  `json:"latest_ack_timestamp"`
	ExternalPath     string `json:"external_path"`
}

// Restored is the checkpoint or savepoint a job started from.
type Restored struct {
	ID               int64  `json:"id"`
	RestoreTimestamp int64  `json:"restore_timestamp"`
	IsSavepoint      bool   `json:"is_savepoint"`
	ExternalPath     string `json:"external_path"`
}

// Checkpoints returns a job's checkpoint statistics: its recent savepoints
// (to find one whose trigger the JobManager has forgotten) and what it was
// restored from.
func (c *Client) Checkpoints(ctx context.Context, jobID string) (*CheckpointStats, error) {
	var answer CheckpointStats
	if err := c.do(ctx, "get checkpoints of job "+jobID, "GET", "/jobs/"+escape(jobID)+"/checkpoints", nil, &answer); err != nil {
		return nil, notFoundAs(err, ErrJobNotFound)
	}
	return &answer, nil
}

// SavepointsSince returns the job's completed savepoints triggered at or
// after sinceMillis (Unix milliseconds), newest first.
func (s *CheckpointStats) SavepointsSince(sinceMillis int64) []Checkpoint {
	var found []Checkpoint
	for _, cp := range s.History {
		if cp.IsSavepoint && cp.Status == "COMPLETED" && cp.TriggerTimestamp >= sinceMillis && cp.ExternalPath != "" {
			found = append(found, cp)
		}
	}
	return found
}

// ClusterInfo is GET /config: the dashboard configuration, with the version.
type ClusterInfo struct {
	FlinkVersion  string `json:"flink-version"`
	FlinkRevision string `json:"flink-revision"`
	// RefreshInterval is web.refresh-interval in milliseconds: how long cached
	// answers (job details, checkpoints) may be stale.
	RefreshInterval int64 `json:"refresh-interval"`
}

// Info returns the cluster's version; a cheap reachability check.
func (c *Client) Info(ctx context.Context) (*ClusterInfo, error) {
	var answer ClusterInfo
	if err := c.do(ctx, "get cluster info", "GET", "/config", nil, &answer); err != nil {
		return nil, err
	}
	return &answer, nil
}

// JobManagerConfig returns the JobManager's effective configuration.
func (c *Client) JobManagerConfig(ctx context.Context) (map[string]string, error) {
	var answer []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	}
	if err := c.do(ctx, "get JobManager configuration", "GET", "/jobmanager/config", nil, &answer); err != nil {
		return nil, err
	}
	config := make(map[string]string, len(answer))
	for _, kv := range answer {
		config[kv.Key] = kv.Value
	}
	return config, nil
}
