package endpoint

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/egress"
)

// TestHealthCircuit: failures in a row open an endpoint's circuit, after
// which nothing is sent there; a probe that gets an answer closes it and
// wakes the objects that wait for it. Per namespace.
func TestHealthCircuit(t *testing.T) {
	var down atomic.Bool
	var served atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		if down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{"flink-version":"2.3.0"}`))
	}))
	t.Cleanup(srv.Close)

	h := &Health{Threshold: 2, Base: 20 * time.Millisecond, Cap: 40 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() { _ = h.Start(ctx) }()
	clients := &Clients{Policy: egress.LocalOnly(), Health: h, Options: flink.Options{Retries: -1}}
	fc, err := clients.Get("team-a", srv.URL)
	require.NoError(t, err)
	other, err := clients.Get("team-b", srv.URL)
	require.NoError(t, err)

	down.Store(true)
	for range 2 {
		_, err := fc.Info(ctx)
		require.ErrorIs(t, err, flink.ErrUnreachable)
	}
	sent := served.Load()
	_, err = fc.Info(ctx)
	var open *CircuitOpenError
	require.ErrorAs(t, err, &open, "the circuit is open")
	assert.ErrorIs(t, err, flink.ErrUnreachable, "taken as no answer")
	assert.True(t, NotSent(err))
	assert.Equal(t, sent, served.Load(), "nothing sent while it is open")
	_, isOpen := h.RetryIn("team-a", srv.URL)
	assert.True(t, isOpen)
	_, isOpen = h.RetryIn("team-b", srv.URL)
	assert.False(t, isOpen, "another namespace's circuit is its own")
	_, err = other.Info(ctx)
	require.ErrorIs(t, err, flink.ErrUnreachable)
	assert.False(t, NotSent(err), "a 503 is an answer: the request arrived")

	wake := NewWakeup(func() client.Object { return &cmfv1.Savepoint{} })
	key := types.NamespacedName{Namespace: "team-a", Name: "sp"}
	require.True(t, h.WaitFor(wake, "team-a", srv.URL, key))

	down.Store(false)
	select {
	case ev := <-wake.events:
		assert.Equal(t, key, client.ObjectKeyFromObject(ev.Object))
	case <-time.After(10 * time.Second):
		t.Fatal("not woken once the endpoint answers")
	}
	assert.True(t, wake.Woken(key))
	assert.False(t, wake.Woken(key), "once")
	_, err = fc.Info(ctx)
	require.NoError(t, err, "closed again")
	assert.False(t, h.WaitFor(wake, "team-a", srv.URL, key), "nothing against the endpoint: nothing to wait for")
}

// TestNotSent: only failures that prove the request never left count.
func TestNotSent(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"circuit open", &CircuitOpenError{Origin: "http://x"}, true},
		{"dial refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{"name not resolved", &net.DNSError{Name: "x", IsNotFound: true}, true},
		{"reset while reading", &net.OpError{Op: "read", Err: errors.New("connection reset")}, false},
		{"timeout", context.DeadlineExceeded, false},
		{"no error kind", errors.New("x"), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, NotSent(&flink.Error{Op: "trigger", Kind: flink.ErrUnreachable, Err: tt.err}))
		})
	}
}
