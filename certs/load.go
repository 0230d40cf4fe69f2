package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"
)

// loaded is one certificate and key pair ready to serve, with the status
// fields that do not change while it is loaded.
type loaded struct {
	cert   *tls.Certificate // Leaf is set
	names  []string         // lower-cased DNS names used for SNI lookup
	status Status           // State, Default, LastError filled in later
}

// loadPair parses and checks one pair. Errors name the pair and the value's
// origin, never the material.
func loadPair(p Pair, now time.Time) (*loaded, error) {
	return loadPEM(p.Name, p.Cert.String(), p.Key.String(), p.Cert.Bytes(), p.Key.Bytes(), now)
}

// loadPEM parses and checks one pair given as PEM; name, certFrom and
// keyFrom say where it came from in errors.
func loadPEM(name, certFrom, keyFrom string, certPEM, keyPEM []byte, now time.Time) (*loaded, error) {
	chain, err := parseChain(certPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: certificate (%s): %w", name, certFrom, err)
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: private key (%s): %w", name, keyFrom, err)
	}
	leaf := chain[0]
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(leaf.PublicKey) {
		return nil, fmt.Errorf("%s: private key (%s) does not match the certificate", name, keyFrom)
	}
	c := &tls.Certificate{PrivateKey: key, Leaf: leaf}
	for _, x := range chain {
		c.Certificate = append(c.Certificate, x.Raw)
	}
	return &loaded{cert: c, names: lookupNames(leaf), status: Describe(leaf, name, now)}, nil
}

// parseChain returns the certificates in data, leaf first, and checks that
// each is signed by the next: a chain out of order makes clients fail in
// ways that are hard to trace back to the file. Other PEM blocks, such as
// a private key in a combined file, are skipped.
func parseChain(data []byte) ([]*x509.Certificate, error) {
	var (
		chain  []*x509.Certificate
		blocks int
	)
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		blocks++
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(chain)+1, err)
		}
		chain = append(chain, c)
	}
	switch {
	case blocks == 0:
		return nil, errors.New("not PEM: no PEM block found")
	case len(chain) == 0:
		return nil, errors.New("no CERTIFICATE PEM block found")
	}
	for i := 0; i+1 < len(chain); i++ {
		if err := chain[i].CheckSignatureFrom(chain[i+1]); err != nil {
			return nil, fmt.Errorf("chain out of order: certificate %d (%s) is not signed by certificate %d (%s); the leaf must come first, then each issuer: %w",
				i+1, chain[i].Subject.CommonName, i+2, chain[i+1].Subject.CommonName, err)
		}
	}
	return chain, nil
}

// parseKey returns the first private key in data, in any of the encodings
// OpenSSL writes. Other blocks, such as certificates in a combined file or
// "EC PARAMETERS", are skipped.
func parseKey(data []byte) (crypto.Signer, error) {
	var blocks int
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		blocks++
		var (
			k   any
			err error
		)
		switch b.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(b.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("encrypted private keys are not supported")
		default:
			continue
		}
		if _, encrypted := b.Headers["DEK-Info"]; encrypted {
			return nil, errors.New("encrypted private keys are not supported")
		}
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", strings.ToLower(b.Type), err)
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("unsupported private key type %T", k)
		}
		return s, nil
	}
	if blocks == 0 {
		return nil, errors.New("not PEM: no PEM block found")
	}
	return nil, errors.New("no PRIVATE KEY PEM block found")
}

// lookupNames are the names SNI is matched against: the DNS SANs, or the
// Common Name of a legacy certificate without any (Traefik 1.x served
// those too).
func lookupNames(leaf *x509.Certificate) []string {
	names := leaf.DNSNames
	if len(names) == 0 && len(leaf.IPAddresses) == 0 && leaf.Subject.CommonName != "" {
		names = []string{leaf.Subject.CommonName}
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, strings.ToLower(strings.TrimSuffix(n, ".")))
	}
	return out
}

// Describe fills the Status fields that come from the certificate itself:
// names, issuer, serial, key, signature, fingerprint and validity, with
// Source "file". Other sources (ACME) overwrite Source and Origin.
func Describe(leaf *x509.Certificate, origin string, loadedAt time.Time) Status {
	sum := sha256.Sum256(leaf.Raw)
	fp := hex.EncodeToString(sum[:])
	names := append([]string(nil), leaf.DNSNames...)
	if len(names) == 0 && leaf.Subject.CommonName != "" && len(leaf.IPAddresses) == 0 {
		names = append(names, leaf.Subject.CommonName)
	}
	for _, ip := range leaf.IPAddresses {
		names = append(names, ip.String())
	}
	keyType, keyBits := publicKeyInfo(leaf.PublicKey)
	return Status{
		ID:                 fp,
		Names:              names,
		Source:             "file",
		Origin:             origin,
		Issuer:             issuerName(leaf.Issuer),
		Serial:             leaf.SerialNumber.Text(16),
		KeyType:            keyType,
		KeyBits:            keyBits,
		SignatureAlgorithm: leaf.SignatureAlgorithm.String(),
		SHA256:             fp,
		NotBefore:          leaf.NotBefore,
		NotAfter:           leaf.NotAfter,
		LastRenewal:        loadedAt,
	}
}

func issuerName(n pkix.Name) string {
	org := ""
	if len(n.Organization) > 0 {
		org = n.Organization[0]
	}
	switch {
	case n.CommonName != "" && org != "":
		return n.CommonName + " (" + org + ")"
	case n.CommonName != "":
		return n.CommonName
	}
	return org
}

func publicKeyInfo(pub any) (string, int) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA", k.Curve.Params().BitSize
	case *rsa.PublicKey:
		return "RSA", k.N.BitLen()
	case ed25519.PublicKey:
		return "Ed25519", 256
	}
	return fmt.Sprintf("%T", pub), 0
}

// SelfSigned returns a self-signed ECDSA P-256 certificate for names (DNS
// names or IP addresses; the first is also the Common Name), valid from an
// hour ago, for clock skew, until validFor from now. The demo and tests
// use it; production keys come from files or ACME.
func SelfSigned(names []string, validFor time.Duration) (certPEM, keyPEM []byte, err error) {
	if len(names) == 0 {
		return nil, nil, errors.New("certs: SelfSigned needs at least one name")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generating key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, fmt.Errorf("generating serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: names[0]},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validFor),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("creating certificate: %w", err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), nil
}
