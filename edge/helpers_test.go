package edge

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rancher-edge/edge/certs"
	"github.com/rancher-edge/edge/route"
)

// testEdge is a running Server on loopback ports with a self-signed
// wildcard certificate for *.test.local.
type testEdge struct {
	srv       *Server
	stop      func() // ends Run and waits for it (also done at cleanup)
	httpURL   string
	httpsURL  string
	httpsHost string // host:port
	roots     *x509.CertPool
}

// modes are the two proxy designs; the end-to-end tests run in both.
var modes = [...]struct {
	name string
	set  func(*Config)
}{
	{"fast", func(c *Config) { c.DisableFastPath = false }},
	{"nethttp", func(c *Config) { c.DisableFastPath = true }},
}

// inModes runs f as a parallel subtest per proxy design; f passes mode to
// startEdge.
func inModes(t *testing.T, f func(t *testing.T, mode func(*Config))) {
	t.Helper()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			f(t, m.set)
		})
	}
}

// startEdge starts an edge with the test configuration changed by each
// non-nil mutator in turn.
func startEdge(t testing.TB, muts ...func(*Config)) *testEdge {
	t.Helper()
	certPEM, keyPEM, err := certs.SelfSigned([]string{"*.test.local", "test.local"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(certPEM)
	cfg := Config{
		HTTPAddr:  "127.0.0.1:0",
		HTTPSAddr: "127.0.0.1:0",
		TLS: &tls.Config{
			Certificates: []tls.Certificate{pair},
			NextProtos:   []string{"h2", "http/1.1"},
		},
		// http.Server.Shutdown waits 5s for connections a client opened
		// but never used; tests need not.
		ShutdownTimeout: 300 * time.Millisecond,
	}
	for _, mut := range muts {
		if mut != nil {
			mut(&cfg)
		}
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			srv.Close()
		})
	}
	t.Cleanup(stop)
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	te := &testEdge{srv: srv, stop: stop, roots: roots}
	h, s := srv.Addrs()
	if h != nil {
		te.httpURL = "http://" + h.String()
	}
	if s != nil {
		te.httpsHost = s.String()
		te.httpsURL = "https://" + s.String()
	}
	return te
}

// client returns an HTTPS client that trusts the edge's certificate and
// dials the edge whatever the URL's host, so tests can use real names.
func (te *testEdge) client(h2 bool) *http.Client {
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: te.roots},
		ForceAttemptHTTP2:   h2,
		MaxIdleConnsPerHost: 64,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			// Names resolve to the edge's HTTPS listener (or HTTP when
			// HTTPS is off); literal addresses are dialled as they are.
			if host, _, err := net.SplitHostPort(addr); err == nil && net.ParseIP(host) == nil {
				addr = te.httpsHost
				if addr == "" {
					addr = strings.TrimPrefix(te.httpURL, "http://")
				}
			}
			return dialer.DialContext(ctx, network, addr)
		},
		DisableCompression: true,
	}
	if !h2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return &http.Client{
		Transport: tr,
		Timeout:   10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

var dialer = &net.Dialer{Timeout: 5 * time.Second}

// echo is what a test backend answers: who it is and what it saw.
type echo struct {
	Name   string
	Host   string
	Path   string
	Query  string
	Header http.Header
}

func newBackend(t testing.TB, name string) *httptest.Server {
	t.Helper()
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(echo{Name: name, Host: r.Host, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header})
	}))
	t.Cleanup(b.Close)
	return b
}

func get(t testing.TB, c *http.Client, url string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if strings.EqualFold(hdr[i], "Host") {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", url, err)
	}
	return resp, string(body)
}

func decodeEcho(t testing.TB, body string) echo {
	t.Helper()
	var e echo
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("backend answer %q: %v", body, err)
	}
	return e
}

// svc is a shorthand for a file-provider service.
func svc(name, rule string, servers ...string) route.Service {
	s := route.Service{
		Name:           name,
		Source:         route.Source{Provider: "file", Service: name},
		Rule:           rule,
		PassHostHeader: true,
	}
	for _, u := range servers {
		s.Servers = append(s.Servers, route.Server{URL: u, Weight: 1, Name: u})
	}
	return s
}

func snapshot(services ...route.Service) route.Snapshot {
	return route.Snapshot{Provider: "file", Services: services, Built: time.Now()}
}

func hostURL(te *testEdge, host, path string) string {
	_, port, _ := strings.Cut(te.httpsHost, ":")
	return fmt.Sprintf("https://%s:%s%s", host, port, path)
}

type httptestServer = httptest.Server

func newHTTPTestServer(h http.Handler) *httptest.Server { return httptest.NewServer(h) }

func runtimeGosched() { runtime.Gosched() }
