package endpoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/kubectl-savepoint/kubectl-savepoint/internal/egress"
)

// Health tracks, in one place, whether each JobManager endpoint answers:
// one circuit breaker per namespace and endpoint (scheme://host:port), fed
// by every request the manager's Flink clients make (see Transport).
// Threshold failures in a row (no answer, or a 503) open the circuit: no
// request is sent there any more, each fails at once with a
// *CircuitOpenError, and the endpoint is probed in the background with an
// exponential backoff. The first probe that gets an answer closes the
// circuit and wakes the objects that wait for the endpoint (WaitFor), so
// that they neither spend a worker on a dead endpoint nor wait longer than
// it is down.
//
// Health is per namespace: one tenant's requests never decide whether
// another tenant's are sent, even to the same URL (the admin's allow-list is
// per namespace too).
type Health struct {
	// Threshold is how many failures in a row open the circuit; default 3.
	Threshold int
	// Base is the wait before the first probe of an open circuit, doubled
	// per failed probe up to Cap; defaults 1s and 30s.
	Base, Cap time.Duration
	// ProbeTimeout bounds one probe; default 10s.
	ProbeTimeout time.Duration
	// Now returns the time; default time.Now.
	Now func() time.Time

	mu        sync.Mutex
	ctx       context.Context
	endpoints map[healthKey]*endpointHealth
	waiting   map[healthKey]map[waiter]struct{}
}

type healthKey struct{ namespace, origin string }

type waiter struct {
	wakeup *Wakeup
	key    types.NamespacedName
}

// endpointHealth is what is known of one endpoint that failed lately.
type endpointHealth struct {
	failures  int // in a row
	open      bool
	probes    int // failed probes since the circuit opened
	nextProbe time.Time
	lastErr   error
	asked     time.Time         // when a request was last refused
	transport http.RoundTripper // the namespace's, to probe through
}

// CircuitOpenError: the endpoint did not answer lately, so the request was
// not sent; it is a net.Error, so the Flink client takes it for
// flink.ErrUnreachable.
type CircuitOpenError struct {
	// Origin is the endpoint, scheme://host:port.
	Origin string
	// NextProbe is when the endpoint is asked again.
	NextProbe time.Time
	// Cause is the last failure seen there.
	Cause error
}

func (e *CircuitOpenError) Error() string {
	last := "no answer"
	if e.Cause != nil {
		last = e.Cause.Error()
	}
	return fmt.Sprintf("no answer lately (last: %s); nothing is sent there until it answers again (asked next at %s)",
		last, e.NextProbe.UTC().Format(time.RFC3339))
}

// Timeout is false: nothing waited.
func (e *CircuitOpenError) Timeout() bool { return false }

// Temporary is true: the circuit closes once the endpoint answers.
func (e *CircuitOpenError) Temporary() bool { return true }

// NotSent reports whether err proves that a request never left the
// manager: the circuit was open, the host did not resolve, the connection
// was refused while dialling, or the admin's allow-list refused it. Any
// other failure may have reached the endpoint.
func NotSent(err error) bool {
	var open *CircuitOpenError
	var dns *net.DNSError
	var op *net.OpError
	return errors.As(err, &open) || errors.Is(err, egress.ErrDenied) || errors.As(err, &dns) ||
		(errors.As(err, &op) && op.Op == "dial")
}

func (h *Health) threshold() int {
	if h.Threshold > 0 {
		return h.Threshold
	}
	return 3
}

func (h *Health) wait(probes int) time.Duration {
	base, cap := h.Base, h.Cap
	if base <= 0 {
		base = time.Second
	}
	if cap <= 0 {
		cap = 30 * time.Second
	}
	wait := base
	for i := 0; i < probes && wait < cap; i++ {
		wait *= 2
	}
	return min(wait, cap)
}

func (h *Health) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// Start keeps the probes running until ctx ends.
func (h *Health) Start(ctx context.Context) error {
	h.mu.Lock()
	h.ctx = ctx
	h.mu.Unlock()
	<-ctx.Done()
	return nil
}

// NeedLeaderElection is false: every replica's clients go through it.
func (h *Health) NeedLeaderElection() bool { return false }

func (h *Health) context() context.Context {
	if h.ctx != nil {
		return h.ctx
	}
	return context.Background()
}

// Transport returns next behind namespace's circuit breakers.
func (h *Health) Transport(namespace string, next http.RoundTripper) http.RoundTripper {
	return &breaker{health: h, namespace: namespace, next: next}
}

type breaker struct {
	health    *Health
	namespace string
	next      http.RoundTripper
}

func (b *breaker) RoundTrip(req *http.Request) (*http.Response, error) {
	key := healthKey{b.namespace, origin(req.URL)}
	if err := b.health.allow(key); err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	resp, err := b.next.RoundTrip(req)
	b.health.observe(key, resp, err, b.next)
	return resp, err
}

func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }

// OriginOf is the endpoint of restURL as Health keys it.
func OriginOf(restURL string) string {
	u, err := url.Parse(restURL)
	if err != nil {
		return restURL
	}
	return origin(u)
}

// allow refuses a request to an endpoint whose circuit is open.
func (h *Health) allow(key healthKey) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.endpoints[key]
	if e == nil || !e.open {
		return nil
	}
	e.asked = h.now()
	return &CircuitOpenError{Origin: key.origin, NextProbe: e.nextProbe, Cause: e.lastErr}
}

// observe records a request's outcome: no answer, or a 503, is a failure
// of the endpoint; a caller who gave up (context.Canceled) or a refusal of
// the allow-list says nothing of it; any other answer closes the circuit.
func (h *Health) observe(key healthKey, resp *http.Response, err error, transport http.RoundTripper) {
	switch {
	case err != nil && (errors.Is(err, context.Canceled) || errors.Is(err, egress.ErrDenied)):
		return
	case err == nil && resp.StatusCode != http.StatusServiceUnavailable:
		h.answered(key)
		return
	case err == nil:
		err = fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.endpoints == nil {
		h.endpoints = map[healthKey]*endpointHealth{}
	}
	e := h.endpoints[key]
	if e == nil {
		e = &endpointHealth{transport: transport}
		h.endpoints[key] = e
	}
	e.failures++
	e.lastErr = err
	if e.open || e.failures < h.threshold() {
		return
	}
	e.open, e.probes = true, 0
	e.asked = h.now()
	e.nextProbe = e.asked.Add(h.wait(0))
	go h.probe(key, e)
}

// answered closes the endpoint's circuit and wakes its waiters.
func (h *Health) answered(key healthKey) {
	h.mu.Lock()
	_, known := h.endpoints[key]
	delete(h.endpoints, key)
	woken := h.waiting[key]
	delete(h.waiting, key)
	h.mu.Unlock()
	if known && len(woken) > 0 {
		h.wake(woken)
	}
}

// probe asks an open endpoint, with a growing wait, until it answers or
// nobody has asked for it for a while and nobody waits for it.
func (h *Health) probe(key healthKey, e *endpointHealth) {
	for {
		h.mu.Lock()
		ctx, wait := h.context(), e.nextProbe.Sub(h.now())
		h.mu.Unlock()
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		h.mu.Lock()
		if h.endpoints[key] != e || !e.open {
			h.mu.Unlock()
			return // closed by an answer meanwhile
		}
		if len(h.waiting[key]) == 0 && h.now().Sub(e.asked) > 2*h.wait(e.probes) {
			// Nobody asks: forget it; the next request finds out again.
			delete(h.endpoints, key)
			h.mu.Unlock()
			return
		}
		h.mu.Unlock()
		err := h.ask(ctx, key.origin, e.transport)
		if err == nil {
			h.answered(key)
			return
		}
		h.mu.Lock()
		e.probes++
		e.lastErr = err
		e.nextProbe = h.now().Add(h.wait(e.probes))
		h.mu.Unlock()
	}
}

// ask sends one probe: any answer but a 503 is one.
func (h *Health) ask(ctx context.Context, origin string, transport http.RoundTripper) error {
	timeout := h.ProbeTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, origin+"/config", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := transport.RoundTrip(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode == http.StatusServiceUnavailable {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// Open returns a *CircuitOpenError when the circuit of the endpoint of
// restURL in namespace is open: a request there would not be sent.
func (h *Health) Open(namespace, restURL string) error {
	if h == nil {
		return nil
	}
	return h.allow(healthKey{namespace, OriginOf(restURL)})
}

// RetryIn is how long until the endpoint of restURL in namespace is asked
// again when its circuit is open (open is then true): an object that waits
// for it is looked at again then, if it was not woken before.
func (h *Health) RetryIn(namespace, restURL string) (wait time.Duration, open bool) {
	if h == nil {
		return 0, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.endpoints[healthKey{namespace, OriginOf(restURL)}]
	if e == nil || !e.open {
		return 0, false
	}
	return max(e.nextProbe.Sub(h.now()), 0) + 10*time.Millisecond, true
}

// WaitFor has w wake key once the endpoint of restURL in namespace answers
// again. It reports false when nothing is known against the endpoint (it
// answered last): then nothing will wake key.
func (h *Health) WaitFor(w *Wakeup, namespace, restURL string, key types.NamespacedName) bool {
	if h == nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	hk := healthKey{namespace, OriginOf(restURL)}
	if h.endpoints[hk] == nil {
		return false
	}
	if h.waiting == nil {
		h.waiting = map[healthKey]map[waiter]struct{}{}
	}
	if h.waiting[hk] == nil {
		h.waiting[hk] = map[waiter]struct{}{}
	}
	h.waiting[hk][waiter{w, key}] = struct{}{}
	return true
}

func (h *Health) wake(waiters map[waiter]struct{}) {
	ctx := h.context()
	for w := range waiters {
		w.wakeup.mark(w.key)
	}
	go func() {
		for w := range waiters {
			select {
			case w.wakeup.events <- event.GenericEvent{Object: w.wakeup.object(w.key)}:
			case <-ctx.Done():
				return
			}
		}
	}()
}

// Wakeup is a controller's source of the objects woken because their
// endpoint answers again.
type Wakeup struct {
	events chan event.GenericEvent
	newObj func() client.Object

	mu    sync.Mutex
	woken map[types.NamespacedName]struct{}
}

// NewWakeup returns a Wakeup of objects made by newObj.
func NewWakeup(newObj func() client.Object) *Wakeup {
	return &Wakeup{events: make(chan event.GenericEvent, 1024), newObj: newObj, woken: map[types.NamespacedName]struct{}{}}
}

// Source enqueues the woken objects.
func (w *Wakeup) Source() source.Source {
	return source.Channel(w.events, &handler.EnqueueRequestForObject{})
}

func (w *Wakeup) object(key types.NamespacedName) client.Object {
	obj := w.newObj()
	obj.SetNamespace(key.Namespace)
	obj.SetName(key.Name)
	return obj
}

func (w *Wakeup) mark(key types.NamespacedName) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.woken[key] = struct{}{}
}

// Woken reports, once, whether key was woken since it last asked: its
// endpoint answers again, so its wait may end early.
func (w *Wakeup) Woken(key types.NamespacedName) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.woken[key]
	delete(w.woken, key)
	return ok
}
