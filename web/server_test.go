package web

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/rancher-edge/edge/certs"
)

func TestAuth(t *testing.T) {
	f := newFixture(t)
	h := f.server().Handler()
	for _, path := range []string{"/", "/routes", "/certificates", "/discovery", "/api/overview",
		"/api/routes", "/api/certificates", "/api/discovery", "/metrics", "/static/style.css"} {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized || !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("%s without credentials: %d %q", path, rec.Code, rec.Header().Get("WWW-Authenticate"))
		}
		req.SetBasicAuth("admin", "wrong")
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("%s with a wrong password: %d", path, rec.Code)
		}
		req.SetBasicAuth("nobody", "hunter2")
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("%s with an unknown user: %d", path, rec.Code)
		}
		if rec := get(t, h, path); rec.Code != http.StatusOK {
			t.Errorf("%s with credentials: %d", path, rec.Code)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/ping", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("/ping without credentials: %d", rec.Code)
	}
}

// TestAuthVerdicts checks the dashboard's checker; caching and its
// one-minute expiry are tested with middleware.Credentials itself.
func TestAuthVerdicts(t *testing.T) {
	hash, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	a, err := newBasicAuth([]string{"u:" + string(hash)}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if !a.creds.Check("u", "pw") || a.creds.Check("u", "nope") || a.creds.Check("x", "pw") {
		t.Fatal("wrong verdicts")
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t)
	h := f.server().Handler()
	for _, path := range []string{"/", "/api/routes", "/metrics", "/static/app.js", "/ping", "/nope"} {
		for _, auth := range []bool{true, false} {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			if auth {
				req.SetBasicAuth("admin", "hunter2")
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			for k, want := range map[string]string{
				"X-Content-Type-Options": "nosniff",
				"Referrer-Policy":        "no-referrer",
				"X-Frame-Options":        "DENY",
			} {
				if got := rec.Header().Get(k); got != want {
					t.Errorf("%s (auth %v): %s = %q, want %q", path, auth, k, got, want)
				}
			}
			csp := rec.Header().Get("Content-Security-Policy")
			if !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") ||
				strings.Contains(csp, "unsafe-inline") {
				t.Errorf("%s: CSP %q", path, csp)
			}
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/api/routes", nil)
	req.SetBasicAuth("admin", "hunter2")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", rec.Code)
	}
}

func TestValidate(t *testing.T) {
	users := testUsers(t)
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string // substrings of the error; none means valid
	}{
		{"no users, no host", Config{Addr: ":8000"}, nil},
		{"no users, loopback", Config{Addr: "127.0.0.1:8000"}, nil},
		{"no users, localhost", Config{Addr: "localhost:8000"}, nil},
		{"no users, ipv6 loopback", Config{Addr: "[::1]:8000"}, nil},
		{"users, all interfaces", Config{Addr: "0.0.0.0:8000", Users: users}, nil},
		{"insecure", Config{Addr: "0.0.0.0:8000", Insecure: true}, nil},
		{"no users, all interfaces", Config{Addr: "0.0.0.0:8000"},
			[]string{"0.0.0.0:8000 without a password", "TRAEFIK_ADMIN_USERS", "127.0.0.1", "TRAEFIK_ADMIN_INSECURE=true"}},
		{"no users, public host", Config{Addr: ":8000", PublicHost: "edge.example.com"},
			[]string{"TRAEFIK_ADMIN_HOST=edge.example.com", "TRAEFIK_ADMIN_USERS", "TRAEFIK_ADMIN_INSECURE=true"}},
		{"bad address", Config{Addr: "8000"}, []string{`listen address "8000"`}},
		{"malformed apr1 hash", Config{Addr: ":8000", Users: []byte("bob:$apr1$abc$defghijklmnop")},
			[]string{"entry 1", `user "bob"`, "not a bcrypt, apr1 or {SHA} hash", "htpasswd -nbB"}},
		{"plain password", Config{Addr: ":8000", Users: []byte("bob:secret")},
			[]string{"entry 1", `user "bob"`, "not a bcrypt, apr1 or {SHA} hash"}},
		// The forms Traefik 1.x accepted, as rawmind0's
		// TRAEFIK_ADMIN_AUTH_USERS passed them, comma-separated too.
		{"apr1 and sha", Config{Addr: ":8000", Users: []byte("alice:$apr1$saltsalt$NBMPZFGR7yazCdGvlWJji1,carol:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=")}, nil},
		{"not a line", Config{Addr: ":8000", Users: []byte("\n\njustaname")}, []string{"entry 3 is not user:hash"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "$apr1$abc") {
				t.Error("the error shows the hash")
			}
			if _, nerr := New(tc.cfg); nerr == nil {
				t.Error("New accepted what Validate refused")
			}
		})
	}
}

// TestLoopbackGate: without users the admin port answers /ping to every
// address (the catalog's health check comes from the host's agent), and
// the dashboard only on loopback; TRAEFIK_ADMIN_ENABLE=false leaves only
// /ping, and TRAEFIK_METRICS_ENABLE adds /metrics to the public paths.
func TestLoopbackGate(t *testing.T) {
	loop := &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 8000}
	mapped := &net.TCPAddr{IP: net.ParseIP("::ffff:127.0.0.1"), Port: 8000}
	other := &net.TCPAddr{IP: net.ParseIP("10.42.0.7"), Port: 8000}
	get := func(s *Server, local net.Addr, path string) int {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req = req.WithContext(context.WithValue(req.Context(), http.LocalAddrContextKey, local))
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		return rec.Code
	}
	for _, tc := range []struct {
		name  string
		cfg   Config
		local net.Addr
		path  string
		want  int
	}{
		{"ping from elsewhere", Config{Addr: ":8000"}, other, "/ping", 200},
		{"dashboard from elsewhere", Config{Addr: ":8000"}, other, "/", 403},
		{"api from elsewhere", Config{Addr: ":8000"}, other, "/api/routes", 403},
		{"metrics from elsewhere", Config{Addr: ":8000"}, other, "/metrics", 403},
		{"dashboard on loopback", Config{Addr: ":8000"}, loop, "/", 200},
		{"dashboard on mapped loopback", Config{Addr: ":8000"}, mapped, "/api/routes", 200},
		{"public metrics", Config{Addr: ":8000", PublicMetrics: true}, other, "/metrics", 200},
		{"insecure serves all", Config{Addr: ":8000", Insecure: true}, other, "/", 200},
		{"no dashboard: ping", Config{Addr: ":8000", NoDashboard: true}, other, "/ping", 200},
		{"no dashboard: loopback page", Config{Addr: ":8000", NoDashboard: true}, loop, "/", 404},
		{"no dashboard: metrics when public", Config{Addr: ":8000", NoDashboard: true, PublicMetrics: true}, loop, "/metrics", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := get(s, tc.local, tc.path); got != tc.want {
				t.Errorf("GET %s via %s = %d, want %d", tc.path, tc.local, got, tc.want)
			}
		})
	}
}

func TestRunServesTLSAndStops(t *testing.T) {
	certPEM, keyPEM, err := certs.SelfSigned([]string{"localhost"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	var ready atomic.Bool
	s, err := New(Config{Addr: "127.0.0.1:0", TLS: &tls.Config{Certificates: []tls.Certificate{pair}, NextProtos: []string{"acme-tls/1"}},
		Sources: Sources{Ready: ready.Load}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatal(err)
	}
	addr := s.Addr().(*net.TCPAddr)
	block, _ := pem.Decode(certPEM)
	leaf, _ := x509.ParseCertificate(block.Bytes)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}
	defer client.CloseIdleConnections()
	url := "https://" + addr.String() + "/ping"
	for _, want := range []int{http.StatusServiceUnavailable, http.StatusOK} {
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("/ping: %d, want %d", resp.StatusCode, want)
		}
		ready.Store(true)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
}

func TestCloseBeforeRun(t *testing.T) {
	s, err := New(Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Close()
	if err := s.Run(t.Context()); err != nil {
		t.Errorf("Run after Close: %v", err)
	}
}

func TestRunReportsBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s, err := New(Config{Addr: ln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(t.Context()); err == nil || !strings.Contains(err.Error(), "admin: listening on") {
		t.Errorf("Run on a busy port: %v", err)
	}
}
