package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/rancher-edge/edge/certs"
	"github.com/rancher-edge/edge/edge"
	"github.com/rancher-edge/edge/route"
)

// Values that must never reach a page, an API response or a metric.
const (
	secretHeaderValue = "s3cr3t-backend-token"
	rancherSecret     = "rancher-secret-key-value"
	routeAuthHash     = "$2y$05$routeauthhashroutauthhashroutauthhashroutauthhash1234"
	evilService       = `evil<script>alert(1)</script>`
	evilMessage       = `label value <img src=x onerror=alert(2)> is not a number`
)

// fixture is a realistic edge state: a real routing table compiled by the
// edge, with backends passing, failing and drained; file and ACME
// certificates in every state; and a Rancher provider that is failing.
type fixture struct {
	t    *testing.T
	edge *edge.Server
	now  time.Time

	mu        sync.Mutex
	certs     []certs.Status
	providers []route.ProviderStatus
}

// Certificate IDs of the fixture.
const (
	wildID   = "9f2c6d1e0b7a4c3d8e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5061728394a5b"
	apiID    = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809"
	apiNewID = "77aa88bb99cc00dd11ee22ff33aa44bb55cc66dd77ee88ff99aa00bb11cc22dd"
	oldID    = "0000111122223333444455556666777788889999aaaabbbbccccddddeeeeffff"
)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, now: time.Now().Truncate(time.Second)}

	live := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/teapot" {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(live.Close)

	srv, err := edge.New(edge.Config{HTTPAddr: ":0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	f.edge = srv

	rancher := route.Snapshot{
		Provider: "rancher",
		Built:    f.now.Add(-time.Minute),
		Services: []route.Service{
			{
				Name:           "web.whoami",
				Source:         route.Source{Provider: "rancher", Stack: "web", Service: "whoami"},
				Rule:           "Host:whoami.example.com",
				PassHostHeader: true,
				Servers: []route.Server{
					{URL: live.URL, Weight: 1, Name: "web-whoami-1"},
					{URL: "http://10.42.0.12:8080", Weight: 0, Name: "web-whoami-2"},
				},
			},
			{
				Name:        "shop.api",
				Source:      route.Source{Provider: "rancher", Stack: "shop", Service: "api"},
				Rule:        "Host:api.example.io;PathPrefix:/v1",
				HealthCheck: &route.HealthCheck{Path: "/health", Interval: 20 * time.Millisecond, Timeout: 200 * time.Millisecond},
				Servers: []route.Server{
					{URL: live.URL, Weight: 1, Name: "shop-api-1"},
					{URL: "http://127.0.0.1:1", Weight: 1, Name: "shop-api-2"}, // nothing listens: failing
				},
				LoadBalancer: route.LoadBalancer{Method: "drr", Sticky: true},
			},
			{
				Name:   "shop.legacy",
				Source: route.Source{Provider: "rancher", Stack: "shop", Service: "legacy"},
				Rule:   "Host:api.example.io;PathPrefix:/v1", // conflicts with shop.api
				Servers: []route.Server{
					{URL: live.URL, Weight: 1, Name: "shop-legacy-1"},
				},
			},
			{
				Name:      "shop.admin",
				Source:    route.Source{Provider: "rancher", Stack: "shop", Service: "admin"},
				Rule:      "Host:admin.shop.other.org",
				Auth:      &route.BasicAuth{Users: []string{"ops:" + routeAuthHash}, HeaderField: "X-User"},
				WhiteList: &route.WhiteList{SourceRange: []string{"10.0.0.0/8"}},
				Headers: &route.Headers{
					CustomRequestHeaders: map[string]string{"X-Api-Token": secretHeaderValue},
					STSSeconds:           31536000, FrameDeny: true,
				},
				Redirect: &route.Redirect{EntryPoint: "https"},
				Servers:  []route.Server{{URL: live.URL, Weight: 1, Name: "shop-admin-1"}},
			},
			{
				Name:    "web.evil",
				Source:  route.Source{Provider: "rancher", Stack: "web", Service: evilService},
				Rule:    "Host:failed.example.net",
				Servers: []route.Server{{URL: live.URL, Weight: 1, Name: "evil-1"}},
			},
			{
				Name:   "web.typo",
				Source: route.Source{Provider: "rancher", Stack: "web", Service: "typo"},
				Rule:   "Hots:typo.example.com", // the compiler refuses it
			},
		},
		Problems: []route.Problem{
			{Source: route.Source{Provider: "rancher", Stack: "web", Service: "broken"}, Severity: route.Error,
				Message: evilMessage},
			{Source: route.Source{Provider: "rancher", Stack: "web", Service: "whoami"}, Severity: route.Warning,
				Message: "label traefik.frontend.rateLimit.extractorFunc is not supported and is ignored"},
		},
	}
	file := route.Snapshot{
		Provider: "file",
		Built:    f.now.Add(-time.Hour),
		Services: []route.Service{{
			Name:    "static",
			Source:  route.Source{Provider: "file", Service: "static"},
			Rule:    "Host:static.example.com",
			Servers: []route.Server{{URL: live.URL, Weight: 2, Name: live.URL}},
		}},
	}
	srv.Update(file)
	srv.Update(rancher)

	day := 24 * time.Hour
	f.certs = []certs.Status{
		{
			ID: wildID, Names: []string{"*.example.com", "example.com"}, Source: "file",
			Origin: "TRAEFIK_SSL_CERT (/run/secrets/wildcard_crt)", Issuer: "Example Corp CA (Example Corp)",
			Serial: "4f1e2d3c", KeyType: "ECDSA", KeyBits: 256, SignatureAlgorithm: "ECDSA-SHA256", SHA256: wildID,
			NotBefore: f.now.Add(-30 * day), NotAfter: f.now.Add(335 * day), State: certs.StateValid, Default: true,
			LastRenewal: f.now.Add(-2 * time.Hour),
		},
		{
			ID: apiID, Names: []string{"api.example.io"}, Source: "acme",
			Origin: "https://acme-v02.api.letsencrypt.org/directory", Issuer: "R11 (Let's Encrypt)",
			Serial: "3a9b", KeyType: "ECDSA", KeyBits: 256, SignatureAlgorithm: "SHA256-RSA", SHA256: apiID,
			NotBefore: f.now.Add(-80 * day), NotAfter: f.now.Add(10 * day), State: certs.StateRenewing,
			LastRenewal: f.now.Add(-80 * day), NextRenewal: f.now.Add(5 * time.Minute),
		},
		{
			ID: "pending:failed.example.net", Names: []string{"failed.example.net"}, Source: "acme",
			Origin: "https://acme-v02.api.letsencrypt.org/directory", State: certs.StateFailed,
			NextRenewal: f.now.Add(10 * time.Minute),
			LastError:   "the CA could not connect to failed.example.net on port 80 to check the HTTP-01 challenge: connection refused",
			LastErrorAt: f.now.Add(-3 * time.Minute),
		},
		{
			ID: oldID, Names: []string{"old.example.org"}, Source: "file",
			Origin: "TRAEFIK_SSL_CERT[1] (/run/secrets/old_crt)", Issuer: "old.example.org", Serial: "01",
			KeyType: "RSA", KeyBits: 2048, SignatureAlgorithm: "SHA256-RSA", SHA256: oldID,
			NotBefore: f.now.Add(-367 * day), NotAfter: f.now.Add(-2 * day), State: certs.StateExpired,
		},
		{
			ID: "skipped:*.dyn.example.com", Names: []string{"*.dyn.example.com"}, Source: "acme",
			Origin: "https://acme-v02.api.letsencrypt.org/directory", State: "skipped",
			LastError: "not ordered: HostRegexp rules are not eligible for ACME certificates",
		},
	}
	f.providers = []route.ProviderStatus{
		{
			Name: "file", Endpoint: "/etc/edge/routes.yaml", Mode: "watching",
			LastSync: f.now.Add(-time.Hour), LastSuccess: f.now.Add(-time.Hour), Services: 1, Routes: 1, Syncs: 1,
		},
		{
			Name: "rancher", Endpoint: "http://rancher.internal:8080/v2-beta/projects/1a5", Mode: "events",
			KeySource: "TRAEFIK_RANCHER_ACCESSKEY",
			LastSync:  f.now.Add(-10 * time.Second), LastSuccess: f.now.Add(-time.Minute),
			LastError:  "GET /v2-beta/projects/1a5/services: 503 Service Unavailable",
			ErrorSince: f.now.Add(-50 * time.Second), NextAttempt: f.now.Add(20 * time.Second),
			Stacks: 3, Services: 7, Containers: 12, Routes: 5, Syncs: 14, Errors: 3,
			Problems: rancher.Problems,
		},
	}
	return f
}

// sources feeds the fixture's state to a server.
func (f *fixture) sources() Sources {
	return Sources{
		Version: "v1.2.3-test",
		Started: f.now.Add(-26 * time.Hour),
		Listeners: func() []Listener {
			return []Listener{{Name: "http", Addr: "[::]:80"}, {Name: "https", Addr: "[::]:443", TLS: true}}
		},
		Table:    f.edge.Table,
		Unrouted: f.edge.Unrouted,
		Certificates: func() []certs.Status {
			f.mu.Lock()
			defer f.mu.Unlock()
			return append([]certs.Status(nil), f.certs...)
		},
		CertificateFor: f.certificateFor,
		Providers: func() []route.ProviderStatus {
			f.mu.Lock()
			defer f.mu.Unlock()
			return append([]route.ProviderStatus(nil), f.providers...)
		},
	}
}

// certificateFor mimics certs.Store: a certificate naming the host, then
// the default.
func (f *fixture) certificateFor(host string) (certs.Status, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.certs {
		if !c.NotAfter.IsZero() && certs.NamesCover(c.Names, host) {
			return c, true
		}
	}
	for _, c := range f.certs {
		if c.Default {
			return c, true
		}
	}
	return certs.Status{}, false
}

func (f *fixture) setCerts(rows []certs.Status) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.certs = rows
}

// server builds a dashboard over the fixture with one user, "admin" with
// password "hunter2".
func (f *fixture) server(mod ...func(*Config)) *Server {
	f.t.Helper()
	cfg := Config{Addr: ":0", Users: testUsers(f.t), Sources: f.sources(), Now: func() time.Time { return f.now }}
	for _, m := range mod {
		m(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// waitFailing waits until the health checker has marked the dead backend.
func (f *fixture) waitFailing() {
	f.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, rt := range f.edge.Table().Routes() {
			for _, b := range rt.Backends() {
				if b.Health == "failing" {
					return
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.t.Fatal("the dead backend never became failing")
}

// serve sends requests through the edge so the routes have counters.
func (f *fixture) serve(host, path string, n int) {
	h := f.edge.HTTPHandler()
	for range n {
		req := httptest.NewRequest(http.MethodGet, "http://"+host+path, nil)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}

func testUsers(t testing.TB) []byte {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("hunter2"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return []byte("# dashboard users\nadmin:" + string(hash) + "\n")
}

// get requests path from h with the test user's credentials.
func get(t testing.TB, h http.Handler, path string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.SetBasicAuth("admin", "hunter2")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// mustContain fails for each want missing from body.
func mustContain(t testing.TB, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s does not contain %q", what, w)
		}
	}
}

// mustNotContain fails for each bad string found in body.
func mustNotContain(t testing.TB, what, body string, bads ...string) {
	t.Helper()
	for _, b := range bads {
		if strings.Contains(body, b) {
			t.Errorf("%s contains %q", what, b)
		}
	}
}
