package certs

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rancher-edge/edge/secrets"
)

// issuer is a test CA. Keys are generated per test run; none is committed.
type issuer struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

type certOpts struct {
	names     []string
	serial    int64
	notBefore time.Time // zero: an hour ago
	notAfter  time.Time // zero: in 90 days
	ca        bool
	parent    *issuer // nil: self-signed
}

// mint returns a certificate (PEM) and its key (PKCS#8 PEM) and the issuer
// it represents, for signing further certificates.
func mint(t testing.TB, o certOpts) (certPEM, keyPEM []byte, self *issuer) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if o.notBefore.IsZero() {
		o.notBefore = time.Now().Add(-time.Hour)
	}
	if o.notAfter.IsZero() {
		o.notAfter = time.Now().Add(90 * 24 * time.Hour)
	}
	if o.serial == 0 {
		o.serial = time.Now().UnixNano()
	}
	cn := "test"
	if len(o.names) > 0 {
		cn = o.names[0]
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(o.serial),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Edge Test"}},
		DNSNames:              o.names,
		NotBefore:             o.notBefore,
		NotAfter:              o.notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  o.ca,
	}
	parent, signer := tmpl, key
	if o.parent != nil {
		parent, signer = o.parent.cert, o.parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})
	return certPEM, keyPEM, &issuer{cert: c, key: key, pem: certPEM}
}

// inlinePair returns a pair given as inline PEM.
func inlinePair(t testing.TB, name string, certPEM, keyPEM []byte) Pair {
	t.Helper()
	var r secrets.Resolver
	c, err := r.Resolve(name+"_CERT", string(certPEM), true)
	if err != nil {
		t.Fatal(err)
	}
	k, err := r.Resolve(name+"_KEY", string(keyPEM), true)
	if err != nil {
		t.Fatal(err)
	}
	return Pair{Name: name, Cert: c, Key: k}
}

// filePair returns a pair read from the files certPath and keyPath.
func filePair(t testing.TB, name, certPath, keyPath string) Pair {
	t.Helper()
	var r secrets.Resolver
	c, err := r.Resolve("TRAEFIK_SSL_CERT", certPath, true)
	if err != nil {
		t.Fatal(err)
	}
	k, err := r.Resolve("TRAEFIK_SSL_PRIVATE_KEY", keyPath, true)
	if err != nil {
		t.Fatal(err)
	}
	return Pair{Name: name, Cert: c, Key: k}
}

func write(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// runStore starts s.Run and stops it when the test ends.
func runStore(t testing.TB, s *Store) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
}

// serve listens on loopback with cfg and completes a handshake on every
// connection, until the test ends. It returns the address.
func serve(t testing.TB, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // listener closed
			}
			wg.Go(func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				// Errors show up on the client side, which the tests check.
				_ = c.(*tls.Conn).Handshake()
			})
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

// dial does one handshake with SNI sni; mod adjusts the client config.
func dial(addr, sni string, mod func(*tls.Config)) (tls.ConnectionState, error) {
	cfg := &tls.Config{ServerName: sni, InsecureSkipVerify: true} // the tests check what was served, not trust
	if mod != nil {
		mod(cfg)
	}
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer c.Close()
	return c.ConnectionState(), nil
}

// servedSerial returns the serial of the leaf served for sni.
func servedSerial(t testing.TB, addr, sni string) int64 {
	t.Helper()
	st, err := dial(addr, sni, nil)
	if err != nil {
		t.Fatalf("handshake for %q: %v", sni, err)
	}
	if len(st.PeerCertificates) == 0 {
		t.Fatalf("handshake for %q: no certificate", sni)
	}
	return st.PeerCertificates[0].SerialNumber.Int64()
}

// eventually polls cond until it holds or 5 s pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 5s: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// fakeManager is a Manager with one certificate for fixed names and a
// challenge certificate.
type fakeManager struct {
	names     []string
	cert      *tls.Certificate
	challenge *tls.Certificate
	status    []Status
}

func (m *fakeManager) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	for _, p := range hello.SupportedProtos {
		if p == ACMETLS1Protocol {
			return m.challenge, nil
		}
	}
	if NamesCover(m.names, hello.ServerName) {
		return m.cert, nil
	}
	if hello.ServerName == "error.test" {
		return nil, errors.New("boom")
	}
	return nil, nil
}

func (m *fakeManager) Status() []Status { return m.status }

var _ Manager = (*fakeManager)(nil)

func tlsCert(t testing.TB, certPEM, keyPEM []byte) *tls.Certificate {
	t.Helper()
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return &c
}
