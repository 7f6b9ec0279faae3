package flink

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// SQLGateway is a client for a Flink SQL Gateway's REST API (v4). It shares
// Client's transport, retries and error classification.
type SQLGateway struct {
	c *Client
}

// NewSQLGateway returns a client for the SQL Gateway at gatewayURL, e.g.
// http://flink-sql-gateway.flink.svc:8083.
func NewSQLGateway(gatewayURL string, opts Options) (*SQLGateway, error) {
	c, err := New(gatewayURL, opts)
	if err != nil {
		return nil, fmt.Errorf("SQL gateway URL: %w", err)
	}
	return &SQLGateway{c: c}, nil
}

// OpenSession opens a session with the given session properties and returns its handle.
func (g *SQLGateway) OpenSession(ctx context.Context, properties map[string]string) (string, error) {
	body := map[string]any{}
	if len(properties) > 0 {
		body["properties"] = properties
	}
	var answer struct {
		SessionHandle string `json:"sessionHandle"`
	}
	if err := g.c.do(ctx, "open SQL session", "POST", "/v4/sessions", body, &answer); err != nil {
		return "", err
	}
	return answer.SessionHandle, nil
}

// CloseSession closes a session.
func (g *SQLGateway) CloseSession(ctx context.Context, session string) error {
	return g.c.do(ctx, "close SQL session", "DELETE", "/v4/sessions/"+escape(session), nil, nil)
}

// ExecuteStatement submits one SQL statement with per-statement
// configuration (e.g. pipeline.name, execution.savepoint.path) and returns
// its operation handle.
func (g *SQLGateway) ExecuteStatement(ctx context.Context, session, statement string, config map[string]string) (string, error) {
	body := map[string]any{"statement": statement}
	if len(config) > 0 {
		body["executionConfig"] = config
	}
	var answer struct {
		OperationHandle string `json:"operationHandle"`
	}
	err := g.c.do(ctx, "execute SQL statement", "POST", "/v4/sessions/"+escape(session)+"/statements", body, &answer)
	if err != nil {
		return "", err
	}
	return answer.OperationHandle, nil
}

// OperationStatus returns RUNNING, FINISHED, ERROR, CANCELED, … of an operation.
func (g *SQLGateway) OperationStatus(ctx context.Context, session, operation string) (string, error) {
	var answer struct {
		Status string `json:"status"`
	}
	path := "/v4/sessions/" + escape(session) + "/operations/" + escape(operation) + "/status"
	if err := g.c.do(ctx, "get SQL operation status", "GET", path, nil, &answer); err != nil {
		return "", err
	}
	return answer.Status, nil
}

// Result is the first page of an operation's result.
type Result struct {
	// JobID is the Flink job an INSERT or a query submitted.
	JobID string `json:"jobID"`
	// ResultType is NOT_READY, PAYLOAD or EOS.
	ResultType string `json:"resultType"`
	// Rows are the result's rows, as JSON.
	Rows []json.RawMessage `json:"-"`
}

// FetchResult returns the first page of an operation's result. A failed
// operation is an *Error whose Message is its root cause.
func (g *SQLGateway) FetchResult(ctx context.Context, session, operation string) (*Result, error) {
	var answer struct {
		Result
		Results struct {
			Data []json.RawMessage `json:"data"`
		} `json:"results"`
	}
	path := "/v4/sessions/" + escape(session) + "/operations/" + escape(operation) + "/result/0?rowFormat=JSON"
	if err := g.c.do(ctx, "fetch SQL result", "GET", path, nil, &answer); err != nil {
		return nil, err
	}
	answer.Result.Rows = answer.Results.Data
	return &answer.Result, nil
}

// Run executes a statement and waits until it has finished (for an INSERT:
// until its job is submitted), returning its first result page.
func (g *SQLGateway) Run(ctx context.Context, session, statement string, config map[string]string) (*Result, error) {
	op, err := g.ExecuteStatement(ctx, session, statement, config)
	if err != nil {
		return nil, err
	}
	for wait := 20 * time.Millisecond; ; wait = min(wait*2, time.Second) {
		status, err := g.OperationStatus(ctx, session, op)
		if err != nil {
			return nil, err
		}
		switch status {
		case "FINISHED":
			return g.FetchResult(ctx, session, op)
		case "ERROR", "CANCELED", "CLOSED", "TIMEOUT":
			// The result carries the cause.
			if _, err := g.FetchResult(ctx, session, op); err != nil {
				return nil, err
			}
			return nil, &Error{Op: "run SQL statement", Message: "operation ended " + status}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}
