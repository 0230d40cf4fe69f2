package middleware

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rancher-edge/edge/route"
)

func TestForwardAuthHeaders(t *testing.T) {
	var got http.Header
	auth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.Header().Set("X-User", "ann")
	}))
	defer auth.Close()
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.Header.Get("X-User")) })
	for _, trust := range []bool{false, true} {
		h, err := ForwardAuth(route.ForwardAuth{Address: auth.URL, TrustForwardHeader: trust, AuthResponseHeaders: []string{"x-user"}}, ForwardOptions{}, next)
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("PUT", "https://app.test/p?q=1", strings.NewReader("body"))
		r.RemoteAddr = "192.0.2.9:4000"
		r.Header.Set("X-Forwarded-For", "10.0.0.1")
		r.Header.Set("X-Forwarded-Host", "front.test")
		r.Header.Set("Connection", "X-Hop")
		r.Header.Set("X-Hop", "1")
		r.Header.Set("X-User", "forged")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 || w.Body.String() != "ann" {
			t.Errorf("trust=%v: %d %q, want the auth server's X-User", trust, w.Code, w.Body.String())
		}
		wantFor, wantHost := "192.0.2.9", "app.test"
		if trust {
			wantFor, wantHost = "10.0.0.1, 192.0.2.9", "front.test"
		}
		if got.Get("X-Forwarded-For") != wantFor || got.Get("X-Forwarded-Host") != wantHost ||
			got.Get("X-Forwarded-Method") != "PUT" || got.Get("X-Forwarded-Uri") != "/p?q=1" || got.Get("X-Forwarded-Proto") != "https" {
			t.Errorf("trust=%v: auth server saw %v", trust, got)
		}
		if got.Get("X-Hop") != "" {
			t.Errorf("hop-by-hop header passed to the auth server")
		}
	}
}

func TestForwardAuthFailures(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(403)
		io.Copy(w, io.LimitReader(zeros{}, 3<<20))
	}))
	defer big.Close()
	passed := false
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { passed = true })
	for _, tc := range []struct {
		name, addr string
		code       int
		maxBody    int
	}{
		{"slow server times out", slow.URL, 500, 100},
		{"refused", "http://127.0.0.1:1/", 500, 100},
		{"huge denial is cut", big.URL, 403, forwardBodyLimit},
	} {
		h, err := ForwardAuth(route.ForwardAuth{Address: tc.addr}, ForwardOptions{Timeout: 200 * time.Millisecond}, next)
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		if w.Code != tc.code || w.Body.Len() > tc.maxBody || passed {
			t.Errorf("%s: %d, %d bytes, passed=%v", tc.name, w.Code, w.Body.Len(), passed)
		}
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestForwardAuthConfig(t *testing.T) {
	next := http.NotFoundHandler()
	for _, c := range []route.ForwardAuth{
		{Address: "auth.local/check"},
		{Address: "ftp://auth"},
		{Address: "http://auth", AuthResponseHeaders: []string{"bad header"}},
		{Address: "https://auth", TLS: &route.ClientTLS{Cert: "c"}},
		{Address: "https://auth", TLS: &route.ClientTLS{CA: "ca_secret"}}, // no reader
		{Address: "https://auth", TLS: &route.ClientTLS{CA: "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----"}},
	} {
		if _, err := ForwardAuth(c, ForwardOptions{}, next); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	// A client certificate read through the reader is presented.
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) == 0 {
			w.WriteHeader(401)
		}
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	defer srv.Close()
	certPEM, keyPEM := testCertPEM(t)
	files := map[string][]byte{"c": certPEM, "k": keyPEM}
	read := func(ref string) ([]byte, error) { return files[ref], nil }
	h, err := ForwardAuth(route.ForwardAuth{Address: srv.URL, TLS: &route.ClientTLS{Cert: "c", Key: "k", InsecureSkipVerify: true}},
		ForwardOptions{ReadFile: read}, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 204 {
		t.Errorf("with a client certificate: %d, want 204", w.Code)
	}
}

// testCertPEM makes a throw-away self-signed certificate and key.
func testCertPEM(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// TestForwardAuthSharesTransports: each table generation builds its
// handlers anew; they reuse one transport (and its idle connections) per
// server and TLS material instead of leaving one behind per generation.
func TestForwardAuthSharesTransports(t *testing.T) {
	next := http.NotFoundHandler()
	build := func(addr string) *http.Transport {
		h, err := ForwardAuth(route.ForwardAuth{Address: addr}, ForwardOptions{}, next)
		if err != nil {
			t.Fatal(err)
		}
		return h.(*forwardAuth).client.Transport.(*http.Transport)
	}
	a, b := build("http://auth.test:9000/check"), build("http://auth.test:9000/other?x=1")
	if a != b {
		t.Error("two generations of one auth server got two transports")
	}
	if build("http://other.test:9000/check") == a {
		t.Error("two auth servers share a transport")
	}
}
