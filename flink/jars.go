package flink

import (
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// ErrDuplicateJob: a job with the asked job ID was submitted before. A
// caller that chose the ID deterministically treats it as "already running".
var ErrDuplicateJob = errors.New("job ID already submitted")

// runTimeout bounds one POST /jars/{id}/run.
const runTimeout = 2 * time.Minute

// ErrJarNotFound: the cluster does not have the uploaded jar (any more): it
// keeps uploads in web.upload.dir, which a restart may empty.
var ErrJarNotFound = errors.New("jar not found")

// UploadJar uploads the job jar in file (POST /jars/upload) and returns the
// jar ID that /jars/{id}/run takes. The jar is streamed, not held in memory:
// job jars are often hundreds of megabytes.
func (c *Client) UploadJar(ctx context.Context, file string) (string, error) {
	op := "upload jar " + filepath.Base(file)
	jar, err := os.Open(file)
	if err != nil {
		return "", &Error{Op: op, Err: err}
	}
	defer jar.Close()
	name := filepath.Base(file)
	if !strings.HasSuffix(name, ".jar") {
		name += ".jar" // Flink refuses an upload whose file name does not end in .jar
	}
	body, writer := io.Pipe()
	form := multipart.NewWriter(writer)
	go func() {
		part, err := form.CreateFormFile("jarfile", name)
		if err == nil {
			_, err = io.Copy(part, jar)
		}
		if err == nil {
			err = form.Close()
		}
		writer.CloseWithError(err)
	}()
	req, err := http.NewRequestWithContext(ctx, "POST", c.base.String()+"/jars/upload", body)
	if err != nil {
		return "", &Error{Op: op, Err: err}
	}
	req.Header.Set("Content-Type", form.FormDataContentType())
	req.Header.Set("Accept", "application/json")
	// An upload takes longer than one REST call: the caller's client with
	// the upload's timeout (a copy keeps its transport and redirect policy).
	upload := *c.http
	upload.Timeout = c.uploadTimeout
	resp, err := upload.Do(req)
	var status int
	var data []byte
	if err == nil {
		defer resp.Body.Close()
		status = resp.StatusCode
		data, err = readAnswer(resp, c.maxResponse)
	}
	body.CloseWithError(io.ErrClosedPipe) // stop the writer if the server answered early
	var answer struct {
		Filename string `json:"filename"`
	}
	if err := decodeAnswer(op, status, data, err, &answer); err != nil {
		return "", err
	}
	if answer.Filename == "" {
		return "", &Error{Op: op, Message: "the answer names no uploaded file"}
	}
	// The answer is the uploaded file's path on the JobManager; its base
	// name is the jar ID.
	return path.Base(answer.Filename), nil
}

// JarIDs returns the IDs of the jars the cluster has (GET /jars).
func (c *Client) JarIDs(ctx context.Context) ([]string, error) {
	var answer struct {
		Files []struct {
			ID string `json:"id"`
		} `json:"files"`
	}
	if err := c.do(ctx, "list jars", "GET", "/jars", nil, &answer); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(answer.Files))
	for _, f := range answer.Files {
		ids = append(ids, f.ID)
	}
	return ids, nil
}

// RunRequest is the body of POST /jars/{id}/run, with Flink's spellings
// (a misspelt field is silently ignored).
type RunRequest struct {
	EntryClass  string   `json:"entryClass,omitempty"`
	Args        []string `json:"programArgsList,omitempty"`
	Parallelism int32    `json:"parallelism,omitempty"`
	// JobID fixes the job's ID (32 hex): a second run with the same ID is
	// refused (ErrDuplicateJob), so a deterministic ID makes runs idempotent.
	JobID string `json:"jobId,omitempty"`
	// SavepointPath restores the job's state from that savepoint.
	SavepointPath         string `json:"savepointPath,omitempty"`
	AllowNonRestoredState bool   `json:"allowNonRestoredState,omitempty"`
}

// RunJar runs an uploaded jar and returns the job ID. A bad entry class,
// program or savepoint path is an *Error with Flink's root cause as its
// Message (kind ErrBadRequest: retrying cannot help until something changes).
func (c *Client) RunJar(ctx context.Context, jarID string, req RunRequest) (string, error) {
	if req.JobID != "" {
		if err := checkTrigger("run jar "+jarID, req.JobID, ""); err != nil {
			return "", err
		}
	}
	var answer struct {
		JobID string `json:"jobid"`
	}
	op := "run jar " + jarID
	// A run unpacks the jar and builds the job graph: far slower than other
	// calls on a busy JobManager, and a timeout would only send it again.
	slow, run := *c, *c.http // a copy keeps the caller's transport and redirect policy
	run.Timeout = max(c.http.Timeout, runTimeout)
	slow.http = &run
	err := slow.do(ctx, op, "POST", "/jars/"+escape(jarID)+"/run", req, &answer)
	var fe *Error
	if errors.As(err, &fe) {
		switch {
		case strings.Contains(fe.Message, "DuplicateApplicationSubmissionException") || strings.Contains(fe.Message, "DuplicateJobSubmissionException") ||
			strings.Contains(fe.Message, "already been submitted"):
			fe.Kind = ErrDuplicateJob
		case fe.StatusCode == http.StatusNotFound || strings.Contains(fe.Message, "Jar file") && strings.Contains(fe.Message, "does not exist"):
			fe.Kind = ErrJarNotFound
		case fe.Kind == nil && fe.StatusCode == http.StatusInternalServerError:
			// The program itself failed (a missing class, a main that threw):
			// running it again fails again until the jar or spec changes.
			fe.Kind = ErrBadRequest
		}
	}
	if err != nil {
		return "", err
	}
	return answer.JobID, nil
}

// doRaw is do for a body that is not JSON (a multipart upload).
func (c *Client) doRaw(ctx context.Context, op, method, path, contentType string, payload []byte, out any) error {
	wait := c.retryWait
	for attempt := 0; ; attempt++ {
		status, data, err := c.send(ctx, method, path, contentType, payload)
		var tooLarge *tooLargeError
		retryable := (err != nil || status == http.StatusServiceUnavailable) && !errors.As(err, &tooLarge)
		if !retryable || attempt >= c.retries || ctx.Err() != nil {
			return decodeAnswer(op, status, data, err, out)
		}
		select {
		case <-ctx.Done():
			return &Error{Op: op, Kind: ErrUnreachable, Err: ctx.Err()}
		case <-time.After(wait):
		}
		wait *= 2
	}
}
