package flink

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// Format is a savepoint format as Flink spells it.
type Format string

const (
	// FormatCanonical is portable across state backends.
	FormatCanonical Format = "CANONICAL"
	// FormatNative is the state backend's own format.
	FormatNative Format = "NATIVE"
)

var triggerIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// ValidJobID reports whether id has the form of a Flink job ID: 32
// lowercase hexadecimal characters, as trigger IDs have.
func ValidJobID(id string) bool { return triggerIDPattern.MatchString(id) }

// TriggerIDFor derives a trigger ID (32 lowercase hexadecimal characters, the
// only form Flink accepts) from parts, e.g. a savepoint's UID and attempt.
// The same parts give the same ID, so a repeated request names the same
// savepoint instead of taking another.
func TriggerIDFor(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:16])
}

// SavepointRequest asks for a savepoint of a running job.
type SavepointRequest struct {
	// TriggerID is the caller's ID for the request (see TriggerIDFor). While
	// Flink remembers it, repeating the request returns the first result and
	// takes no second savepoint. Required.
	TriggerID string
	// TargetDirectory is the directory the savepoint is written below; empty
	// uses the cluster's execution.checkpointing.savepoint-dir.
	TargetDirectory string
	// Format is CANONICAL (default) or NATIVE.
	Format Format
	// CancelJob cancels the job once the savepoint is taken.
	CancelJob bool
}

// savepointTriggerBody is POST /jobs/{id}/savepoints. Flink spells these
// fields in kebab case except formatType and triggerId, and ignores a
// misspelt one without complaint.
type savepointTriggerBody struct {
	TargetDirectory string `json:"target-directory,omitempty"`
	CancelJob       bool   `json:"cancel-job"`
	FormatType      Format `json:"formatType,omitempty"`
	TriggerID       string `json:"triggerId"`
}

// StopRequest asks to stop a job with a savepoint.
type StopRequest struct {
	// TriggerID as in SavepointRequest. Stop and savepoint triggers share one
	// key space per job. Required.
	TriggerID string
	// TargetDirectory as in SavepointRequest.
	TargetDirectory string
	// Format is CANONICAL (default) or NATIVE.
	Format Format
	// Drain emits MAX_WATERMARK before stopping, ending event-time windows.
	Drain bool
}

// stopBody is POST /jobs/{id}/stop, whose fields are camel case.
type stopBody struct {
	TargetDirectory string `json:"targetDirectory,omitempty"`
	Drain           bool   `json:"drain"`
	FormatType      Format `json:"formatType,omitempty"`
	TriggerID       string `json:"triggerId"`
}

type triggerAnswer struct {
	RequestID string `json:"request-id"`
}

// TriggerSavepoint asks the JobManager for a savepoint of jobID and returns
// the trigger ID to poll with SavepointStatus. Flink accepts the request even
// for a job that does not run; that failure shows in the status.
func (c *Client) TriggerSavepoint(ctx context.Context, jobID string, req SavepointRequest) (string, error) {
	op := fmt.Sprintf("trigger savepoint of job %s", jobID)
	if err := checkTrigger(op, req.TriggerID, req.Format); err != nil {
		return "", err
	}
	body := savepointTriggerBody{
		TargetDirectory: req.TargetDirectory, CancelJob: req.CancelJob,
		FormatType: formatOrDefault(req.Format), TriggerID: req.TriggerID,
	}
	var answer triggerAnswer
	if err := c.do(ctx, op, "POST", "/jobs/"+escape(jobID)+"/savepoints", body, &answer); err != nil {
		return "", err
	}
	return answer.RequestID, nil
}

// StopWithSavepoint stops jobID with a savepoint and returns the trigger ID
// to poll with SavepointStatus. The job ends FINISHED.
func (c *Client) StopWithSavepoint(ctx context.Context, jobID string, req StopRequest) (string, error) {
	op := fmt.Sprintf("stop job %s with a savepoint", jobID)
	if err := checkTrigger(op, req.TriggerID, req.Format); err != nil {
		return "", err
	}
	body := stopBody{
		TargetDirectory: req.TargetDirectory, Drain: req.Drain,
		FormatType: formatOrDefault(req.Format), TriggerID: req.TriggerID,
	}
	var answer triggerAnswer
	if err := c.do(ctx, op, "POST", "/jobs/"+escape(jobID)+"/stop", body, &answer); err != nil {
		return "", err
	}
	return answer.RequestID, nil
}

func checkTrigger(op, triggerID string, format Format) error {
	if !triggerIDPattern.MatchString(triggerID) {
		return &Error{Op: op, Kind: ErrBadRequest, Message: fmt.Sprintf("trigger ID %q: want 32 lowercase hexadecimal characters (see TriggerIDFor)", triggerID)}
	}
	switch format {
	case "", FormatCanonical, FormatNative:
		return nil
	}
	return &Error{Op: op, Kind: ErrBadRequest, Message: fmt.Sprintf("format %q: want CANONICAL or NATIVE", format)}
}

func formatOrDefault(f Format) Format {
	if f == "" {
		return FormatCanonical
	}
	return f
}

// OperationState is the state of an asynchronous operation.
type OperationState string

const (
	// OperationInProgress: still running.
	OperationInProgress OperationState = "IN_PROGRESS"
	// OperationCompleted: finished, successfully or not (see Operation.Failure).
	OperationCompleted OperationState = "COMPLETED"
)

// Operation is the result of a savepoint, stop or disposal trigger.
type Operation struct {
	// State is IN_PROGRESS or COMPLETED. COMPLETED means finished, not succeeded.
	State OperationState
	// Location is the savepoint's exact path once a savepoint succeeded.
	Location string
	// Failure is why a COMPLETED operation failed (an *Error whose Message is
	// the root cause and whose Kind classifies it); nil on success.
	Failure error
}

// Succeeded reports whether the operation finished without failure.
func (o *Operation) Succeeded() bool {
	return o.State == OperationCompleted && o.Failure == nil
}

// operationAnswer is GET /jobs/{id}/savepoints/{triggerId} and
// GET /savepoint-disposal/{triggerId}. failure-cause also carries a
// serialized-throwable of tens of kilobytes, which is not kept.
type operationAnswer struct {
	Status struct {
		ID OperationState `json:"id"`
	} `json:"status"`
	Operation *struct {
		Location     string        `json:"location"`
		FailureCause *failureCause `json:"failure-cause"`
	} `json:"operation"`
}

type failureCause struct {
	Class      string `json:"class"`
	StackTrace string `json:"stack-trace"`
}

// operation turns an answer into an Operation; op names the failed operation.
func (a *operationAnswer) operation(op string) *Operation {
	o := &Operation{State: a.Status.ID}
	if a.Operation == nil {
		return o
	}
	o.Location = a.Operation.Location
	if fc := a.Operation.FailureCause; fc != nil {
		text := fc.Class + "\n" + fc.StackTrace
		msg := rootCause(fc.StackTrace)
		if msg == "" {
			msg = fc.Class
		}
		o.Failure = &Error{Op: op, Kind: classify(text), Message: msg}
	}
	return o
}

// SavepointStatus returns the state of a savepoint or stop trigger. A trigger
// the JobManager no longer remembers (expired, or the JobManager restarted)
// is ErrTriggerNotFound: look for the savepoint in the job's checkpoint
// history before triggering again.
func (c *Client) SavepointStatus(ctx context.Context, jobID, triggerID string) (*Operation, error) {
	op := fmt.Sprintf("savepoint %s of job %s", triggerID, jobID)
	var answer operationAnswer
	err := c.do(ctx, "get status of "+op, "GET", "/jobs/"+escape(jobID)+"/savepoints/"+escape(triggerID), nil, &answer)
	if err != nil {
		return nil, notFoundAs(err, ErrTriggerNotFound)
	}
	return answer.operation(op), nil
}

// DisposeSavepoint asks the JobManager to delete the savepoint at path and
// returns the trigger ID to poll with DisposalStatus. Deleting data is
// final: call it only for an explicit delete.
func (c *Client) DisposeSavepoint(ctx context.Context, path string) (string, error) {
	op := fmt.Sprintf("dispose savepoint %s", path)
	if strings.TrimSpace(path) == "" {
		return "", &Error{Op: op, Kind: ErrBadRequest, Message: "empty savepoint path"}
	}
	body := struct {
		Path string `json:"savepoint-path"`
	}{path}
	var answer triggerAnswer
	if err := c.do(ctx, op, "POST", "/savepoint-disposal", body, &answer); err != nil {
		return "", err
	}
	return answer.RequestID, nil
}

// DisposalStatus returns the state of a disposal. A path with no savepoint
// (already disposed, or never there) completes with an ErrSavepointNotFound failure.
func (c *Client) DisposalStatus(ctx context.Context, triggerID string) (*Operation, error) {
	op := fmt.Sprintf("savepoint disposal %s", triggerID)
	var answer operationAnswer
	if err := c.do(ctx, "get status of "+op, "GET", "/savepoint-disposal/"+escape(triggerID), nil, &answer); err != nil {
		return nil, notFoundAs(err, ErrTriggerNotFound)
	}
	return answer.operation(op), nil
}

// notFoundAs gives a plain 404 the more specific kind.
func notFoundAs(err error, kind error) error {
	if e, ok := err.(*Error); ok && e.StatusCode == 404 && (e.Kind == nil || e.Kind == ErrNotFound) {
		e.Kind = kind
	}
	return err
}

// NormalizePath makes savepoint locations comparable: Flink reports
// file:/x where a user writes file:///x or /x.
func NormalizePath(p string) string {
	p = strings.TrimSuffix(p, "/")
	if rest, ok := strings.CutPrefix(p, "file://"); ok {
		return "file:" + rest
	}
	if strings.HasPrefix(p, "/") {
		return "file:" + p
	}
	return p
}

// PathUnder reports whether the savepoint path p is dir or inside it, after
// NormalizePath, on whole path segments (s3://b/sp is not under s3://b/s). A
// path with a ".." segment is under nothing: it could climb out of dir.
func PathUnder(p, dir string) bool {
	p, dir = NormalizePath(p), NormalizePath(dir)
	if dir == "" || p == "" {
		return false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return false
		}
	}
	return p == dir || strings.HasPrefix(p, dir+"/")
}
