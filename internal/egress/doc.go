// Package egress is the cluster admin's allow-list of the endpoints the
// manager may call on behalf of a namespace: JobManager and SQL Gateway URLs
// of ComputePools, the rest-url of a parent, http(s) jar URIs. Namespace users
// write those URLs; the manager calls them from its privileged network
// position, so what it may reach is an admin decision, never theirs.
//
// # Entries
//
// An entry is one of (case-insensitive; each may end in :port, which then is
// the only port it allows; without one, any port):
//
//   - a host name: flink.example.com, flink.example.com:8081;
//   - a host glob: *.svc, *.svc.cluster.local. The * is the whole first label
//     and matches ONE OR MORE labels, so *.svc matches orders.team-a.svc and
//     x.orders.team-a.svc but not svc itself. A lone * matches every name;
//   - an IP address or a CIDR: 10.1.2.3, 10.0.0.0/8, fd00::/8, and with a
//     port 10.1.2.3:8081, [fd00::1]:8081, 10.0.0.0/8:8081, fd00::/8:8081.
//
// A host name or glob may contain {namespace}, replaced by the namespace of
// the object whose URL is checked: *.{namespace}.svc lets a ComputePool reach
// only the services of its own namespace. An entry with {namespace} matches
// nothing for an object without a namespace.
//
// A name is allowed only by a name or glob entry, and an IP address written
// in a URL only by an IP or CIDR entry: names are not resolved to be matched
// against CIDRs, because what a name resolves to at admission says nothing of
// what it resolves to when the manager connects.
//
// An empty allow-list allows nothing. The manager's default list is
// DefaultEntries: *.{namespace}.svc and *.{namespace}.svc.cluster.local.
//
// # Always denied
//
// Whatever the list says, the manager never connects to link-local addresses
// (169.254.0.0/16, fe80::/10, where clouds serve instance metadata and
// credentials), other clouds' metadata addresses (100.100.100.200,
// fd00:ec2::254), unspecified addresses (0.0.0.0/8, ::), multicast and
// broadcast. Loopback (127.0.0.0/8, ::1, the name localhost) is where the
// manager's own ports are; it is denied unless Options.AllowLoopback is set,
// which only a local playground needs. These addresses are checked in the URL
// and again for every address a name resolves to when the connection is made
// (see Policy.HTTPClient), which defeats names that resolve to them and DNS
// rebinding.
package egress
