package webhook

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
)

// t0 is when the test CAs are made; the clock is injected as now.
var t0 = time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)

var testNames = []string{"savepoint-manager-webhook.savepoint-system.svc", "localhost"}

// testOptions: certificates renewed 4h before they end, checked hourly.
var testOptions = CertOptions{CADuration: 10 * time.Hour, CertDuration: 6 * time.Hour, RenewBefore: 4 * time.Hour, CheckInterval: time.Hour}

func testCA(t *testing.T, at time.Time) *keyPair {
	t.Helper()
	ca, err := newCA(at, testOptions.CADuration)
	require.NoError(t, err)
	return ca
}

// testServing is a serving certificate of ca for names, issued at, with its PEM.
func testServing(t *testing.T, ca *keyPair, names []string, at time.Time) (*x509.Certificate, []byte, []byte) {
	t.Helper()
	certPEM, keyPEM, err := issueServing(ca, names, at, testOptions.CertDuration)
	require.NoError(t, err)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	return pair.Leaf, certPEM, keyPEM
}

func keyPEMOf(t *testing.T, ca *keyPair) []byte {
	t.Helper()
	keyPEM, err := encodeKey(ca.key)
	require.NoError(t, err)
	return keyPEM
}

func TestParseSecretCerts(t *testing.T) {
	older, newer := testCA(t, t0), testCA(t, t0.Add(time.Hour))
	serving, servingPEM, servingKeyPEM := testServing(t, newer, testNames, t0.Add(time.Hour))
	_, _, otherKeyPEM := testServing(t, newer, testNames, t0.Add(time.Hour))
	bundle := encodeBundle([]*x509.Certificate{older.cert, newer.cert}) // oldest first: parsed newest first

	tests := []struct {
		name        string
		data        map[string][]byte
		wantBundle  []*x509.Certificate
		wantSigner  *x509.Certificate
		wantServing *x509.Certificate
	}{
		{name: "an empty Secret holds nothing", data: nil},
		{
			name: "the CA whose key is ca.key signs; the bundle is newest first",
			data: map[string][]byte{caBundleKey: bundle, caKeyKey: keyPEMOf(t, newer),
				corev1.TLSCertKey: servingPEM, corev1.TLSPrivateKeyKey: servingKeyPEM},
			wantBundle: []*x509.Certificate{newer.cert, older.cert}, wantSigner: newer.cert, wantServing: serving,
		},
		{
			name:       "the older CA signs when ca.key is its key",
			data:       map[string][]byte{caBundleKey: bundle, caKeyKey: keyPEMOf(t, older)},
			wantBundle: []*x509.Certificate{newer.cert, older.cert}, wantSigner: older.cert,
		},
		{
			name:       "no CA signs when ca.key belongs to none of the bundle",
			data:       map[string][]byte{caBundleKey: encodeBundle([]*x509.Certificate{older.cert}), caKeyKey: keyPEMOf(t, newer)},
			wantBundle: []*x509.Certificate{older.cert},
		},
		{
			name: "no serving certificate when tls.key is not its key",
			data: map[string][]byte{caBundleKey: bundle, caKeyKey: keyPEMOf(t, newer),
				corev1.TLSCertKey: servingPEM, corev1.TLSPrivateKeyKey: otherKeyPEM},
			wantBundle: []*x509.Certificate{newer.cert, older.cert}, wantSigner: newer.cert,
		},
		{
			name:       "a serving certificate in ca.crt is not a CA",
			data:       map[string][]byte{caBundleKey: append(servingPEM, bundle...), caKeyKey: []byte("not PEM")},
			wantBundle: []*x509.Certificate{newer.cert, older.cert},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseSecretCerts(tt.data)
			assert.Equal(t, tt.wantBundle, got.bundle)
			if tt.wantSigner == nil {
				assert.Nil(t, got.signer)
			} else if assert.NotNil(t, got.signer) {
				assert.Equal(t, tt.wantSigner, got.signer.cert)
			}
			assert.Equal(t, tt.wantServing, got.serving)
		})
	}
}

// A Secret cert-controller filled (an RSA CA, its PKCS #1 key) is taken
// over as it is: its CA keeps signing.
func TestParseSecretCertsOfCertController(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	template := &x509.Certificate{
		SerialNumber: big.NewInt(0), Subject: pkix.Name{CommonName: "savepoint-manager-ca"},
		NotBefore: t0, NotAfter: t0.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, key.Public(), key)
	require.NoError(t, err)
	got := parseSecretCerts(map[string][]byte{
		caBundleKey: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		caKeyKey:    pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
	})
	require.NotNil(t, got.signer)
	assert.Equal(t, der, got.signer.cert.Raw)
	serving, _, _ := testServing(t, got.signer, testNames, t0)
	assert.True(t, signedBy(serving, got.signer.cert))
}

func TestWithCA(t *testing.T) {
	first, second, third := testCA(t, t0), testCA(t, t0.Add(time.Hour)), testCA(t, t0.Add(2*time.Hour))
	tests := []struct {
		name   string
		bundle []*x509.Certificate
		add    *x509.Certificate
		want   []*x509.Certificate
	}{
		{name: "into an empty bundle", add: first.cert, want: []*x509.Certificate{first.cert}},
		{name: "a new CA goes first", bundle: []*x509.Certificate{second.cert, first.cert}, add: third.cert, want: []*x509.Certificate{third.cert, second.cert, first.cert}},
		{name: "an older CA goes by its age", bundle: []*x509.Certificate{third.cert, first.cert}, add: second.cert, want: []*x509.Certificate{third.cert, second.cert, first.cert}},
		{name: "a CA already there is not added twice", bundle: []*x509.Certificate{second.cert, first.cert}, add: first.cert, want: []*x509.Certificate{second.cert, first.cert}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, withCA(tt.bundle, tt.add))
		})
	}
}

func TestPublishedBundle(t *testing.T) {
	old, current, theirs := testCA(t, t0), testCA(t, t0.Add(time.Hour)), testCA(t, t0.Add(2*time.Hour))
	now := t0.Add(3 * time.Hour)
	tests := []struct {
		name             string
		secret, caBundle []*x509.Certificate
		now              time.Time
		want             []*x509.Certificate
	}{
		{name: "an empty caBundle gets the Secret's", secret: []*x509.Certificate{current.cert}, now: now, want: []*x509.Certificate{current.cert}},
		{
			name:   "a CA the Secret dropped leaves the caBundle",
			secret: []*x509.Certificate{current.cert}, caBundle: []*x509.Certificate{current.cert, old.cert}, now: now,
			want: []*x509.Certificate{current.cert},
		},
		{
			name:   "a newer CA another replica published stays: this replica read the Secret before it",
			secret: []*x509.Certificate{current.cert, old.cert}, caBundle: []*x509.Certificate{theirs.cert, current.cert, old.cert}, now: now,
			want: []*x509.Certificate{theirs.cert, current.cert, old.cert},
		},
		{
			name:   "a newer CA that expired leaves",
			secret: []*x509.Certificate{current.cert}, caBundle: []*x509.Certificate{theirs.cert}, now: theirs.cert.NotAfter,
			want: []*x509.Certificate{current.cert},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, publishedBundle(tt.secret, tt.caBundle, tt.now))
		})
	}
}

func TestCADue(t *testing.T) {
	ca := testCA(t, t0) // ends at t0+10h, renewed from t0+6h
	tests := []struct {
		name   string
		signer *keyPair
		now    time.Time
		want   bool
	}{
		{name: "no CA signs yet", now: t0, want: true},
		{name: "a fresh CA", signer: ca, now: t0, want: false},
		{name: "just before its renewal", signer: ca, now: t0.Add(6*time.Hour - time.Second), want: false},
		{name: "renewBefore its end", signer: ca, now: t0.Add(6 * time.Hour), want: true},
		{name: "expired", signer: ca, now: t0.Add(11 * time.Hour), want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, caDue(tt.signer, tt.now, testOptions.RenewBefore))
		})
	}
}

func TestServingDue(t *testing.T) {
	old, current, outsider := testCA(t, t0), testCA(t, t0.Add(time.Hour)), testCA(t, t0.Add(time.Hour))
	bundle := []*x509.Certificate{current.cert, old.cert}
	byCurrent, _, _ := testServing(t, current, testNames, t0.Add(time.Hour)) // ends t0+7h, renewed from t0+3h
	byOld, _, _ := testServing(t, old, testNames, t0)
	byOutsider, _, _ := testServing(t, outsider, testNames, t0.Add(time.Hour))
	otherNames, _, _ := testServing(t, current, []string{"elsewhere.example"}, t0.Add(time.Hour))
	longTrusted := t0.Add(time.Hour)

	tests := []struct {
		name         string
		serving      *x509.Certificate
		trustedSince time.Time
		now          time.Time
		want         bool
	}{
		{name: "none yet: at once, trusted or not", now: t0.Add(time.Hour), want: true},
		{name: "expired: at once", serving: byCurrent, now: byCurrent.NotAfter, want: true},
		{name: "for other names: at once", serving: otherNames, now: t0.Add(2 * time.Hour), want: true},
		{name: "of a CA outside the bundle: at once", serving: byOutsider, now: t0.Add(2 * time.Hour), want: true},
		{name: "fresh, of the signing CA", serving: byCurrent, trustedSince: longTrusted, now: t0.Add(2 * time.Hour), want: false},
		{name: "renewBefore its end, the signing CA long trusted", serving: byCurrent, trustedSince: longTrusted, now: t0.Add(3 * time.Hour), want: true},
		{name: "renewBefore its end, but this replica has not seen the signing CA in every caBundle", serving: byCurrent, now: t0.Add(3 * time.Hour), want: false},
		{name: "of the old CA, the signing one in every caBundle for less than a check", serving: byOld, trustedSince: t0.Add(90 * time.Minute), now: t0.Add(2*time.Hour + 29*time.Minute), want: false},
		{name: "of the old CA, the signing one in every caBundle for a check", serving: byOld, trustedSince: t0.Add(90 * time.Minute), now: t0.Add(2*time.Hour + 30*time.Minute), want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := secretCerts{bundle: bundle, signer: current, serving: tt.serving}
			assert.Equal(t, tt.want, servingDue(c, testNames, tt.trustedSince, tt.now, testOptions))
		})
	}

	t.Run("nothing is issued without a signing CA", func(t *testing.T) {
		assert.False(t, servingDue(secretCerts{bundle: bundle}, testNames, longTrusted, t0.Add(time.Hour), testOptions))
	})
}

func TestInUse(t *testing.T) {
	old, current, outsider := testCA(t, t0), testCA(t, t0.Add(time.Hour)), testCA(t, t0.Add(time.Hour))
	byOld, _, _ := testServing(t, old, testNames, t0)
	byCurrent, _, _ := testServing(t, current, testNames, t0.Add(time.Hour))
	byOutsider, _, _ := testServing(t, outsider, testNames, t0.Add(time.Hour))
	bundle := []*x509.Certificate{current.cert, old.cert}
	tests := []struct {
		name  string
		certs secretCerts
		want  []*x509.Certificate
	}{
		{name: "nothing yet", certs: secretCerts{}, want: nil},
		{name: "the signing CA, before it signed anything", certs: secretCerts{bundle: bundle, signer: current}, want: []*x509.Certificate{current.cert}},
		{name: "the signing CA, and the old one while its certificate is served", certs: secretCerts{bundle: bundle, signer: current, serving: byOld}, want: []*x509.Certificate{current.cert, old.cert}},
		{name: "the signing CA alone once it signed the certificate", certs: secretCerts{bundle: bundle, signer: current, serving: byCurrent}, want: []*x509.Certificate{current.cert}},
		{name: "not a CA outside the bundle", certs: secretCerts{bundle: bundle, signer: current, serving: byOutsider}, want: []*x509.Certificate{current.cert}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.certs.inUse())
		})
	}
}

func TestPrunedBundle(t *testing.T) {
	oldest, old, current := testCA(t, t0.Add(-8*time.Hour)), testCA(t, t0), testCA(t, t0.Add(time.Hour))
	byCurrent, _, _ := testServing(t, current, testNames, t0.Add(time.Hour))
	byOld, _, _ := testServing(t, old, testNames, t0)
	bundle := []*x509.Certificate{current.cert, old.cert, oldest.cert} // oldest ends at t0+2h
	now := t0.Add(90 * time.Minute)

	tests := []struct {
		name        string
		serving     *x509.Certificate
		servedSince time.Time
		now         time.Time
		want        []*x509.Certificate
	}{
		{
			name:    "the CA of the certificate served stays; one that signs nothing served leaves",
			serving: byOld, servedSince: t0, now: now,
			want: []*x509.Certificate{current.cert, old.cert},
		},
		{
			name:    "the old CA stays while the replaced certificate has been served for less than a check",
			serving: byCurrent, servedSince: now.Add(-59 * time.Minute), now: now,
			want: []*x509.Certificate{current.cert, old.cert, oldest.cert},
		},
		{
			name:    "the old CAs stay while this replica does not serve the Secret's certificate",
			serving: byCurrent, now: now,
			want: []*x509.Certificate{current.cert, old.cert, oldest.cert},
		},
		{
			name:    "the old CAs leave once the replacement has been served for a check",
			serving: byCurrent, servedSince: now.Add(-time.Hour), now: now,
			want: []*x509.Certificate{current.cert},
		},
		{
			name:    "an expired CA leaves at once",
			serving: byOld, now: t0.Add(2 * time.Hour),
			want: []*x509.Certificate{current.cert, old.cert},
		},
		{
			name: "the signing CA stays, even unused",
			now:  now, servedSince: t0,
			want: []*x509.Certificate{current.cert},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := secretCerts{bundle: bundle, signer: current, serving: tt.serving}
			assert.Equal(t, tt.want, prunedBundle(c, tt.servedSince, tt.now, testOptions.CheckInterval))
		})
	}
}

func TestSighting(t *testing.T) {
	first, second := testCA(t, t0), testCA(t, t0)
	var s sighting
	assert.Equal(t, t0, s.see(first.cert, t0), "first seen")
	assert.Equal(t, t0, s.see(first.cert, t0.Add(time.Hour)), "seen since")
	assert.Equal(t, t0.Add(2*time.Hour), s.see(second.cert, t0.Add(2*time.Hour)), "another one: seen from now")
	s.forget()
	assert.Equal(t, t0.Add(3*time.Hour), s.see(second.cert, t0.Add(3*time.Hour)), "not seen in between: seen from now")
}

func TestIssueServing(t *testing.T) {
	ca := testCA(t, t0)
	tests := []struct {
		name         string
		at           time.Time
		wantNotAfter time.Time
	}{
		{name: "its own lifetime", at: t0, wantNotAfter: t0.Add(testOptions.CertDuration)},
		{name: "no longer than its CA", at: t0.Add(5 * time.Hour), wantNotAfter: ca.cert.NotAfter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert, _, _ := testServing(t, ca, testNames, tt.at)
			assert.WithinDuration(t, tt.wantNotAfter, cert.NotAfter, 0)
			assert.Equal(t, testNames, cert.DNSNames)
			roots := x509.NewCertPool()
			roots.AddCert(ca.cert)
			_, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: "localhost", CurrentTime: tt.at})
			assert.NoError(t, err, "verified as an API server does")
		})
	}
}

func TestCertOptionsWithDefaults(t *testing.T) {
	base := CertOptions{Namespace: "ns", SecretName: "s", ServiceName: "svc", CertDir: "/tmp/certs", MutatingConfig: "m", ValidatingConfig: "v"}
	with := func(change func(*CertOptions)) CertOptions {
		o := base
		change(&o)
		return o
	}
	tests := []struct {
		name    string
		opts    CertOptions
		wantErr string
	}{
		{name: "defaults", opts: base},
		{name: "no Secret", opts: with(func(o *CertOptions) { o.SecretName = "" }), wantErr: "needs the namespace, secret"},
		{name: "no webhook configuration", opts: with(func(o *CertOptions) { o.ValidatingConfig = "" }), wantErr: "names of the webhook configurations"},
		{name: "renewed before it begins", opts: with(func(o *CertOptions) { o.CertDuration = time.Hour; o.RenewBefore = 2 * time.Hour }), wantErr: "must live longer"},
		{name: "checked too rarely for a renewal", opts: with(func(o *CertOptions) { o.RenewBefore = time.Hour; o.CheckInterval = 30 * time.Minute }), wantErr: "check at least every 20m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := tt.opts.withDefaults()
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, 3650*24*time.Hour, o.CADuration)
			assert.Equal(t, 365*24*time.Hour, o.CertDuration)
			assert.Equal(t, 90*24*time.Hour, o.RenewBefore)
			assert.Equal(t, 12*time.Hour, o.CheckInterval)
		})
	}
}

func TestNextStep(t *testing.T) {
	ca := testCA(t, t0)
	serving, _, _ := testServing(t, ca, testNames, t0)
	tests := []struct {
		name            string
		trusted, served sighting
		want            time.Time
	}{
		{name: "nothing seen: no step waits"},
		{name: "the signing CA just seen in every caBundle", trusted: sighting{cert: ca.cert.Raw, since: t0}, want: t0.Add(time.Hour)},
		{
			name:    "the earlier of the two",
			trusted: sighting{cert: ca.cert.Raw, since: t0}, served: sighting{cert: serving.Raw, since: t0.Add(-30 * time.Minute)},
			want: t0.Add(30 * time.Minute),
		},
		{
			name:    "both past: no step waits",
			trusted: sighting{cert: ca.cert.Raw, since: t0.Add(-2 * time.Hour)}, served: sighting{cert: serving.Raw, since: t0.Add(-time.Hour)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &certRotation{opts: testOptions, now: func() time.Time { return t0 }, trusted: tt.trusted, served: tt.served}
			assert.Equal(t, tt.want, r.nextStep())
		})
	}
}
