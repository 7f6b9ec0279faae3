package egress

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// namespacePlaceholder is replaced in name and glob entries by the namespace
// of the object whose URL is checked.
const namespacePlaceholder = "{namespace}"

// ErrDenied is matched (errors.Is) by every refusal of this package, at
// CheckURL and in the connections of HTTPClient.
var ErrDenied = errors.New("endpoint not allowed")

// DefaultEntries is the manager's allow-list when its admin configures none:
// the services of the object's own namespace.
func DefaultEntries() []string {
	return []string{"*.{namespace}.svc", "*.{namespace}.svc.cluster.local"}
}

// Options configure a Policy beyond its entries. The zero value is the
// secure one.
type Options struct {
	// AllowLoopback lets the manager call loopback addresses (127.0.0.0/8,
	// ::1, localhost) without an entry, and names that resolve to them. Only
	// for a local playground where Flink runs beside the manager: in a
	// cluster, loopback is the manager's own metrics, health and webhook ports.
	AllowLoopback bool
}

// Policy is a parsed allow-list. Its zero value allows nothing.
type Policy struct {
	entries       []entry
	allowLoopback bool
	// lookup resolves a name when connecting; nil is the system resolver.
	// Tests set it to make a name resolve where they need.
	lookup func(ctx context.Context, host string) ([]netip.Addr, error)
}

// entry is one allowed host, glob or CIDR, with an optional port.
type entry struct {
	// name is an exact host, or for a glob the labels after "*." ("" for a
	// lone *); it may hold {namespace}. Empty for a CIDR entry.
	name string
	glob bool
	// prefix is set (IsValid) for an IP or CIDR entry.
	prefix netip.Prefix
	// port is the only port allowed, "" for any.
	port string
}

// Parse reads an allow-list. A bad entry is an error naming it and the forms
// an entry takes.
func Parse(entries []string, opts Options) (Policy, error) {
	p := Policy{allowLoopback: opts.AllowLoopback}
	for _, raw := range entries {
		e, err := parseEntry(raw)
		if err != nil {
			return Policy{}, fmt.Errorf("allow-list entry %q: %w; want a host (flink.example.com), a host glob (*.svc, *.{namespace}.svc), an IP address or a CIDR (10.0.0.0/8, fd00::/8), each with an optional :port", raw, err)
		}
		p.entries = append(p.entries, e)
	}
	return p, nil
}

func parseEntry(raw string) (entry, error) {
	s := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(raw)), ".")
	switch {
	case s == "":
		return entry{}, errors.New("empty")
	case strings.Contains(s, "://"):
		return entry{}, errors.New("an entry is a host, not a URL")
	case strings.Contains(s, "/"):
		return parseCIDREntry(s)
	}
	if addr, err := netip.ParseAddr(s); err == nil { // 10.1.2.3, fd00::1
		return addressEntry(addr, "")
	}
	if ap, err := netip.ParseAddrPort(s); err == nil { // 10.1.2.3:8081, [fd00::1]:8081
		return addressEntry(ap.Addr(), strconv.Itoa(int(ap.Port())))
	}
	host, port, hasPort := strings.Cut(s, ":")
	e := entry{}
	if hasPort {
		var err error
		if e.port, err = parsePort(port); err != nil {
			return entry{}, err
		}
	}
	switch {
	case host == "*":
		e.glob = true
		return e, nil
	case strings.HasPrefix(host, "*."):
		e.glob, e.name = true, host[2:]
	default:
		e.name = host
	}
	if strings.Contains(e.name, "*") {
		return entry{}, errors.New("* may only be the whole first label")
	}
	if !validName(strings.ReplaceAll(e.name, namespacePlaceholder, "namespace")) {
		return entry{}, errors.New("not a host name")
	}
	return e, nil
}

// parseCIDREntry reads 10.0.0.0/8 or fd00::/8, each optionally with :port
// after the prefix length.
func parseCIDREntry(s string) (entry, error) {
	addr, rest, _ := strings.Cut(s, "/")
	bits, port, hasPort := strings.Cut(rest, ":")
	prefix, err := netip.ParsePrefix(addr + "/" + bits)
	if err != nil {
		return entry{}, errors.New("not a CIDR")
	}
	if hasPort {
		if port, err = parsePort(port); err != nil {
			return entry{}, err
		}
	}
	if prefix.Addr().Is4In6() {
		return entry{}, errors.New("write an IPv4 CIDR as IPv4")
	}
	return prefixEntry(prefix.Masked(), port)
}

func addressEntry(addr netip.Addr, port string) (entry, error) {
	if addr.Zone() != "" {
		return entry{}, errors.New("IPv6 zones are not allowed")
	}
	addr = addr.Unmap()
	return prefixEntry(netip.PrefixFrom(addr, addr.BitLen()), port)
}

// prefixEntry refuses a prefix that holds only always-denied addresses: the
// entry could never allow anything, and its admin should know.
func prefixEntry(prefix netip.Prefix, port string) (entry, error) {
	for _, d := range alwaysDenied {
		if d.prefix.Bits() <= prefix.Bits() && d.prefix.Contains(prefix.Addr()) {
			return entry{}, fmt.Errorf("%s addresses are always denied", d.what)
		}
	}
	return entry{prefix: prefix, port: port}, nil
}

func parsePort(s string) (string, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != s {
		return "", fmt.Errorf("port %q: want 1-65535", s)
	}
	return s, nil
}

// matchesName reports whether e allows the (normalised) name on port for
// an object of namespace.
func (e entry) matchesName(name, port, namespace string) bool {
	if e.prefix.IsValid() || (e.port != "" && e.port != port) {
		return false
	}
	pattern := e.name
	if strings.Contains(pattern, namespacePlaceholder) {
		if !validLabel(namespace) {
			return false // no namespace, or one that could span labels
		}
		pattern = strings.ReplaceAll(pattern, namespacePlaceholder, namespace)
	}
	switch {
	case !e.glob:
		return name == pattern
	case pattern == "":
		return true
	default:
		return strings.HasSuffix(name, "."+pattern)
	}
}

// matchesAddress reports whether e allows addr on port.
func (e entry) matchesAddress(addr netip.Addr, port string) bool {
	return e.prefix.IsValid() && (e.port == "" || e.port == port) && e.prefix.Contains(addr)
}

// validName reports whether name is a lower-case DNS name of letters,
// digits and hyphens whose last label is no number: 2130706433, 0x7f.1 or
// 0x7f000001 are IP addresses to some resolvers, never names.
func validName(name string) bool {
	if name == "" || len(name) > 253 {
		return false
	}
	labels := strings.Split(name, ".")
	for _, label := range labels {
		if !validLabel(label) {
			return false
		}
	}
	last := labels[len(labels)-1]
	return strings.Trim(last, "0123456789") != "" &&
		!(strings.HasPrefix(last, "0x") && strings.Trim(last[2:], "0123456789abcdef") == "")
}

// validLabel reports whether s is one DNS label (RFC 1123), lower case.
func validLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// MustParse is Parse for entries written in the code (tests, a fixed
// configuration); it panics on a bad entry.
func MustParse(entries []string, opts Options) Policy {
	p, err := Parse(entries, opts)
	if err != nil {
		panic(err)
	}
	return p
}

// LocalOnly allows this machine only (loopback, by address or as
// localhost): what a local playground and the tests run against.
func LocalOnly() Policy {
	return MustParse([]string{"127.0.0.1", "::1", "localhost"}, Options{AllowLoopback: true})
}
