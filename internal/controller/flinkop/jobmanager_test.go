package flinkop

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
)

// recordedDir holds the answers the real Flink gave in the flink package's
// contract tests (go test ./flink -run TestContract -record rewrites them).
var recordedDir = filepath.Join("..", "..", "..", "flink", "testdata", "recorded")

// recorded returns one recorded answer: its HTTP status and body.
func recorded(t testing.TB, name string) (int, []byte) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(recordedDir, name+".json"))
	require.NoError(t, err)
	statusText, err := os.ReadFile(filepath.Join(recordedDir, name+".status"))
	require.NoError(t, err)
	status, err := strconv.Atoi(strings.TrimSpace(string(statusText)))
	require.NoError(t, err)
	return status, data
}

// Answers that are not a recording.
const (
	// noAnswer closes the connection without an answer: ErrUnreachable.
	noAnswer = "<no answer>"
	// internalError is Flink's generic 500, whose errors array starts with
	// "Internal server error." and says nothing the client classifies.
	internalError = "<internal error>"
)

// calls name the JobManager REST calls the protocol makes, as Outcome.Call does.
var calls = []struct {
	method string
	path   *regexp.Regexp
	call   string
}{
	{"POST", regexp.MustCompile(`^/jobs/[^/]+/savepoints$`), callTrigger},
	{"POST", regexp.MustCompile(`^/jobs/[^/]+/stop$`), callStop},
	{"GET", regexp.MustCompile(`^/jobs/[^/]+/savepoints/[^/]+$`), callSavepointStatus},
	{"GET", regexp.MustCompile(`^/jobs/[^/]+/checkpoints$`), callCheckpoints},
	{"GET", regexp.MustCompile(`^/jobs/[^/]+/status$`), callJobState},
	{"GET", regexp.MustCompile(`^/jobs/[^/]+$`), callJob},
	{"POST", regexp.MustCompile(`^/savepoint-disposal$`), callDispose},
	{"GET", regexp.MustCompile(`^/savepoint-disposal/[^/]+$`), callDisposalStatus},
}

// request is one request the fake JobManager was sent.
type request struct {
	call string
	path string
	body map[string]any
}

// jobManager is an httptest JobManager that answers each REST call with a
// recorded answer of the real Flink, and keeps what it was asked.
type jobManager struct {
	t       *testing.T
	answers map[string]string // call → recorded answer, noAnswer or internalError
	mu      sync.Mutex
	asked   []request
}

// newJobManager serves answers and returns a client for it that does not
// retry (each call is asked once).
func newJobManager(t *testing.T, answers map[string]string) (*jobManager, *flink.Client) {
	t.Helper()
	jm := &jobManager{t: t, answers: answers}
	srv := httptest.NewUnstartedServer(jm)
	// One connection per request: Go's transport repeats a GET whose
	// reused connection closed unanswered, which would ask twice.
	srv.Config.SetKeepAlivesEnabled(false)
	srv.Start()
	t.Cleanup(srv.Close)
	client, err := flink.New(srv.URL, flink.Options{Retries: -1, RequestTimeout: 5 * time.Second})
	require.NoError(t, err)
	return jm, client
}

func (jm *jobManager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req := request{path: r.URL.Path}
	for _, c := range calls {
		if c.method == r.Method && c.path.MatchString(r.URL.Path) {
			req.call = c.call
		}
	}
	if r.Body != nil {
		_ = json.NewDecoder(r.Body).Decode(&req.body)
	}
	jm.mu.Lock()
	jm.asked = append(jm.asked, req)
	jm.mu.Unlock()

	answer, ok := jm.answers[req.call]
	if !ok {
		jm.t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		http.Error(w, `{"errors":["unexpected"]}`, http.StatusTeapot)
		return
	}
	switch answer {
	case noAnswer:
		conn, _, err := w.(http.Hijacker).Hijack()
		require.NoError(jm.t, err)
		conn.Close()
	case internalError:
		http.Error(w, `{"errors":["Internal server error.","<Exception on server side:\njava.lang.IllegalStateException: something inside\n\tat org.apache.flink.Some.method(Some.java:1)\n\nEnd of exception on server side>"]}`, http.StatusInternalServerError)
	default:
		status, body := recorded(jm.t, answer)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}
}

// calls returns the calls asked, in order.
func (jm *jobManager) calls() []string {
	jm.mu.Lock()
	defer jm.mu.Unlock()
	var names []string
	for _, r := range jm.asked {
		names = append(names, r.call)
	}
	return names
}

// last returns the last request of call.
func (jm *jobManager) last(call string) request {
	jm.mu.Lock()
	defer jm.mu.Unlock()
	for i := len(jm.asked) - 1; i >= 0; i-- {
		if jm.asked[i].call == call {
			return jm.asked[i]
		}
	}
	jm.t.Fatalf("no %s request", call)
	return request{}
}

// recordedHistory is the recorded checkpoint history's savepoints, oldest
// first: the history lookup's cases are placed around them.
func recordedHistory(t *testing.T) []flink.Checkpoint {
	t.Helper()
	_, data := recorded(t, "checkpoints")
	var stats flink.CheckpointStats
	require.NoError(t, json.Unmarshal(data, &stats))
	found := stats.SavepointsSince(0)
	require.GreaterOrEqual(t, len(found), 2, "the recorded history holds savepoints")
	for i, j := 0, len(found)-1; i < j; i, j = i+1, j-1 {
		found[i], found[j] = found[j], found[i]
	}
	return found
}

// recordedLocation is the location of the recorded COMPLETED savepoint.
func recordedLocation(t *testing.T) string {
	t.Helper()
	_, data := recorded(t, "savepoint-status-completed")
	var answer struct {
		Operation struct {
			Location string `json:"location"`
		} `json:"operation"`
	}
	require.NoError(t, json.Unmarshal(data, &answer))
	require.NotEmpty(t, answer.Operation.Location)
	return answer.Operation.Location
}

// recordedRequestID is the request-id of a recorded trigger answer.
func recordedRequestID(t *testing.T, name string) string {
	t.Helper()
	_, data := recorded(t, name)
	var answer struct {
		RequestID string `json:"request-id"`
	}
	require.NoError(t, json.Unmarshal(data, &answer))
	require.NotEmpty(t, answer.RequestID)
	return answer.RequestID
}

// dirOf is the directory a savepoint path is in.
func dirOf(path string) string {
	return path[:strings.LastIndexByte(path, '/')]
}

// recordedEndTime is when the job of a recorded GET /jobs/{id} ended.
func recordedEndTime(t *testing.T, name string) time.Time {
	t.Helper()
	_, data := recorded(t, name)
	var details flink.JobDetails
	require.NoError(t, json.Unmarshal(data, &details))
	require.Positive(t, details.EndTime)
	return time.UnixMilli(details.EndTime)
}
