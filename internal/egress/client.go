package egress

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// DefaultTimeout bounds a whole request of an HTTPClient asked for with no
// timeout.
const DefaultTimeout = 30 * time.Second

// maxRedirects is how many redirects (within one scheme, host and port) a
// request follows.
const maxRedirects = 3

// HTTPClient returns a client that calls only what p allows for namespace,
// checked when each connection is made: the host must pass CheckURL's host
// rules, every address it resolves to must be no always-denied address (nor
// loopback, unless allowed), and an IP host must be in an allowed CIDR. It
// follows at most 3 redirects and none to another scheme, host or port; it
// uses no proxy from the environment; timeout (DefaultTimeout when 0 or
// less) bounds each whole request. Keep the client for many requests: its
// connections are pooled.
func (p Policy) HTTPClient(namespace string, timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	d := &dialer{policy: p, namespace: namespace}
	return &http.Client{
		Transport: redirectGuard{&http.Transport{
			Proxy:                 nil, // a proxy would connect for us, unchecked
			DialContext:           d.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		}},
		CheckRedirect: checkRedirect,
		Timeout:       timeout,
	}
}

// dialer connects to the addresses p allows for namespace.
type dialer struct {
	policy    Policy
	namespace string
}

// DialContext resolves addr's host itself, so that each address is checked
// before it is dialled, and dials with a Control that checks the address
// the socket really connects to.
func (d *dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if err := d.policy.checkHost(host, port, d.namespace); err != nil {
		return nil, err
	}
	if literal, err := netip.ParseAddr(host); err == nil {
		return dialChecked(ctx, network, literal, port, d.policy.literalCheck(port, d.namespace))
	}
	addrs, err := d.policy.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	check := d.policy.resolvedCheck(host)
	var first error
	for _, a := range addrs {
		conn, err := dialChecked(ctx, network, a, port, check)
		if err == nil {
			return conn, nil
		}
		// A refusal tells more than a later address's connection error.
		if first == nil || (errors.Is(err, ErrDenied) && !errors.Is(first, ErrDenied)) {
			first = err
		}
	}
	if first == nil {
		first = &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	return nil, first
}

// literalCheck checks the address of a URL whose host is an IP address.
func (p Policy) literalCheck(port, namespace string) func(netip.Addr) error {
	return func(a netip.Addr) error { return p.checkAddress(a, port, namespace) }
}

// resolvedCheck checks an address that host, an allowed name, resolved to.
func (p Policy) resolvedCheck(host string) func(netip.Addr) error {
	return func(a netip.Addr) error {
		if why := p.addressRefusal(a); why != "" {
			return denied("host %s resolves to %s, which %s", host, a, why)
		}
		return nil
	}
}

// dialChecked dials addr on port after check allowed it; the dialer's
// Control checks again the address the socket connects to (Control runs
// after the socket is made, before it connects).
func dialChecked(ctx context.Context, network string, addr netip.Addr, port string, check func(netip.Addr) error) (net.Conn, error) {
	if err := check(addr); err != nil {
		return nil, err
	}
	dialer := net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: control(check)}
	return dialer.DialContext(ctx, network, net.JoinHostPort(addr.String(), port))
}

// control is a net.Dialer Control that refuses an address check refuses.
func control(check func(netip.Addr) error) func(network, address string, _ syscall.RawConn) error {
	return func(_, address string, _ syscall.RawConn) error {
		target, err := netip.ParseAddrPort(address)
		if err != nil {
			return denied("connect to %s: not an IP address and port", address)
		}
		return check(target.Addr())
	}
}

// resolve returns the addresses of a name.
func (p Policy) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if p.lookup != nil {
		return p.lookup(ctx, host)
	}
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// redirectGuard refuses an answer that redirects to another scheme, host
// or port, whoever follows redirects: a caller may copy the client and
// replace its CheckRedirect, and the http.Client's own error would repeat
// the target, which is what the server wrote.
type redirectGuard struct {
	next *http.Transport
}

func (g redirectGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := g.next.RoundTrip(req)
	if err != nil || resp.StatusCode < 300 || resp.StatusCode > 399 {
		return resp, err
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		target, err := req.URL.Parse(loc)
		if err != nil || !sameEndpoint(req.URL, target) {
			resp.Body.Close()
			return nil, denied("redirect from %s to another scheme, host or port refused: the manager follows redirects only within one endpoint", origin(req.URL))
		}
	}
	return resp, nil
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the pool.
func (g redirectGuard) CloseIdleConnections() { g.next.CloseIdleConnections() }

// checkRedirect follows at most maxRedirects redirects, each within the
// first request's endpoint (redirectGuard refused any other already).
func checkRedirect(req *http.Request, via []*http.Request) error {
	first := via[0].URL
	if !sameEndpoint(first, req.URL) {
		return denied("redirect from %s to another scheme, host or port refused: the manager follows redirects only within one endpoint", origin(first))
	}
	if len(via) > maxRedirects {
		return denied("more than %d redirects from %s: refused", maxRedirects, origin(first))
	}
	return nil
}

// sameEndpoint reports whether a and b have one scheme, host and port.
func sameEndpoint(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && strings.EqualFold(a.Hostname(), b.Hostname()) && portOf(a) == portOf(b)
}

// origin is scheme://host:port of u.
func origin(u *url.URL) string {
	return u.Scheme + "://" + net.JoinHostPort(u.Hostname(), portOf(u))
}
