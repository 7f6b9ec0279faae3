package egress

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	tests := []struct {
		entry string
		want  entry
	}{
		{"flink.example.com", entry{name: "flink.example.com"}},
		{"  Flink.Example.COM. ", entry{name: "flink.example.com"}},
		{"flink.example.com:8081", entry{name: "flink.example.com", port: "8081"}},
		{"*.svc", entry{name: "svc", glob: true}},
		{"*.svc.cluster.local:8081", entry{name: "svc.cluster.local", glob: true, port: "8081"}},
		{"*", entry{glob: true}},
		{"*:8083", entry{glob: true, port: "8083"}},
		{"*.{namespace}.svc", entry{name: "{namespace}.svc", glob: true}},
		{"flink.{namespace}.example.com", entry{name: "flink.{namespace}.example.com"}},
		{"{namespace}-flink.example.com", entry{name: "{namespace}-flink.example.com"}},
		{"10.0.0.0/8", entry{prefix: netip.MustParsePrefix("10.0.0.0/8")}},
		{"10.1.2.3/8", entry{prefix: netip.MustParsePrefix("10.0.0.0/8")}},
		{"10.0.0.0/8:8081", entry{prefix: netip.MustParsePrefix("10.0.0.0/8"), port: "8081"}},
		{"10.1.2.3", entry{prefix: netip.MustParsePrefix("10.1.2.3/32")}},
		{"10.1.2.3:8081", entry{prefix: netip.MustParsePrefix("10.1.2.3/32"), port: "8081"}},
		{"fd00::/8", entry{prefix: netip.MustParsePrefix("fd00::/8")}},
		{"FD00::/8:8081", entry{prefix: netip.MustParsePrefix("fd00::/8"), port: "8081"}},
		{"fd00::1", entry{prefix: netip.MustParsePrefix("fd00::1/128")}},
		{"[fd00::1]:8081", entry{prefix: netip.MustParsePrefix("fd00::1/128"), port: "8081"}},
		{"0.0.0.0/0", entry{prefix: netip.MustParsePrefix("0.0.0.0/0")}},
		{"127.0.0.0/8", entry{prefix: netip.MustParsePrefix("127.0.0.0/8")}},
	}
	for _, tt := range tests {
		t.Run(tt.entry, func(t *testing.T) {
			p, err := Parse([]string{tt.entry}, Options{})
			require.NoError(t, err)
			require.Len(t, p.entries, 1)
			assert.Equal(t, tt.want, p.entries[0])
		})
	}
}

func TestParseRefusesBadEntries(t *testing.T) {
	tests := []struct {
		entry string
		why   string
	}{
		{"", "empty"},
		{"http://flink.example.com", "an entry is a host, not a URL"},
		{"flink.example.com/path", "not a CIDR"},
		{"flink..example.com", "not a host name"},
		{"-flink.example.com", "not a host name"},
		{"flink_1.example.com", "not a host name"},
		{"*.-svc", "not a host name"},
		{"orders-*.svc", "* may only be the whole first label"},
		{"a.*.svc", "* may only be the whole first label"},
		{"**.svc", "* may only be the whole first label"},
		{"*.{ns}.svc", "not a host name"},
		{"flink.example.com:0", `port "0"`},
		{"flink.example.com:65536", `port "65536"`},
		{"flink.example.com:http", `port "http"`},
		{"flink.example.com:8081:1", `port "8081:1"`},
		{"10.0.0.0/33", "not a CIDR"},
		{"10.0.0.0/8:x", `port "x"`},
		{"{namespace}/8", "not a CIDR"},
		{"1.2.3", "not a host name"},
		{"2130706433", "not a host name"},
		{"0x7f000001", "not a host name"},
		{"fe80::1%eth0", "IPv6 zones"},
		{"::ffff:10.0.0.0/104", "write an IPv4 CIDR as IPv4"},
		{"169.254.169.254", "link-local (cloud metadata) addresses are always denied"},
		{"169.254.0.0/16:80", "link-local (cloud metadata) addresses are always denied"},
		{"fe80::/10", "link-local addresses are always denied"},
		{"fd00:ec2::254", "cloud metadata addresses are always denied"},
		{"100.100.100.200", "cloud metadata addresses are always denied"},
		{"0.0.0.0", "unspecified addresses are always denied"},
		{"::", "unspecified addresses are always denied"},
		{"239.0.0.0/8", "multicast addresses are always denied"},
	}
	for _, tt := range tests {
		t.Run(tt.entry, func(t *testing.T) {
			_, err := Parse([]string{"*.svc", tt.entry}, Options{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), `allow-list entry "`+tt.entry+`": `+tt.why)
			assert.Contains(t, err.Error(), "want a host (flink.example.com), a host glob (*.svc, *.{namespace}.svc), an IP address or a CIDR")
			assert.NotContains(t, err.Error(), "\n")
		})
	}
}

func TestDefaultEntriesParse(t *testing.T) {
	p, err := Parse(DefaultEntries(), Options{})
	require.NoError(t, err)
	assert.NoError(t, p.CheckURL("http://orders-rest.team-a.svc:8081", "team-a"))
	assert.NoError(t, p.CheckURL("http://orders-rest.team-a.svc.cluster.local:8081", "team-a"))
	assert.ErrorIs(t, p.CheckURL("http://orders-rest.team-b.svc:8081", "team-a"), ErrDenied)
}

func TestZeroPolicyAllowsNothing(t *testing.T) {
	for _, u := range []string{"http://flink.example.com", "http://10.0.0.1:8081", "http://127.0.0.1:8081", "http://localhost:8081"} {
		assert.ErrorIs(t, Policy{}.CheckURL(u, "team-a"), ErrDenied, u)
		empty, err := Parse(nil, Options{})
		require.NoError(t, err)
		assert.ErrorIs(t, empty.CheckURL(u, "team-a"), ErrDenied, u)
	}
}
