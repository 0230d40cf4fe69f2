package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	acmeproto "github.com/mholt/acmez/v3/acme"

	"github.com/rancher-edge/edge/certs/acme/pebbletest"
)

// traefik17 mirrors the structs Traefik 1.7 marshals into acme.json
// (provider/acme: StoredData, Account, Certificate): no JSON tags, []byte
// as base64. The registration is lego's registration.Resource.
type traefik17 struct {
	Account        *traefik17Account
	Certificates   []*traefik17Cert
	HTTPChallenges map[string]map[string][]byte
	TLSChallenges  map[string]*struct{}
}

type traefik17Account struct {
	Email        string
	Registration *struct {
		Body struct {
			Status  string   `json:"status,omitempty"`
			Contact []string `json:"contact,omitempty"`
		} `json:"body,omitempty"`
		URI string `json:"uri,omitempty"`
	}
	PrivateKey []byte
	KeyType    string
}

type traefik17Cert struct {
	Domain struct {
		Main string
		SANs []string
	} // Traefik's types.Domain
	Certificate []byte
	Key         []byte
}

// TestACMEImportFromTraefik switches a stack from Traefik to the edge: the
// acme.json Traefik left on the volume (1.7 format, written as Traefik
// writes it) holds the account, registered at the CA, a valid certificate
// for two names, and an expired one. The edge imports it on first start:
// it serves the imported certificate and places no order for its names,
// orders only the expired name, with the imported account (no new
// registration), and the certificate page says where the certificate came
// from. The import happens once: after the edge's own storage loses the
// certificate, a restart orders it instead of importing it again.
func TestACMEImportFromTraefik(t *testing.T) {
	t.Run("1.7", func(t *testing.T) { testImport(t, false) })
	// 2.x/3.x: the same data under a certificates resolver's name, with
	// the certificates' lower-case field names. Once is tested above.
	t.Run("2.x", func(t *testing.T) { testImport(t, true) })
}

// traefik2Cert mirrors Traefik 2.x/3.x's CertAndStore.
type traefik2Cert struct {
	Domain struct {
		Main string   `json:"main,omitempty"`
		SANs []string `json:"sans,omitempty"`
	} `json:"domain"`
	Certificate []byte `json:"certificate"`
	Key         []byte `json:"key"`
	Store       string
}

func testImport(t *testing.T, v2 bool) {
	ca := pebbletest.Start(t) // not parallel: Pebble reads the environment
	ca.ReleasePorts()
	dir := t.TempDir()

	// The account, registered at the CA the way Traefik (lego) did: an
	// RSA key (4096 bits in Traefik; 2048 keeps the test quick).
	acctKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.APIRootPEM)
	client := &acmeproto.Client{
		Directory:  ca.DirectoryURL,
		HTTPClient: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}},
	}
	acct, err := client.NewAccount(context.Background(), acmeproto.Account{
		Contact: []string{"mailto:ops@example.test"}, TermsOfServiceAgreed: true, PrivateKey: acctKey,
	})
	if err != nil {
		t.Fatalf("registering the Traefik account at Pebble: %v", err)
	}

	// Certificates from "the CA Traefik used" (a local one here, so the
	// test can tell them from anything Pebble issues).
	issuer := newTestIssuer(t)
	valid := issuer.leaf(t, time.Now().Add(-24*time.Hour), time.Now().Add(60*24*time.Hour), "shop.example.test", "www.example.test")
	expired := issuer.leaf(t, time.Now().Add(-90*24*time.Hour), time.Now().Add(-time.Hour), "old.example.test")

	store := traefik17{
		Account: &traefik17Account{
			Email: "ops@example.test", PrivateKey: x509.MarshalPKCS1PrivateKey(acctKey), KeyType: "4096",
			Registration: &struct {
				Body struct {
					Status  string   `json:"status,omitempty"`
					Contact []string `json:"contact,omitempty"`
				} `json:"body,omitempty"`
				URI string `json:"uri,omitempty"`
			}{URI: acct.Location},
		},
		HTTPChallenges: map[string]map[string][]byte{},
		TLSChallenges:  map[string]*struct{}{},
	}
	store.Account.Registration.Body.Status = "valid"
	store.Account.Registration.Body.Contact = []string{"mailto:ops@example.test"}
	for _, c := range []testLeaf{valid, expired} {
		tc := &traefik17Cert{Certificate: c.chainPEM, Key: c.keyPEM}
		tc.Domain.Main, tc.Domain.SANs = c.names[0], c.names[1:]
		store.Certificates = append(store.Certificates, tc)
	}
	var doc any = store
	if v2 {
		var certs []traefik2Cert
		for _, c := range store.Certificates {
			var c2 traefik2Cert
			c2.Domain.Main, c2.Domain.SANs, c2.Certificate, c2.Key, c2.Store = c.Domain.Main, c.Domain.SANs, c.Certificate, c.Key, "default"
			certs = append(certs, c2)
		}
		doc = map[string]any{"letsencrypt": map[string]any{"Account": store.Account, "Certificates": certs}}
	}
	raw, err := json.MarshalIndent(doc, "", "  ") // Traefik indents too
	if err != nil {
		t.Fatal(err)
	}
	acmeJSON := filepath.Join(dir, "acme.json")
	if err := os.WriteFile(acmeJSON, raw, 0o600); err != nil {
		t.Fatal(err)
	}

	adminPort := freeTCPPort(t)
	storage := filepath.Join(dir, "edge-acme")
	env := map[string]string{
		"TRAEFIK_HTTP_PORT":      strconv.Itoa(ca.HTTPPort),
		"TRAEFIK_HTTPS_PORT":     strconv.Itoa(ca.TLSPort),
		"TRAEFIK_ADMIN_PORT":     strconv.Itoa(adminPort),
		"TRAEFIK_ADMIN_TLS":      "false",
		"TRAEFIK_ACME_ENABLE":    "true",
		"TRAEFIK_ACME_EMAIL":     "ops@example.test",
		"TRAEFIK_ACME_CASERVER":  ca.DirectoryURL,
		"TRAEFIK_ACME_CA_ROOT":   string(ca.APIRootPEM),
		"TRAEFIK_ACME_STORAGE":   storage,
		"TRAEFIK_ACME_CHALLENGE": "http-01",
		"TRAEFIK_ACME_DOMAINS":   "shop.example.test,www.example.test,old.example.test",
		"TRAEFIK_ACME_IMPORT":    acmeJSON,
	}
	accountsBefore := ca.Accounts()

	stop := startEdgeProcess(t, env)
	// The expired name is ordered, and served from Pebble: the manager
	// is running and ordering.
	waitForIssuer(t, ca, "old.example.test", ca.TLSPort, ca.IssuerRoots())
	for _, host := range []string{"shop.example.test", "www.example.test"} {
		if got := servedLeaf(t, ca.TLSPort, host, issuer.pool()); !bytes.Equal(got.Raw, valid.leaf.Raw) {
			t.Errorf("%s is served serial %s, want the imported %s", host, got.SerialNumber, valid.leaf.SerialNumber)
		}
	}
	for name, want := range map[string]int{"shop.example.test": 0, "www.example.test": 0, "old.example.test": 1} {
		if got := ca.OrdersFor(name); got != want {
			t.Errorf("orders for %s = %d, want %d", name, got, want)
		}
	}
	if got := ca.Orders(); got != 1 {
		t.Errorf("%d orders in all, want 1 (the expired name): %+v", got, ca.OrderLog())
	}
	if got := ca.Accounts() - accountsBefore; got != 0 {
		t.Errorf("the edge made %d new-account requests; the imported account should have been used", got)
	}
	// The certificate page says where the certificate came from.
	var page struct {
		Certificates []struct {
			Names  []string `json:"names"`
			Origin string   `json:"origin"`
		} `json:"certificates"`
	}
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(adminPort) + "/api/certificates")
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	shown := false
	for _, c := range page.Certificates {
		if strings.Contains(strings.Join(c.Names, ","), "shop.example.test") {
			shown = strings.Contains(c.Origin, "imported from Traefik's "+acmeJSON)
			if !shown {
				t.Errorf("certificate page origin %q does not say it was imported from %s", c.Origin, acmeJSON)
			}
		}
	}
	if !shown {
		t.Errorf("no row for shop.example.test on the certificate page: %+v", page.Certificates)
	}
	stop()
	if v2 {
		return
	}

	// Once: with the imported certificate gone from the edge's storage
	// (stored under each of its names), a restart orders its names rather
	// than importing acme.json again.
	removed := 0
	filepath.WalkDir(storage, func(p string, d os.DirEntry, err error) error { //nolint:errcheck // the count below says
		if err == nil && d.IsDir() && (d.Name() == "shop.example.test" || d.Name() == "www.example.test") {
			removed++
			return os.RemoveAll(p)
		}
		return nil
	})
	if removed != 2 {
		t.Fatalf("found %d stored copies of the imported certificate, want 2 (one per name)", removed)
	}
	stop = startEdgeProcess(t, env)
	defer stop()
	for _, host := range []string{"shop.example.test", "www.example.test"} {
		waitForIssuer(t, ca, host, ca.TLSPort, ca.IssuerRoots())
		if got := ca.OrdersFor(host); got != 1 {
			t.Errorf("after the restart, orders for %s = %d, want 1 (no second import)", host, got)
		}
	}
}

// servedLeaf handshakes for host on loopback and returns the leaf served.
func servedLeaf(t *testing.T, port int, host string, roots *x509.CertPool) *x509.Certificate {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", "127.0.0.1:"+strconv.Itoa(port),
		&tls.Config{ServerName: host, RootCAs: roots})
	if err != nil {
		t.Fatalf("handshake for %s: %v", host, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0]
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// testIssuer is a small CA for certificates "Traefik obtained".
type testIssuer struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

type testLeaf struct {
	names            []string
	leaf             *x509.Certificate
	chainPEM, keyPEM []byte
}

func newTestIssuer(t *testing.T) *testIssuer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Traefik-era test CA"},
		NotBefore: time.Now().Add(-365 * 24 * time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testIssuer{cert: cert, key: key}
}

func (is *testIssuer) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(is.cert)
	return p
}

func (is *testIssuer) leaf(t *testing.T, notBefore, notAfter time.Time, names ...string) testLeaf {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, is.cert, &key.PublicKey, is.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	keyDER, _ := x509.MarshalECPrivateKey(key)
	chain := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: is.cert.Raw})...)
	return testLeaf{names: names, leaf: leaf, chainPEM: chain,
		keyPEM: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})}
}
