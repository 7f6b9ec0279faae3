package webhook

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// The webhook's own certificate authority, as pure functions of the
// Secret's contents and the time: what is issued, which CAs the caBundle
// holds, and when each is renewed. certs.go reads and writes the Secret and
// the webhook configurations.

// Keys of the Secret besides tls.crt and tls.key. The layout is the one
// cert-controller wrote, so a Secret it filled is taken over as it is.
const (
	// caBundleKey holds every CA the webhook configurations trust, newest
	// first: the caBundle.
	caBundleKey = "ca.crt"
	// caKeyKey holds the private key of the CA that signs serving
	// certificates: the bundle's CA with the matching public key.
	caKeyKey = "ca.key"
)

const (
	caCommonName   = "savepoint-manager-ca"
	caOrganization = "kubectl-savepoint"
	// backdate puts NotBefore in the past, for API servers whose clock is
	// a little behind the manager's.
	backdate = 5 * time.Minute
)

// keyPair is a certificate and its private key.
type keyPair struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// secretCerts is what the Secret holds; whatever is missing, unreadable or
// mismatched is left out.
type secretCerts struct {
	// bundle is ca.crt, newest first.
	bundle []*x509.Certificate
	// signer is the CA of bundle whose key is ca.key.
	signer *keyPair
	// serving is tls.crt, when tls.key is its key.
	serving *x509.Certificate
}

// parseSecretCerts reads the Secret's data.
func parseSecretCerts(data map[string][]byte) secretCerts {
	var c secretCerts
	c.bundle = parseBundle(data[caBundleKey])
	if key, err := parseKey(data[caKeyKey]); err == nil {
		for _, ca := range c.bundle {
			if publicKeyOf(key, ca) {
				c.signer = &keyPair{cert: ca, key: key}
				break
			}
		}
	}
	if pair, err := tls.X509KeyPair(data[corev1.TLSCertKey], data[corev1.TLSPrivateKeyKey]); err == nil {
		c.serving = pair.Leaf
	}
	return c
}

// parseBundle returns the CA certificates of a PEM bundle, newest first,
// each once; anything else in it is skipped.
func parseBundle(data []byte) []*x509.Certificate {
	var cas []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil || !cert.IsCA {
			continue
		}
		cas = withCA(cas, cert)
	}
	return cas
}

// encodeBundle is the PEM form of a bundle, as it goes into ca.crt and
// every caBundle.
func encodeBundle(cas []*x509.Certificate) []byte {
	var out bytes.Buffer
	for _, ca := range cas {
		_ = pem.Encode(&out, &pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})
	}
	return out.Bytes()
}

// withCA adds ca to bundle unless it is there, keeping the newest first.
func withCA(bundle []*x509.Certificate, ca *x509.Certificate) []*x509.Certificate {
	if containsCA(bundle, ca) {
		return bundle
	}
	merged := append(slices.Clone(bundle), ca)
	slices.SortStableFunc(merged, func(a, b *x509.Certificate) int { return b.NotBefore.Compare(a.NotBefore) })
	return merged
}

// containsCA says whether ca is in bundle.
func containsCA(bundle []*x509.Certificate, ca *x509.Certificate) bool {
	return slices.ContainsFunc(bundle, func(c *x509.Certificate) bool { return c.Equal(ca) })
}

// publishedBundle is what a webhook whose caBundle is current gets: the
// Secret's bundle, plus any CA in current newer than all of the Secret's
// that has not expired. A replica that read the Secret just before another
// one added a new CA must not take that CA out of the caBundle again; only
// a replica that knows a CA drops it.
func publishedBundle(secret, current []*x509.Certificate, now time.Time) []*x509.Certificate {
	published := slices.Clone(secret)
	for _, ca := range current {
		if (len(secret) == 0 || ca.NotBefore.After(secret[0].NotBefore)) && now.Before(ca.NotAfter) {
			published = withCA(published, ca)
		}
	}
	return published
}

// caDue says whether a new CA is made now: there is none that can sign, or
// it ends within renewBefore.
func caDue(signer *keyPair, now time.Time, renewBefore time.Duration) bool {
	return signer == nil || !now.Before(signer.cert.NotAfter.Add(-renewBefore))
}

// servingDue says whether a new serving certificate is issued now, by the
// signing CA. At once when nothing usable is served: none, expired, for
// other names, or signed by a CA outside the bundle. When the one served is
// due for renewal or signed by an older CA, only once every caBundle has
// carried the signing CA for a check interval (trustedSince, zero if not
// yet): an API server reads the webhook configurations from its own cache,
// and would not trust a certificate of a CA it has not seen yet.
func servingDue(c secretCerts, dnsNames []string, trustedSince, now time.Time, o CertOptions) bool {
	if c.signer == nil {
		return false
	}
	s := c.serving
	usable := s != nil && now.Before(s.NotAfter) && sameNames(s.DNSNames, dnsNames) && issuerIn(s, c.bundle) != nil
	if !usable {
		return true
	}
	stale := !signedBy(s, c.signer.cert) || !now.Before(s.NotAfter.Add(-o.RenewBefore))
	return stale && !trustedSince.IsZero() && !now.Before(trustedSince.Add(o.CheckInterval))
}

// inUse are the CAs every caBundle must carry now: the signing CA and the
// CA of the serving certificate, when it is in the bundle.
func (c secretCerts) inUse() []*x509.Certificate {
	var cas []*x509.Certificate
	if c.signer != nil {
		cas = append(cas, c.signer.cert)
	}
	if c.serving != nil {
		if issuer := issuerIn(c.serving, c.bundle); issuer != nil {
			cas = withCA(cas, issuer)
		}
	}
	return cas
}

// prunedBundle is the bundle without the CAs no longer needed: expired
// ones, and, once the current serving certificate has been in this
// replica's files for a check interval (servedSince, zero if not yet;
// long enough for the other replicas to have written theirs), those not
// in use. The CA of a serving certificate that is still served stays.
func prunedBundle(c secretCerts, servedSince, now time.Time, checkInterval time.Duration) []*x509.Certificate {
	replaced := !servedSince.IsZero() && !now.Before(servedSince.Add(checkInterval))
	inUse := c.inUse()
	var kept []*x509.Certificate
	for _, ca := range c.bundle {
		if now.Before(ca.NotAfter) && (containsCA(inUse, ca) || !replaced) {
			kept = append(kept, ca)
		}
	}
	return kept
}

// signedBy says whether ca signed cert.
func signedBy(cert, ca *x509.Certificate) bool {
	return cert.CheckSignatureFrom(ca) == nil
}

// issuerIn is the CA of bundle that signed cert, or nil.
func issuerIn(cert *x509.Certificate, bundle []*x509.Certificate) *x509.Certificate {
	for _, ca := range bundle {
		if signedBy(cert, ca) {
			return ca
		}
	}
	return nil
}

// sameNames says whether two lists hold the same DNS names.
func sameNames(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// sighting remembers since when this replica has seen something hold
// without interruption (the signing CA in every caBundle, the serving
// certificate in its files): the others (API servers' caches, other
// replicas) are given a check interval from then to catch up.
type sighting struct {
	cert  []byte
	since time.Time
}

// see records that cert holds at now and returns since when it has.
func (s *sighting) see(cert *x509.Certificate, now time.Time) time.Time {
	if !bytes.Equal(s.cert, cert.Raw) {
		*s = sighting{cert: cert.Raw, since: now}
	}
	return s.since
}

// forget records that what was seen no longer holds.
func (s *sighting) forget() { *s = sighting{} }

// newCA makes a self-signed CA valid for lifetime from now.
func newCA(now time.Time, lifetime time.Duration) (*keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate a CA key: %w", err)
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, err
	}
	template := &x509.Certificate{
		SerialNumber: serial,
		// Named by its time, as kube-apiserver names its own CAs: two
		// CAs of one bundle are told apart in logs and openssl output.
		Subject:               pkix.Name{CommonName: fmt.Sprintf("%s@%d", caCommonName, now.Unix()), Organization: []string{caOrganization}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(lifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("create the CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &keyPair{cert: cert, key: key}, nil
}

// issueServing issues a serving certificate for dnsNames signed by ca,
// valid for lifetime from now but not beyond ca, and returns it and its key
// in PEM.
func issueServing(ca *keyPair, dnsNames []string, now time.Time, lifetime time.Duration) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate a serving key: %w", err)
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, nil, err
	}
	notAfter := now.Add(lifetime)
	if notAfter.After(ca.cert.NotAfter) {
		notAfter = ca.cert.NotAfter
	}
	template := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: dnsNames[0]},
		DNSNames:     dnsNames,
		NotBefore:    now.Add(-backdate),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, ca.cert, key.Public(), ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("create the serving certificate: %w", err)
	}
	keyPEM, err = encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM, nil
}

// serialNumber is a random 128-bit serial number.
func serialNumber() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("generate a serial number: %w", err)
	}
	return serial, nil
}

// encodeKey is the PKCS #8 PEM form of key.
func encodeKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode a private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// parseKey reads a PEM private key: PKCS #8, or the PKCS #1 RSA keys
// cert-controller wrote, or SEC 1 EC keys.
func parseKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("no PEM private key")
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("parse a %s: %w", block.Type, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("a %T cannot sign", key)
	}
	return signer, nil
}

// publicKeyOf says whether key is the private key of cert.
func publicKeyOf(key crypto.Signer, cert *x509.Certificate) bool {
	public, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && public.Equal(cert.PublicKey)
}
