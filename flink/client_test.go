package flink_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
)

// secret stands for what a non-Flink endpoint answers that the caller must
// not read through the manager (a metadata credential, another service's page).
const secret = "AKIA-SECRET-7f3c"

// answering is a server that gives every request the same answer and
// counts the requests.
type answering struct {
	*httptest.Server
	requests atomic.Int32
}

func answer(t *testing.T, status int, body string, header ...string) *answering {
	t.Helper()
	a := &answering{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		a.requests.Add(1)
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(a.Close)
	return a
}

func TestErrorsNeverRepeatANonFlinkBody(t *testing.T) {
	flinkTrace := `{"errors":["Internal server error.","<Exception on server side:\norg.apache.flink.runtime.messages.FlinkJobNotFoundException: Could not find Flink job (00000000000000000000000000000000)\n\tat x\n\nEnd of exception on server side>"]}`
	tests := []struct {
		name     string
		status   int
		body     string
		header   []string
		wantErr  string
		wantKind error
	}{
		{"an HTML 500", 500, "<html><body><h1>Error</h1><p>" + secret + "</p></body></html>", []string{"Content-Type", "text/html"}, "HTTP 500 from list jobs", nil},
		{"a text 404 naming a Flink exception", 404, "FlinkJobNotFoundException " + secret, nil, "HTTP 404 from list jobs", flink.ErrNotFound},
		{"another service's JSON", 400, `{"message":"` + secret + `"}`, nil, "HTTP 400 from list jobs", flink.ErrBadRequest},
		{"errors that are not Flink's list", 500, `{"errors":"` + secret + `"}`, nil, "HTTP 500 from list jobs", nil},
		{"a 503 page", 503, "<html>" + secret + "</html>", nil, "HTTP 503 from list jobs", flink.ErrUnreachable},
		{"Flink's empty errors", 500, `{"errors":[]}`, nil, "HTTP 500 from list jobs", nil},
		{"a 2xx page", 200, "<html>" + secret + "</html>", nil, "list jobs: decode answer: not the JSON Flink sends", nil},
		{"a 2xx of another shape", 200, `{"jobs":"` + secret + `"}`, nil, `list jobs: decode answer: field "jobs" is no []flink.JobOverview`, nil},
		{"a 2xx with a number out of range", 200, `{"jobs":[{"tasks":{"total":7734123456789012345678}}]}`, nil, `field "jobs.tasks.total" is no int`, nil},
		{"a redirect is not followed", 302, "", []string{"Location", "http://169.254.169.254/" + secret}, "HTTP 302 from list jobs", nil},
		{"Flink's own error keeps its message", 500, flinkTrace, nil, "list jobs: org.apache.flink.runtime.messages.FlinkJobNotFoundException: Could not find Flink job (00000000000000000000000000000000)", flink.ErrJobNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := answer(t, tt.status, tt.body, tt.header...)
			c, err := flink.New(srv.URL, flink.Options{Retries: -1})
			require.NoError(t, err)
			_, err = c.JobsOverview(context.Background())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.NotContains(t, err.Error(), secret)
			assert.NotContains(t, err.Error(), "7734123456789012345678")
			assert.NotContains(t, err.Error(), "\n")
			if tt.wantKind != nil {
				assert.ErrorIs(t, err, tt.wantKind)
			}
			for _, kind := range []error{flink.ErrJobNotFound, flink.ErrNotFound, flink.ErrBadRequest, flink.ErrUnreachable} {
				if kind != tt.wantKind {
					assert.NotErrorIs(t, err, kind, "a non-Flink body is not classified")
				}
			}
		})
	}
}

func TestFlinkMessagesAreClipped(t *testing.T) {
	long := strings.Repeat("é", 2000) // two bytes each: the cut must not split one
	srv := answer(t, 400, `{"errors":["java.lang.IllegalArgumentException: `+long+`"]}`)
	c, err := flink.New(srv.URL, flink.Options{Retries: -1})
	require.NoError(t, err)
	_, err = c.JobsOverview(context.Background())
	require.ErrorIs(t, err, flink.ErrBadRequest)
	assert.True(t, strings.HasPrefix(err.Error(), "list jobs: java.lang.IllegalArgumentException: éé"))
	assert.True(t, strings.HasSuffix(err.Error(), "é…"), "cut on a character boundary")
	assert.LessOrEqual(t, len(err.Error()), len("list jobs: ")+1024+len("…"))
	var fe *flink.Error
	require.ErrorAs(t, err, &fe)
	assert.LessOrEqual(t, len(fe.Message), 1024+len("…"), "callers read Message too")
}

func TestAnswersAreCapped(t *testing.T) {
	big := `{"jobs":[` + strings.Repeat(`{"jid":"0123456789abcdef0123456789abcdef","name":"x"},`, 10<<20/52) + `{}]}`
	require.Greater(t, len(big), 10<<20-100)
	tests := []struct {
		name     string
		status   int
		body     string
		header   []string
		max      int64
		wantErr  string
		requests int32
	}{
		{"10 MiB, streamed", 200, big, nil, 0, "list jobs: the answer is larger than 4194304 bytes", 1},
		{"10 MiB, announced", 200, big, []string{"Content-Length", strconv.Itoa(len(big))}, 0, "larger than 4194304 bytes", 1},
		{"10 MiB error page", 500, "<html>" + strings.Repeat(secret, 10<<20/len(secret)) + "</html>", nil, 0, "larger than 4194304 bytes", 1},
		{"a large 503 is not asked again", 503, strings.Repeat("x", 5<<20), nil, 0, "larger than 4194304 bytes", 1},
		{"a smaller cap", 200, `{"jobs":[` + strings.Repeat(" ", 2000) + `]}`, nil, 1024, "larger than 1024 bytes", 1},
		{"an answer at the cap", 200, `{"jobs":[` + strings.Repeat(" ", 1024-11) + `]}`, nil, 1024, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := answer(t, tt.status, tt.body, tt.header...)
			c, err := flink.New(srv.URL, flink.Options{MaxResponseBytes: tt.max, Retries: 2, RetryWait: time.Millisecond})
			require.NoError(t, err)
			_, err = c.JobsOverview(context.Background())
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, flink.ErrResponseTooLarge)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.NotContains(t, err.Error(), secret)
			assert.NotContains(t, err.Error(), "\n")
			assert.False(t, flink.Permanent(err))
			assert.Equal(t, tt.requests, srv.requests.Load())
		})
	}
}

func TestSQLGatewayErrorsNeverRepeatANonFlinkBody(t *testing.T) {
	srv := answer(t, http.StatusBadGateway, "<html>"+secret+"</html>")
	gw, err := flink.NewSQLGateway(srv.URL, flink.Options{Retries: -1})
	require.NoError(t, err)
	_, err = gw.OpenSession(context.Background(), nil)
	require.Error(t, err)
	assert.Equal(t, "HTTP 502 from open SQL session", err.Error())

	large := answer(t, http.StatusOK, `{"sessionHandle":"`+strings.Repeat("x", 5<<20)+`"}`)
	gw, err = flink.NewSQLGateway(large.URL, flink.Options{})
	require.NoError(t, err)
	_, err = gw.OpenSession(context.Background(), nil)
	require.ErrorIs(t, err, flink.ErrResponseTooLarge)
	assert.Contains(t, err.Error(), "open SQL session: the answer is larger than")
}

// TestCallersClientIsKept: a caller's client (one that decides which
// endpoints and redirects may be reached) sends every request, the long
// ones too.
func TestCallersClientIsKept(t *testing.T) {
	var refused atomic.Int32
	caller := &http.Client{
		Timeout: 5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			refused.Add(1)
			return http.ErrUseLastResponse
		},
	}
	elsewhere := answer(t, 200, `{"jobid":"00000000000000000000000000000000","filename":"/tmp/x.jar"}`)
	redirecting := answer(t, http.StatusFound, "", "Location", elsewhere.URL+"/jars/upload")
	c, err := flink.New(redirecting.URL, flink.Options{HTTPClient: caller, Retries: -1})
	require.NoError(t, err)
	ctx := context.Background()

	_, err = c.UploadJar(ctx, writeJar(t))
	assert.EqualError(t, err, "HTTP 302 from upload jar job.jar")
	_, err = c.RunJar(ctx, "x.jar", flink.RunRequest{})
	assert.EqualError(t, err, "HTTP 302 from run jar x.jar")
	_, err = c.JobsOverview(ctx)
	assert.EqualError(t, err, "HTTP 302 from list jobs")

	assert.Equal(t, int32(3), refused.Load(), "the caller's redirect policy decided every time")
	assert.Zero(t, elsewhere.requests.Load())
}

func writeJar(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "job.jar")
	require.NoError(t, os.WriteFile(path, bytes.Repeat([]byte("j"), 1<<10), 0o600))
	return path
}
