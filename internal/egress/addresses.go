package egress

import "net/netip"

// alwaysDenied are the addresses the manager never connects to, whatever
// the allow-list says. Read-only.
var alwaysDenied = []struct {
	prefix netip.Prefix
	what   string
}{
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local (cloud metadata)"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("100.100.100.200/32"), "cloud metadata"},
	{netip.MustParsePrefix("fd00:ec2::254/128"), "cloud metadata"},
	// Connecting to 0.0.0.0 reaches the local host on Linux.
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified"},
	{netip.MustParsePrefix("::/128"), "unspecified"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
	{netip.MustParsePrefix("255.255.255.255/32"), "broadcast"},
}

// nat64 is the well-known NAT64 prefix: 64:ff9b::a9fe:a9fe reaches
// 169.254.169.254 on a network with a NAT64 gateway.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// addressRefusal says why the manager may not connect to addr ("" when it
// may, as far as the always-denied addresses and the loopback switch go).
func (p Policy) addressRefusal(addr netip.Addr) string {
	addr = addr.WithZone("").Unmap() // a zoned address matches no prefix
	if nat64.Contains(addr) {
		b := addr.As16()
		v4 := netip.AddrFrom4([4]byte(b[12:]))
		if why := p.addressRefusal(v4); why != "" {
			return "maps to " + v4.String() + " (NAT64), which " + why
		}
	}
	for _, d := range alwaysDenied {
		if d.prefix.Contains(addr) {
			return "is a " + d.what + " address: the manager never calls one"
		}
	}
	if addr.IsLoopback() && !p.allowLoopback {
		return "is a loopback address: the manager calls one only with --allow-loopback-endpoints (a local playground)"
	}
	return ""
}
