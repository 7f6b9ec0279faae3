package egress

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// server is an httptest server on 127.0.0.1 that counts the requests it
// got and the connections it accepted.
type server struct {
	*httptest.Server
	requests    atomic.Int32
	connections atomic.Int32
}

func newServer(t *testing.T, handler http.HandlerFunc) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		handler(w, r)
	}))
	s.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			s.connections.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func ok(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }

// port is the port of a test server.
func (s *server) port() string {
	u, _ := url.Parse(s.URL)
	return u.Port()
}

// withNames makes a policy resolve names from a table instead of DNS.
func withNames(p Policy, names map[string][]string) Policy {
	p.lookup = func(_ context.Context, host string) ([]netip.Addr, error) {
		var addrs []netip.Addr
		for _, a := range names[host] {
			addrs = append(addrs, netip.MustParseAddr(a))
		}
		if len(addrs) == 0 {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		return addrs, nil
	}
	return p
}

func get(t *testing.T, c *http.Client, url string) (string, error) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), err
}

func mustParse(t *testing.T, entries []string, opts Options) Policy {
	t.Helper()
	p, err := Parse(entries, opts)
	require.NoError(t, err)
	return p
}

func TestHTTPClientConnectsWhereAllowed(t *testing.T) {
	srv := newServer(t, ok)
	tests := []struct {
		name    string
		policy  Policy
		url     string
		wantErr string // "" reaches the server; else a fragment of the refusal
	}{
		{"loopback allowed", mustParse(t, nil, Options{AllowLoopback: true}), srv.URL, ""},
		{"loopback denied", mustParse(t, nil, Options{}), srv.URL, "host 127.0.0.1 is a loopback address"},
		{"a CIDR entry does not lift the loopback switch", mustParse(t, []string{"127.0.0.0/8"}, Options{}), srv.URL, "loopback address"},
		{
			"an allowed name resolving to loopback, allowed",
			withNames(mustParse(t, []string{"flink.example.com"}, Options{AllowLoopback: true}), map[string][]string{"flink.example.com": {"127.0.0.1"}}),
			"http://flink.example.com:" + srv.port(), "",
		},
		{
			"an allowed name resolving to loopback, denied",
			withNames(mustParse(t, []string{"flink.example.com"}, Options{}), map[string][]string{"flink.example.com": {"127.0.0.1"}}),
			"http://flink.example.com:" + srv.port(), "host flink.example.com resolves to 127.0.0.1, which is a loopback address",
		},
		{
			"an allowed name resolving to cloud metadata",
			withNames(mustParse(t, []string{"flink.example.com"}, Options{AllowLoopback: true}), map[string][]string{"flink.example.com": {"169.254.169.254"}}),
			"http://flink.example.com:" + srv.port(), "resolves to 169.254.169.254, which is a link-local (cloud metadata) address",
		},
		{
			"a denied address among allowed ones is skipped",
			withNames(mustParse(t, []string{"flink.example.com"}, Options{AllowLoopback: true}), map[string][]string{"flink.example.com": {"169.254.169.254", "127.0.0.1"}}),
			"http://flink.example.com:" + srv.port(), "",
		},
		{
			"a name not on the list is refused before it is resolved",
			withNames(mustParse(t, []string{"flink.example.com"}, Options{AllowLoopback: true}), nil),
			"http://other.example.com:" + srv.port(), "host other.example.com (port " + srv.port() + ") is not on the manager's endpoint allow-list",
		},
		{
			"localhost is loopback",
			mustParse(t, []string{"*"}, Options{}),
			"http://localhost:" + srv.port(), "host localhost is a loopback name",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := srv.requests.Load()
			body, err := get(t, tt.policy.HTTPClient("team-a", 5*time.Second), tt.url)
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, "ok", body)
				return
			}
			require.ErrorIs(t, err, ErrDenied)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.NotContains(t, err.Error(), "\n")
			assert.Equal(t, before, srv.requests.Load(), "the server got nothing")
		})
	}
}

// TestHTTPClientChecksEveryConnection: the answer of a name can change
// between two connections (DNS rebinding); each connection is checked.
func TestHTTPClientChecksEveryConnection(t *testing.T) {
	srv := newServer(t, ok)
	var answer atomic.Value
	answer.Store("127.0.0.1")
	p := mustParse(t, []string{"flink.example.com"}, Options{AllowLoopback: true})
	p.lookup = func(context.Context, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr(answer.Load().(string))}, nil
	}
	c := p.HTTPClient("team-a", 5*time.Second)
	target := "http://flink.example.com:" + srv.port()
	_, err := get(t, c, target)
	require.NoError(t, err)

	c.CloseIdleConnections()
	answer.Store("169.254.169.254")
	_, err = get(t, c, target)
	require.ErrorIs(t, err, ErrDenied)
	assert.Contains(t, err.Error(), "resolves to 169.254.169.254")
}

// TestControl checks the dialer's last word, on the address a socket
// connects to.
func TestControl(t *testing.T) {
	p := mustParse(t, []string{"10.0.0.0/8:8081"}, Options{})
	literal := control(p.literalCheck("8081", "team-a"))
	byName := control(p.resolvedCheck("flink.example.com"))
	tests := []struct {
		name    string
		control func(network, address string, _ syscall.RawConn) error
		address string
		wantErr string
	}{
		{"literal in the CIDR", literal, "10.1.2.3:8081", ""},
		{"literal outside the CIDR", literal, "11.1.2.3:8081", "host 11.1.2.3 (port 8081) is not on the manager's endpoint allow-list"},
		{"literal metadata", literal, "169.254.169.254:8081", "host 169.254.169.254 is a link-local"},
		{"literal loopback", literal, "127.0.0.1:8081", "loopback"},
		{"a name's address outside any CIDR", byName, "11.1.2.3:8081", ""},
		{"a name's address in IPv6 link-local", byName, "[fe80::1]:8081", "host flink.example.com resolves to fe80::1, which is a link-local"},
		{"a name's address as IPv4-mapped metadata", byName, "[::ffff:169.254.169.254]:80", "link-local"},
		{"a name's address on loopback", byName, "[::1]:80", "loopback"},
		{"no address", byName, "flink.example.com:80", "not an IP address and port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.control("tcp", tt.address, nil)
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrDenied)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestHTTPClientRedirects(t *testing.T) {
	p := mustParse(t, nil, Options{AllowLoopback: true})
	other := newServer(t, ok)
	elsewhere := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/jobs", http.StatusFound)
	})
	within := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/b" {
			ok(w, r)
			return
		}
		http.Redirect(w, r, "/b", http.StatusTemporaryRedirect)
	})
	var loops atomic.Int32
	loop := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/again"+strings.Repeat("x", int(loops.Add(1))), http.StatusFound)
	})
	c := p.HTTPClient("team-a", 5*time.Second)

	t.Run("to another port is refused", func(t *testing.T) {
		_, err := get(t, c, elsewhere.URL+"/jobs")
		require.ErrorIs(t, err, ErrDenied)
		assert.Contains(t, err.Error(), "redirect from http://127.0.0.1:"+elsewhere.port()+" to another scheme, host or port refused")
		assert.NotContains(t, err.Error(), other.port(), "the target is what the server wrote: not repeated")
		assert.Zero(t, other.requests.Load())
	})
	t.Run("to another port is refused by a copy with another CheckRedirect", func(t *testing.T) {
		copied := *c
		copied.CheckRedirect = nil // the http package's default follows 10 anywhere
		_, err := get(t, &copied, elsewhere.URL+"/jobs")
		require.ErrorIs(t, err, ErrDenied)
		assert.Zero(t, other.requests.Load())
	})
	t.Run("within the endpoint is followed", func(t *testing.T) {
		body, err := get(t, c, within.URL+"/a")
		require.NoError(t, err)
		assert.Equal(t, "ok", body)
	})
	t.Run("more than 3 are refused", func(t *testing.T) {
		_, err := get(t, c, loop.URL)
		require.ErrorIs(t, err, ErrDenied)
		assert.Contains(t, err.Error(), "more than 3 redirects")
		assert.Equal(t, int32(4), loop.requests.Load(), "the first request and 3 redirects")
	})
}

func TestHTTPClientTransport(t *testing.T) {
	p := mustParse(t, nil, Options{AllowLoopback: true})

	t.Run("no proxy from the environment", func(t *testing.T) {
		transport := p.HTTPClient("team-a", time.Second).Transport.(redirectGuard).next
		assert.Nil(t, transport.Proxy)
	})
	t.Run("connections are kept alive", func(t *testing.T) {
		srv := newServer(t, ok)
		c := p.HTTPClient("team-a", 5*time.Second)
		for range 3 {
			_, err := get(t, c, srv.URL)
			require.NoError(t, err)
		}
		assert.Equal(t, int32(1), srv.connections.Load())
	})
	t.Run("the timeout bounds the whole request", func(t *testing.T) {
		release := make(chan struct{})
		srv := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			<-release // headers sent, body never finished
		})
		defer close(release)
		start := time.Now()
		_, err := get(t, p.HTTPClient("team-a", 200*time.Millisecond), srv.URL)
		require.Error(t, err)
		assert.Less(t, time.Since(start), 3*time.Second)
	})
	t.Run("no timeout is the default one", func(t *testing.T) {
		assert.Equal(t, DefaultTimeout, p.HTTPClient("team-a", 0).Timeout)
	})
}
