package egress

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckURL(t *testing.T) {
	entries := []string{
		"*.{namespace}.svc", "*.{namespace}.svc.cluster.local", "flink.example.com", "gateway.example.com:8083",
		"10.0.0.0/8", "fd00:1::/32:8081", "flink.{namespace}.example.com",
	}
	strict, err := Parse(entries, Options{})
	require.NoError(t, err)
	loopback, err := Parse(entries, Options{AllowLoopback: true})
	require.NoError(t, err)
	// open allows every address: the always-denied ones stay denied.
	open, err := Parse([]string{"*", "0.0.0.0/0", "::/0"}, Options{AllowLoopback: true})
	require.NoError(t, err)

	const (
		notListed = "is not on the manager's endpoint allow-list"
		never     = "the manager never calls one"
		noLoop    = "only with --allow-loopback-endpoints"
	)
	long := "http://flink.example.com/" + strings.Repeat("x", MaxURLLength-len("http://flink.example.com/"))
	tests := []struct {
		name      string
		policy    Policy
		url       string
		namespace string
		wantErr   string // "" allowed; else a fragment of the one-line refusal
	}{
		{"own namespace's service", strict, "http://orders-rest.team-a.svc:8081", "team-a", ""},
		{"own namespace, cluster.local", strict, "https://orders-rest.team-a.svc.cluster.local:8081/v1", "team-a", ""},
		{"own namespace, deeper labels", strict, "http://a.orders.team-a.svc:8081", "team-a", ""},
		{"upper case and a trailing dot", strict, "HTTP://Orders-Rest.Team-A.svc.:8081", "team-a", ""},
		{"another namespace's service", strict, "http://orders-rest.team-b.svc:8081", "team-a", "host orders-rest.team-b.svc (port 8081) " + notListed + " for namespace team-a"},
		{"the glob needs a label before it", strict, "http://team-a.svc:8081", "team-a", notListed},
		{"a suffix that is no label", strict, "http://orders-rest.evilteam-a.svc:8081", "team-a", notListed},
		{"{namespace} without a namespace", strict, "http://orders-rest.team-a.svc:8081", "", "(port 8081) " + notListed + "; a cluster admin"},
		{"{namespace} that spans labels", strict, "http://x.a.b.svc:8081", "a.b", notListed},
		{"{namespace} in an exact host", strict, "http://flink.team-a.example.com", "team-a", ""},
		{"exact host, any port", strict, "http://flink.example.com:1234", "team-a", ""},
		{"exact host, default port", strict, "https://flink.example.com", "team-a", ""},
		{"exact host is not a glob", strict, "http://x.flink.example.com", "team-a", notListed},
		{"host with its port", strict, "http://gateway.example.com:8083", "team-a", ""},
		{"host on another port", strict, "http://gateway.example.com:8081", "team-a", "host gateway.example.com (port 8081) " + notListed},
		{"host on the default port", strict, "https://gateway.example.com", "team-a", "(port 443) " + notListed},
		{"an IP in a CIDR", strict, "http://10.1.2.3:8081", "team-a", ""},
		{"an IP outside", strict, "http://11.1.2.3:8081", "team-a", "host 11.1.2.3 (port 8081) " + notListed},
		{"a name is not matched against CIDRs", strict, "http://ten.internal:8081", "team-a", notListed},
		{"IPv6 in a CIDR with its port", strict, "http://[fd00:1::5]:8081", "team-a", ""},
		{"IPv6 on another port", strict, "http://[fd00:1::5]:9000", "team-a", notListed},
		{"IPv6 outside", strict, "http://[fd00:2::5]:8081", "team-a", notListed},

		{"cloud metadata", open, "http://169.254.169.254/latest/meta-data/iam/security-credentials/", "team-a", "host 169.254.169.254 is a link-local (cloud metadata) address: " + never},
		{"link-local", open, "http://169.254.1.1:8081", "team-a", never},
		{"IPv6 link-local", open, "http://[fe80::1]:8081", "team-a", never},
		{"IPv6 link-local with a zone", open, "http://[fe80::1%25eth0]:8081", "team-a", "IPv6 zones are not allowed"},
		{"AWS IPv6 metadata", open, "http://[fd00:ec2::254]/", "team-a", "cloud metadata address"},
		{"Alibaba metadata", open, "http://100.100.100.200/", "team-a", "cloud metadata address"},
		{"metadata as IPv4-mapped IPv6", open, "http://[::ffff:169.254.169.254]/", "team-a", never},
		{"metadata through NAT64", open, "http://[64:ff9b::a9fe:a9fe]/", "team-a", "maps to 169.254.169.254 (NAT64), which is a link-local"},
		{"unspecified", open, "http://0.0.0.0:8081", "team-a", "unspecified address"},
		{"unspecified IPv6", open, "http://[::]:8081", "team-a", "unspecified address"},
		{"multicast", open, "http://224.0.0.1:8081", "team-a", "multicast address"},
		{"an ordinary address, open policy", open, "http://192.168.1.10:8081", "team-a", ""},

		{"loopback denied", strict, "http://127.0.0.1:8081", "team-a", "host 127.0.0.1 is a loopback address: the manager calls one " + noLoop},
		{"loopback anywhere in 127/8", strict, "http://127.1.2.3:8081", "team-a", noLoop},
		{"IPv6 loopback denied", strict, "http://[::1]:8081", "team-a", noLoop},
		{"loopback as IPv4-mapped IPv6", strict, "http://[::ffff:127.0.0.1]:8081", "team-a", noLoop},
		{"localhost denied", strict, "http://localhost:8081", "team-a", "host localhost is a loopback name"},
		{"a name under localhost denied", strict, "http://flink.localhost:8081", "team-a", "loopback name"},
		{"loopback allowed", loopback, "http://127.0.0.1:8081", "team-a", ""},
		{"IPv6 loopback allowed", loopback, "http://[::1]:8081", "team-a", ""},
		{"localhost allowed", loopback, "http://localhost:8081", "team-a", ""},
		{"the switch allows loopback only", loopback, "http://11.1.2.3:8081", "team-a", notListed},

		{"user and password", strict, "http://admin:s3cret@flink.example.com", "team-a", "URL of host flink.example.com carries user information"},
		{"user only", strict, "http://admin@flink.example.com", "team-a", "carries user information"},
		{"file", strict, "file:///var/run/secrets/kubernetes.io/serviceaccount/token", "team-a", `URL scheme "file": want http or https`},
		{"ftp", strict, "ftp://flink.example.com", "team-a", `URL scheme "ftp"`},
		{"no scheme", strict, "flink.example.com:8081", "team-a", `URL scheme "flink.example.com"`},
		{"no host", strict, "http:///jobs", "team-a", "names no host"},
		{"opaque", strict, "http:flink.example.com", "team-a", "names no host"},
		{"not a URL", strict, "http://flink.example.com/\n", "team-a", `is not a URL`},
		{"port 0", open, "http://flink.example.com:0", "team-a", `port "0": want 1-65535`},
		{"port too high", open, "http://flink.example.com:70000", "team-a", `port "70000"`},
		{"a decimal IP", open, "http://2130706433:8081", "team-a", `host "2130706433" is neither a DNS name nor an IP address`},
		{"a hex IP", open, "http://0x7f.1:8081", "team-a", "neither a DNS name nor an IP address"},
		{"an underscore", open, "http://a_b.example.com", "team-a", "neither a DNS name nor an IP address"},
		{"longest URL", strict, long, "team-a", ""},
		{"too long", strict, long + "x", "team-a", "URL of 2049 bytes: the manager calls URLs of at most 2048 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.CheckURL(tt.url, tt.namespace)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrDenied)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.NotContains(t, err.Error(), "\n", "one line")
			assert.NotContains(t, err.Error(), "s3cret", "a password is never repeated")
			if strings.Contains(tt.wantErr, notListed) {
				assert.Contains(t, err.Error(), "--allow-endpoint", "names the way out")
			}
		})
	}
}
