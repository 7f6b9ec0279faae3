package flinkharness

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// FaultProxy stands in front of a real Flink REST endpoint for fault
// injection: it forwards every request unless a rule says to answer it with
// an error instead, and counts requests by method and path shape. It never
// answers for Flink: what it forwards, the real Flink answers.
type FaultProxy struct {
	// URL is the proxy's address, to use as the REST URL.
	URL string

	mu     sync.Mutex
	rules  []faultRule
	counts map[string]int
}

type faultRule struct {
	method string
	path   *regexp.Regexp
	status int
	times  int // < 0: forever
	// forward sends the request on to Flink and loses its answer: Flink
	// acted, the caller believes it failed.
	forward bool
}

// NewFaultProxy starts a proxy in front of restURL for t.
func NewFaultProxy(t testing.TB, restURL string) *FaultProxy {
	t.Helper()
	target, err := url.Parse(restURL)
	if err != nil {
		t.Fatalf("proxy target %q: %v", restURL, err)
	}
	p := &FaultProxy{counts: map[string]int{}}
	forward := httputil.NewSingleHostReverseProxy(target)
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rule, fail := p.take(r); fail {
			if rule.forward {
				forward.ServeHTTP(httptest.NewRecorder(), r)
			}
			http.Error(w, `{"errors":["injected by the test's fault proxy"]}`, rule.status)
			return
		}
		forward.ServeHTTP(w, r)
	}))
	t.Cleanup(server.Close)
	p.URL = server.URL
	return p
}

// Fail answers the next times requests of method whose path matches
// pathPattern with status instead of forwarding them; times < 0 means
// until Heal.
func (p *FaultProxy) Fail(method, pathPattern string, status, times int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, faultRule{method: method, path: regexp.MustCompile(pathPattern), status: status, times: times})
}

// LoseAnswers forwards the next times requests of method whose path
// matches pathPattern to Flink, and answers them with status instead of
// Flink's answer (as a connection lost after sending would); times < 0
// means until Heal.
func (p *FaultProxy) LoseAnswers(method, pathPattern string, status, times int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, faultRule{method: method, path: regexp.MustCompile(pathPattern), status: status, times: times, forward: true})
}

// Heal removes every rule: from now on everything is forwarded.
func (p *FaultProxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = nil
}

// Count returns how many requests of method with a path matching
// pathPattern reached the proxy (failed or forwarded).
func (p *FaultProxy) Count(method, pathPattern string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	re := regexp.MustCompile(pathPattern)
	n := 0
	for key, c := range p.counts {
		m, path, _ := strings.Cut(key, " ")
		if m == method && re.MatchString(path) {
			n += c
		}
	}
	return n
}

// Counts returns every request seen, keyed "METHOD path".
func (p *FaultProxy) Counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.counts))
	for k, v := range p.counts {
		out[k] = v
	}
	return out
}

func (p *FaultProxy) take(r *http.Request) (faultRule, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts[r.Method+" "+r.URL.Path]++
	for i := range p.rules {
		rule := &p.rules[i]
		if rule.times == 0 || rule.method != r.Method || !rule.path.MatchString(r.URL.Path) {
			continue
		}
		if rule.times > 0 {
			rule.times--
		}
		return *rule, true
	}
	return faultRule{}, false
}

// LocalPath turns a savepoint location the harness's Flink reports
// (file:/x, file:///x) into the local path /x.
func LocalPath(location string) string {
	p := strings.TrimPrefix(location, "file://")
	return "/" + strings.TrimLeft(strings.TrimPrefix(p, "file:"), "/")
}
