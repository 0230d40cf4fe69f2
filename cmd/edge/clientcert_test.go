package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testCA is a throw-away CA that signs client certificates.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test client CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &testCA{cert: c, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (ca *testCA) client(t *testing.T, cn string) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn, Organization: []string{"Ops"}, Country: []string{"FR"}},
		NotBefore: time.Unix(time.Now().Add(-time.Hour).Unix(), 0), NotAfter: time.Unix(time.Now().Add(time.Hour).Unix(), 0),
		DNSNames: []string{"client.test"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, c
}

// TestPassTLSClientCertEndToEnd: with TRAEFIK_SSL_CLIENT_CA (optional) the
// HTTPS entry point asks for client certificates; a route labelled
// traefik.frontend.passTLSClientCert.* passes the client's certificate and
// the chosen fields to the backend, and a forged header from the client
// never gets through. A certificate from another CA is refused.
func TestPassTLSClientCertEndToEnd(t *testing.T) {
	got := make(chan [2]string, 4)
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- [2]string{r.Header.Get("X-Forwarded-Tls-Client-Cert"), r.Header.Get("X-Forwarded-Tls-Client-Cert-Infos")}
	}))
	defer b.Close()
	_, bport, _ := net.SplitHostPort(strings.TrimPrefix(b.URL, "http://"))
	ca := newTestCA(t)
	dir := t.TempDir()
	srvCert, srvKey, srvPEM := writeCert(t, dir, "srv", "*.example.com")
	os.WriteFile(filepath.Join(dir, "client_ca"), ca.pem, 0o600)
	httpsPort := freePort(t)
	e := startLabelEdge(t, fmt.Sprintf(`services:
  - name: mtls
    labels:
      traefik.frontend.rule: "Host:mtls.example.com"
      traefik.port: "%s"
      traefik.frontend.passTLSClientCert.pem: "true"
      traefik.frontend.passTLSClientCert.infos.subject.commonName: "true"
      traefik.frontend.passTLSClientCert.infos.subject.organization: "true"
      traefik.frontend.passTLSClientCert.infos.notAfter: "true"
      traefik.frontend.passTLSClientCert.infos.sans: "true"
    servers: ["127.0.0.1"]
`, bport), map[string]string{
		"TRAEFIK_HTTPS_ENABLE":           "true",
		"TRAEFIK_HTTPS_PORT":             strconv.Itoa(httpsPort),
		"TRAEFIK_SSL_CERT":               srvCert,
		"TRAEFIK_SSL_PRIVATE_KEY":        srvKey,
		"TRAEFIK_SSL_CLIENT_CA":          filepath.Join(dir, "client_ca"),
		"TRAEFIK_SSL_CLIENT_CA_OPTIONAL": "true",
	})
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(srvPEM)
	clientWith := func(certs ...tls.Certificate) *http.Client {
		return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: certs},
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+strconv.Itoa(httpsPort))
			},
		}}
	}
	pair, leaf := ca.client(t, "alice")
	u := fmt.Sprintf("https://mtls.example.com:%d/", httpsPort)
	forged := func() *http.Request {
		r, _ := http.NewRequest("GET", u, nil)
		r.Header.Set("X-Forwarded-Tls-Client-Cert", "forged")
		r.Header.Set("X-Forwarded-Tls-Client-Cert-Infos", "forged")
		return r
	}
	waitStatus(t, clientWith(pair), e, forged, 200)
	h := <-got
	if want := url.QueryEscape(base64.StdEncoding.EncodeToString(leaf.Raw)); h[0] != want {
		t.Errorf("X-Forwarded-Tls-Client-Cert = %q, want the client's certificate %q", h[0], want)
	}
	wantInfos := fmt.Sprintf(`Subject="O=Ops,CN=alice",NA=%d,SAN=client.test`, leaf.NotAfter.Unix())
	if infos, _ := url.QueryUnescape(h[1]); infos != wantInfos {
		t.Errorf("X-Forwarded-Tls-Client-Cert-Infos = %q, want %q", infos, wantInfos)
	}

	// Without a certificate (optional): served, and the forged headers
	// are gone.
	resp, err := clientWith().Do(forged())
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if h := <-got; resp.StatusCode != 200 || h != [2]string{} {
		t.Errorf("without a certificate: %d, backend saw %q", resp.StatusCode, h)
	}

	// A certificate from another CA fails the handshake.
	other, _ := newTestCA(t).client(t, "mallory")
	if resp, err := clientWith(other).Get(u); err == nil {
		resp.Body.Close()
		t.Errorf("a certificate from another CA was accepted: %d", resp.StatusCode)
	}
}
