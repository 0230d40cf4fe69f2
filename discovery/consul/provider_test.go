package consul

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rancher-edge/edge/discovery/consul/consultest"
	"github.com/rancher-edge/edge/route"
)

// live is how long a change may take to reach a snapshot in these tests;
// the benchmark measures the real figure (about the debounce plus a read).
const live = 5 * time.Second

func TestCatalogAgainstRealAgent(t *testing.T) {
	t.Parallel()
	a := consultest.Start(t, consultest.Options{})
	a.Register(consultest.Service{ID: "web-1", Name: "web", Address: "127.0.0.1", Port: 30080, Check: "passing",
		Tags: []string{"traefik.enable=true", "traefik.frontend.rule=Host:web.example.com", "traefik.tags=kubernetes", "traefik.backend.loadbalancer.method=drr"}})
	a.Register(consultest.Service{ID: "web-2", Name: "web", Address: "127.0.0.2", Port: 30080, Check: "passing",
		Tags: []string{"traefik.enable=true", "traefik.frontend.rule=Host:web.example.com", "traefik.tags=kubernetes", "traefik.backend.loadbalancer.method=drr"}})
	a.Register(consultest.Service{ID: "metal-1", Name: "metal", Address: "127.0.0.3", Port: 8080, Check: "passing",
		Tags: []string{"traefik.enable=true", "traefik.tags=baremetal"}})
	a.Register(consultest.Service{ID: "db-1", Name: "db", Port: 5432, Check: "passing"}) // untagged

	cfg := testConfig(t, a)
	cfg.Constraints = []string{"tag==kubernetes"}
	p, rec := run(t, cfg)

	snap, _ := rec.waitFor(t, live, "web with 2 servers", hasServers("web", 2))
	if svc, _ := service(snap, "web"); svc.Rule != "Host:web.example.com" || svc.LoadBalancer.Method != "drr" {
		t.Errorf("web: rule %q, method %q", svc.Rule, svc.LoadBalancer.Method)
	}
	for _, name := range []string{"metal", "db", "consul"} {
		if servers(snap, name) != nil {
			t.Errorf("%s is routed despite the constraint tag==kubernetes:\n%s", name, view(snap))
		}
	}
	st := waitStatus(t, p, "a success", func(st route.ProviderStatus) bool { return st.LastSuccess.After(time.Time{}) })
	if st.Services != 3 || st.Instances != 4 || st.Routes != 1 || st.LastError != "" || st.Mode != ModeWatching {
		t.Errorf("status %+v", st)
	}

	t.Run("a critical instance leaves the rotation and returns", func(t *testing.T) {
		a.SetCheck("web-2", "critical")
		snap, _ := rec.waitFor(t, live, "web with 1 server", hasServers("web", 1))
		if got := servers(snap, "web"); got[0] != "http://127.0.0.1:30080" {
			t.Errorf("servers %v", got)
		}
		a.SetCheck("web-2", "passing")
		rec.waitFor(t, live, "web with 2 servers again", hasServers("web", 2))
	})
	t.Run("maintenance takes an instance out", func(t *testing.T) {
		a.Maintenance("web-1", true)
		snap, _ := rec.waitFor(t, live, "web with 1 server", hasServers("web", 1))
		if got := servers(snap, "web"); got[0] != "http://127.0.0.2:30080" {
			t.Errorf("servers %v", got)
		}
		a.Maintenance("web-1", false)
		rec.waitFor(t, live, "web with 2 servers again", hasServers("web", 2))
	})
	t.Run("a new instance, changed tags, a deregistration", func(t *testing.T) {
		a.Register(consultest.Service{ID: "web-3", Name: "web", Address: "127.0.0.4", Port: 30080, Check: "passing",
			Tags: []string{"traefik.enable=true", "traefik.frontend.rule=Host:web.example.com", "traefik.tags=kubernetes", "traefik.backend.loadbalancer.method=drr"}})
		rec.waitFor(t, live, "web with 3 servers", hasServers("web", 3))
		a.Register(consultest.Service{ID: "metal-1", Name: "metal", Address: "127.0.0.3", Port: 8080, Check: "passing",
			Tags: []string{"traefik.enable=true", "traefik.tags=baremetal,kubernetes"}})
		rec.waitFor(t, live, "metal routed once tagged kubernetes", hasServers("metal", 1))
		a.Deregister("web-3")
		a.Deregister("metal-1")
		rec.waitFor(t, live, "web with 2 servers and no metal", func(s route.Snapshot) bool {
			return len(servers(s, "web")) == 2 && servers(s, "metal") == nil
		})
	})
	t.Run("an instance without checks is seen too", func(t *testing.T) {
		a.Register(consultest.Service{ID: "web-4", Name: "web", Address: "127.0.0.5", Port: 30080,
			Tags: []string{"traefik.enable=true", "traefik.frontend.rule=Host:web.example.com", "traefik.tags=kubernetes", "traefik.backend.loadbalancer.method=drr"}})
		rec.waitFor(t, live, "web with 3 servers", hasServers("web", 3))
		a.Deregister("web-4")
		rec.waitFor(t, live, "web with 2 servers", hasServers("web", 2))
	})
	t.Run("an instance without checks beside a check change elsewhere", func(t *testing.T) {
		// In one debounce window: the check change of another service
		// must not be taken as the reason the catalog moved.
		a.Register(consultest.Service{ID: "web-5", Name: "web", Address: "127.0.0.6", Port: 30080,
			Tags: []string{"traefik.enable=true", "traefik.frontend.rule=Host:web.example.com", "traefik.tags=kubernetes", "traefik.backend.loadbalancer.method=drr"}})
		a.SetCheck("db-1", "warning")
		rec.waitFor(t, live, "web with 3 servers", hasServers("web", 3))
		a.SetCheck("db-1", "passing")
		a.Deregister("web-5")
		rec.waitFor(t, live, "web with 2 servers", hasServers("web", 2))
	})
}

func TestStrictChecksOffAdmitsWarning(t *testing.T) {
	t.Parallel()
	a := consultest.Start(t, consultest.Options{})
	for i, state := range []string{"passing", "warning", "critical"} {
		a.Register(consultest.Service{ID: fmt.Sprintf("api-%d", i), Name: "api", Address: "127.0.0.1", Port: 9000 + i, Check: state,
			Tags: []string{"traefik.enable=true", fmt.Sprintf("traefik.weight=%d", 3-i)}})
	}
	strict, srec := run(t, testConfig(t, a))
	lax := testConfig(t, a)
	lax.WarningIsHealthy = true
	_, lrec := run(t, lax)

	snap, _ := srec.waitFor(t, live, "api with 1 server", hasServers("api", 1))
	if got := servers(snap, "api"); !slices.Equal(got, []string{"http://127.0.0.1:9000"}) {
		t.Errorf("strict: %v", got)
	}
	snap, _ = lrec.waitFor(t, live, "api with 2 servers", hasServers("api", 2))
	svc, _ := service(snap, "api")
	if len(svc.Servers) != 2 || svc.Servers[0].Weight != 3 || svc.Servers[1].Weight != 2 || svc.Servers[1].URL != "http://127.0.0.1:9001" {
		t.Errorf("strict checks off: %+v", svc.Servers)
	}
	if st := strict.Status(); len(st.Notes) != 0 {
		t.Errorf("notes without exposed-by-default: %v", st.Notes)
	}
}

// TestAgentDownKeepsRoutes stops a persistent agent (its catalog survives
// a restart, as a real server's does) for 30 s, with the backoff capped at
// 400 ms so the provider retries throughout rather than sleeping: no
// snapshot is published while it is down, so the routes stay; the status
// says plainly that the agent is unreachable; after the restart the TTL
// checks are heartbeated again (a restarted agent starts them critical)
// and changes flow again.
func TestAgentDownKeepsRoutes(t *testing.T) {
	t.Parallel()
	a := consultest.Start(t, consultest.Options{Persist: true})
	for i := range 3 {
		a.Register(consultest.Service{ID: fmt.Sprintf("web-%d", i), Name: "web", Address: fmt.Sprintf("127.0.0.%d", i+1), Port: 80, Check: "passing",
			Tags: []string{"traefik.enable=true"}})
	}
	p, rec := run(t, testConfig(t, a))
	rec.waitFor(t, live, "web with 3 servers", hasServers("web", 3))
	before := len(rec.all())

	a.Stop()
	st := waitStatus(t, p, "the agent unreachable", func(st route.ProviderStatus) bool { return st.LastError != "" })
	if !strings.Contains(st.LastError, "unreachable") || !strings.Contains(st.LastError, a.Addr) {
		t.Errorf("error %q does not say the agent at %s is unreachable", st.LastError, a.Addr)
	}
	time.Sleep(30 * time.Second)
	if n := len(rec.all()); n != before {
		t.Fatalf("published %d snapshots while the agent was down", n-before)
	}
	if st := p.Status(); st.Errors == 0 || st.ErrorSince.IsZero() || st.LastError == "" || st.NextAttempt.IsZero() {
		t.Errorf("status during the outage %+v", st)
	}

	a.Start()
	for i := range 3 {
		a.SetCheck(fmt.Sprintf("web-%d", i), "passing")
	}
	waitStatus(t, p, "recovery", func(st route.ProviderStatus) bool { return st.LastError == "" })
	rec.waitFor(t, live, "web with 3 servers after the restart", hasServers("web", 3))
	a.SetCheck("web-0", "critical")
	rec.waitFor(t, live, "web with 2 servers after the restart", hasServers("web", 2))
}

func TestACLTokenWithoutReadPermission(t *testing.T) {
	t.Parallel()
	a := consultest.Start(t, consultest.Options{ACL: true})
	a.Register(consultest.Service{ID: "web-1", Name: "web", Address: "127.0.0.1", Port: 80, Check: "passing", Tags: []string{"traefik.enable=true"}})

	t.Run("a token without policy", func(t *testing.T) {
		cfg := testConfig(t, a)
		cfg.Token, cfg.TokenSource = a.Token(""), "TRAEFIK_CONSUL_CATALOG_TOKEN"
		p, rec := run(t, cfg)
		st := waitStatus(t, p, "an ACL error", func(st route.ProviderStatus) bool { return st.LastError != "" })
		if !strings.Contains(st.LastError, "ACL token from TRAEFIK_CONSUL_CATALOG_TOKEN may not read any service") {
			t.Errorf("error %q", st.LastError)
		}
		if strings.Contains(st.LastError, cfg.Token) {
			t.Error("the status shows the token")
		}
		time.Sleep(500 * time.Millisecond)
		if n := len(rec.all()); n != 0 {
			t.Errorf("published %d snapshots without permission", n)
		}
	})
	t.Run("an unknown token", func(t *testing.T) {
		cfg := testConfig(t, a)
		cfg.Token, cfg.TokenSource = "00000000-0000-0000-0000-000000000001", "TRAEFIK_CONSUL_CATALOG_TOKEN"
		p, _ := run(t, cfg)
		st := waitStatus(t, p, "an ACL error", func(st route.ProviderStatus) bool { return st.LastError != "" })
		if !strings.Contains(st.LastError, "consul refused the ACL token from TRAEFIK_CONSUL_CATALOG_TOKEN") || !strings.Contains(st.LastError, "403") {
			t.Errorf("error %q", st.LastError)
		}
	})
	t.Run("a token that may read services but not nodes", func(t *testing.T) {
		cfg := testConfig(t, a)
		cfg.Token, cfg.TokenSource = a.Token(`service_prefix "" { policy = "read" }`), "TRAEFIK_CONSUL_CATALOG_TOKEN"
		p, rec := run(t, cfg)
		st := waitStatus(t, p, "an ACL error", func(st route.ProviderStatus) bool { return st.LastError != "" })
		if !strings.Contains(st.LastError, "node:read") || !strings.Contains(st.LastError, "TRAEFIK_CONSUL_CATALOG_TOKEN") {
			t.Errorf("error %q", st.LastError)
		}
		if n := len(rec.all()); n != 0 {
			t.Errorf("published %d snapshots without node:read", n)
		}
	})
	t.Run("a token that may read", func(t *testing.T) {
		cfg := testConfig(t, a)
		cfg.Token = a.Token(`service_prefix "" { policy = "read" }
node_prefix "" { policy = "read" }`)
		_, rec := run(t, cfg)
		rec.waitFor(t, live, "web with 1 server", hasServers("web", 1))
	})
}

// TestHTTPSWithoutClientCertificate: an agent that requires a client
// certificate refuses the edge without one, and the status says so.
func TestHTTPSWithoutClientCertificate(t *testing.T) {
	t.Parallel()
	a := consultest.Start(t, consultest.Options{HTTPS: true})
	ca, err := os.ReadFile(a.TLS.CA)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca)
	cfg := testConfig(t, a)
	cfg.Endpoint = "https://" + a.HTTPSAddr
	cfg.TLS = &tls.Config{RootCAs: roots}
	p, rec := run(t, cfg)
	st := waitStatus(t, p, "a TLS error", func(st route.ProviderStatus) bool { return st.LastError != "" })
	if !strings.Contains(st.LastError, a.HTTPSAddr) || !strings.Contains(st.LastError, "certificate") {
		t.Errorf("error %q", st.LastError)
	}
	if n := len(rec.all()); n != 0 {
		t.Errorf("published %d snapshots", n)
	}
}

// TestDatacenterAndStale: the configured datacenter is read (stale reads
// allowed), and an unknown one is a plain error, not an empty catalog.
func TestDatacenterAndStale(t *testing.T) {
	t.Parallel()
	a := consultest.Start(t, consultest.Options{})
	a.Register(consultest.Service{ID: "web-1", Name: "web", Address: "127.0.0.1", Port: 80, Check: "passing", Tags: []string{"traefik.enable=true"}})
	cfg := testConfig(t, a)
	cfg.Datacenter, cfg.Stale = "dc1", true
	_, rec := run(t, cfg)
	rec.waitFor(t, live, "web with 1 server", hasServers("web", 1))

	cfg = testConfig(t, a)
	cfg.Datacenter = "elsewhere"
	p, rec := run(t, cfg)
	st := waitStatus(t, p, "an error", func(st route.ProviderStatus) bool { return st.LastError != "" })
	if !strings.Contains(st.LastError, "datacenter") {
		t.Errorf("error %q", st.LastError)
	}
	if n := len(rec.all()); n != 0 {
		t.Errorf("published %d snapshots for an unknown datacenter", n)
	}
}
