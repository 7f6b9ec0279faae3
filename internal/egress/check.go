package egress

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// MaxURLLength is the longest URL, in bytes, the manager calls.
const MaxURLLength = 2048

// CheckURL reports whether the manager may call rawURL for an object of
// namespace: an http or https URL of at most MaxURLLength bytes, without
// user information, whose host an entry allows and is no always-denied
// address. A refusal is one line naming the host and the way out; it
// matches ErrDenied.
//
// A name is not resolved here: what it resolves to is checked when the
// manager connects (HTTPClient).
func (p Policy) CheckURL(rawURL, namespace string) error {
	if len(rawURL) > MaxURLLength {
		return denied("URL of %d bytes: the manager calls URLs of at most %d bytes", len(rawURL), MaxURLLength)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return denied("%q is not a URL", rawURL)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return denied("URL scheme %q: want http or https", u.Scheme)
	}
	if u.Host == "" {
		return denied("URL %q names no host", rawURL)
	}
	if u.User != nil {
		return denied("URL of host %s carries user information (user@ or user:password@): the manager sends no credentials written in URLs", u.Hostname())
	}
	return p.checkHost(u.Hostname(), portOf(u), namespace)
}

// portOf is the port a URL connects to.
func portOf(u *url.URL) string {
	if port := u.Port(); port != "" {
		return port
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

// checkHost reports whether an entry allows host (a name or an IP address,
// without brackets) on port for namespace, and host is no always-denied
// address.
func (p Policy) checkHost(host, port, namespace string) error {
	if _, err := parsePort(port); err != nil {
		return denied("host %s: %v", host, err)
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		if addr.Zone() != "" {
			return denied("host %s: IPv6 zones are not allowed", host)
		}
		return p.checkAddress(addr, port, namespace)
	}
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	if !validName(name) {
		return denied("host %q is neither a DNS name nor an IP address", host)
	}
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		if p.allowLoopback {
			return nil
		}
		return denied("host %s is a loopback name: the manager calls one only with --allow-loopback-endpoints (a local playground)", host)
	}
	for _, e := range p.entries {
		if e.matchesName(name, port, namespace) {
			return nil
		}
	}
	return p.notAllowed(host, port, namespace)
}

// checkAddress reports whether the manager may connect to addr, written as
// the host of a URL, on port: it is no always-denied address and either an
// allowed loopback address or in an allowed CIDR.
func (p Policy) checkAddress(addr netip.Addr, port, namespace string) error {
	if why := p.addressRefusal(addr); why != "" {
		return denied("host %s %s", addr, why)
	}
	addr = addr.Unmap()
	if addr.IsLoopback() { // allowed, or addressRefusal had refused it
		return nil
	}
	for _, e := range p.entries {
		if e.matchesAddress(addr, port) {
			return nil
		}
	}
	return p.notAllowed(addr.String(), port, namespace)
}

func (p Policy) notAllowed(host, port, namespace string) error {
	scope := ""
	if namespace != "" {
		scope = " for namespace " + namespace
	}
	return denied("host %s (port %s) is not on the manager's endpoint allow-list%s; a cluster admin allows endpoints with --allow-endpoint (a host, a *.glob or a CIDR, each with an optional :port)", host, port, scope)
}

// deniedError is a refusal of this package; it matches ErrDenied.
type deniedError struct{ msg string }

func (e *deniedError) Error() string { return e.msg }

func (e *deniedError) Is(target error) bool { return target == ErrDenied }

func denied(format string, args ...any) error {
	return &deniedError{msg: fmt.Sprintf(format, args...)}
}
