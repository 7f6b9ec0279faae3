// Package flink is a typed, context-aware client for the Apache Flink
// JobManager REST API (Flink 2.x). It knows nothing of Kubernetes.
//
// The endpoint may be no Flink at all (its URL is a namespace user's): the
// client reads at most Options.MaxResponseBytes of an answer, follows no
// redirect unless the caller's HTTPClient does, and repeats an error message
// only from Flink's own error answer, never another body.
//
// Flink's REST API ignores a misspelt body field without complaint, answers
// 202 to a trigger for a job that does not exist, reports a failed savepoint
// as COMPLETED with a failure cause, and forgets trigger results after
// rest.async.store-duration. This client spells each field as the real Flink
// reads it (proven by the contract tests), turns a COMPLETED-with-failure into
// an error, and classifies failures into the Err* kinds.
package flink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Options configure a Client. The zero value is usable.
type Options struct {
	// HTTPClient sends the requests; default: a client with RequestTimeout
	// that follows no redirect (Flink's REST API sends none). A caller that
	// decides which endpoints may be reached passes its own; its Timeout
	// then bounds each request instead of RequestTimeout.
	HTTPClient *http.Client
	// RequestTimeout bounds one attempt of one request; default 10s.
	RequestTimeout time.Duration
	// UploadTimeout bounds one jar upload, which streams the whole jar;
	// default 10 minutes.
	UploadTimeout time.Duration
	// MaxResponseBytes is the largest answer read; a larger one is an
	// ErrResponseTooLarge error. Default 4 MiB, far above any answer Flink
	// gives to this client.
	MaxResponseBytes int64
	// Retries is how often a request is repeated after a connection failure or
	// a 503; default 2. Only requests that are safe to repeat are repeated.
	Retries int
	// RetryWait is the first wait between attempts, doubled each time; default 100ms.
	RetryWait time.Duration
}

// Defaults of Options.
const (
	DefaultRequestTimeout   = 10 * time.Second
	DefaultUploadTimeout    = 10 * time.Minute
	DefaultMaxResponseBytes = 4 << 20
)

// Client talks to one JobManager's REST API.
type Client struct {
	base          *url.URL
	http          *http.Client
	uploadTimeout time.Duration
	maxResponse   int64
	retries       int
	retryWait     time.Duration
}

// New returns a client for the JobManager REST endpoint at restURL, e.g.
// http://orders-rest.flink.svc:8081.
func New(restURL string, opts Options) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(restURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("flink REST URL %q: want http(s)://host:port", restURL)
	}
	if opts.RequestTimeout == 0 {
		opts.RequestTimeout = DefaultRequestTimeout
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{
			Timeout: opts.RequestTimeout,
			// A 3xx is then an answer like any non-2xx: an error.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if opts.UploadTimeout <= 0 {
		opts.UploadTimeout = DefaultUploadTimeout
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if opts.Retries == 0 {
		opts.Retries = 2
	} else if opts.Retries < 0 {
		opts.Retries = 0
	}
	if opts.RetryWait == 0 {
		opts.RetryWait = 100 * time.Millisecond
	}
	return &Client{
		base: u, http: opts.HTTPClient, uploadTimeout: opts.UploadTimeout, maxResponse: opts.MaxResponseBytes,
		retries: opts.Retries, retryWait: opts.RetryWait,
	}, nil
}

// URL returns the REST endpoint the client talks to.
func (c *Client) URL() string { return c.base.String() }

// do sends one request and decodes a 2xx JSON answer into out (when not nil).
// A non-2xx answer or a transport failure becomes an *Error for op. The body
// must be repeatable: it is marshalled once and resent on a retry.
func (c *Client) do(ctx context.Context, op, method, path string, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return &Error{Op: op, Err: err}
		}
	}
	return c.doRaw(ctx, op, method, path, "application/json", payload, out)
}

// send makes one attempt and returns the status and the whole body.
func (c *Client) send(ctx context.Context, method, path, contentType string, payload []byte) (int, []byte, error) {
	var reader io.Reader
	if payload != nil {
		reader = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, reader)
	if err != nil {
		return 0, nil, err
	}
	if payload != nil {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := readAnswer(resp, c.maxResponse)
	return resp.StatusCode, data, err
}

// tooLargeError is an answer over the client's MaxResponseBytes.
type tooLargeError struct {
	limit int64
}

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("the answer is larger than %d bytes, the most this client reads", e.limit)
}

// readAnswer reads a whole answer of at most limit bytes.
func readAnswer(resp *http.Response, limit int64) ([]byte, error) {
	if resp.ContentLength > limit {
		return nil, &tooLargeError{limit}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err == nil && int64(len(data)) > limit {
		return nil, &tooLargeError{limit}
	}
	return data, err
}

// decodeAnswer turns one attempt's outcome into out or an *Error.
func decodeAnswer(op string, status int, data []byte, transportErr error, out any) error {
	var tooLarge *tooLargeError
	if errors.As(transportErr, &tooLarge) {
		return &Error{Op: op, Kind: ErrResponseTooLarge, StatusCode: status, Message: tooLarge.Error()}
	}
	if transportErr != nil {
		e := &Error{Op: op, Err: transportErr}
		var netErr net.Error
		var opErr *net.OpError
		if errors.As(transportErr, &opErr) || errors.As(transportErr, &netErr) ||
			errors.Is(transportErr, io.EOF) || errors.Is(transportErr, io.ErrUnexpectedEOF) ||
			errors.Is(transportErr, context.DeadlineExceeded) {
			e.Kind = ErrUnreachable
		}
		return e
	}
	if status < 200 || status > 299 {
		return errorFromAnswer(op, status, data)
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &Error{Op: op, StatusCode: status, Message: decodeFailure(err)}
	}
	return nil
}

// decodeFailure says why an answer did not decode without quoting it: the
// endpoint may be no Flink, and its answer no business of the caller's.
func decodeFailure(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Type != nil {
		what := "the answer"
		if typeErr.Field != "" {
			what = fmt.Sprintf("field %q", typeErr.Field)
		}
		return fmt.Sprintf("decode answer: %s is no %s", what, typeErr.Type)
	}
	return "decode answer: not the JSON Flink sends"
}

// flinkErrors returns the messages of Flink's error answer
// {"errors": ["message", "<Exception on server side: …>"]}; ok is false for
// any other body.
func flinkErrors(data []byte) (errs []string, ok bool) {
	var body struct {
		Errors []string `json:"errors"`
	}
	if err := json.Unmarshal(data, &body); err != nil || body.Errors == nil {
		return nil, false
	}
	return body.Errors, true
}

// errorFromAnswer classifies a non-2xx answer. Only Flink's own error shape
// is read: any other body (a proxy's HTML page, another service's JSON) may
// hold what the caller must not see through the manager, so it is neither
// repeated nor classified; the error then says "HTTP <code> from <op>".
func errorFromAnswer(op string, status int, data []byte) error {
	e := &Error{Op: op, StatusCode: status}
	if errs, ok := flinkErrors(data); ok {
		text := strings.Join(errs, "\n")
		e.Kind, e.Message = classify(text), bestMessage(errs)
		if e.Message == "" {
			e.Message = firstLine(text)
		}
	}
	switch {
	case e.Kind != nil:
	case status == http.StatusNotFound:
		e.Kind = ErrNotFound
	case status == http.StatusServiceUnavailable:
		e.Kind = ErrUnreachable
	case status == http.StatusBadRequest:
		e.Kind = ErrBadRequest
	}
	return e
}

// ErrNotFound: the REST path names something the JobManager does not know
// and no more specific kind applies.
var ErrNotFound = errors.New("not found")

// bestMessage picks the telling line out of Flink's errors array: a stack
// trace's root cause when there is one, else the first message that is not
// the generic "Internal server error.".
func bestMessage(errs []string) string {
	for _, msg := range errs {
		if strings.Contains(msg, "\n") || strings.Contains(msg, "Exception on server side") {
			if cause := rootCause(msg); cause != "" {
				return cause
			}
		}
	}
	for _, msg := range errs {
		if m := strings.TrimSpace(msg); m != "" && m != "Internal server error." {
			return firstLine(m)
		}
	}
	return ""
}

// firstLine is the first line of s, clipped to maxMessageBytes.
func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	return clip(s)
}

// escape makes a caller's ID safe in a URL path.
func escape(id string) string { return url.PathEscape(id) }
