package rancher

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rancher-edge/edge/discovery/rancher/ranchertest"
	"github.com/rancher-edge/edge/route"
)

func TestEndpointFormsAndKeys(t *testing.T) {
	t.Parallel()
	s := fake(t, ranchertest.Options{})
	whoami(s, 2)
	ak, sk := s.AccountKey()
	for name, edit := range map[string]func(*Config){
		"root":                 func(c *Config) {},
		"root slash":           func(c *Config) { c.Endpoint += "/" },
		"v1 (CATTLE_URL)":      func(c *Config) { c.Endpoint += "/v1"; c.KeySource = "CATTLE_ACCESS_KEY" },
		"v2-beta":              func(c *Config) { c.Endpoint += "/v2-beta" },
		"project":              func(c *Config) { c.Endpoint = s.ProjectURL() },
		"account key, project": func(c *Config) { c.Endpoint = s.ProjectURL(); c.AccessKey, c.SecretKey = ak, sk },
		"account key, root":    func(c *Config) { c.AccessKey, c.SecretKey = ak, sk },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(s, t)
			edit(&cfg)
			p, rec := run(t, cfg)
			got := rec.waitFor(t, 5*time.Second, "whoami", hasServers("whoami.web", 2))
			if got.snap.Services[0].Rule != "Host:whoami.web" {
				t.Errorf("rule %q", got.snap.Services[0].Rule)
			}
			st := waitStatus(t, p, "success", func(st route.ProviderStatus) bool { return st.Syncs > 0 })
			if st.KeySource != cfg.KeySource || st.Stacks != 1 || st.Services != 1 || st.Containers != 2 || st.Routes != 1 {
				t.Errorf("status %+v", st)
			}
		})
	}
}

func TestAccountKeyWithSeveralEnvironments(t *testing.T) {
	t.Parallel()
	s := fake(t, ranchertest.Options{OtherProjects: []string{"1a7"}})
	whoami(s, 1)
	cfg := testConfig(s, t)
	cfg.AccessKey, cfg.SecretKey = s.AccountKey()
	p, rec := run(t, cfg)
	st := waitStatus(t, p, "an error", func(st route.ProviderStatus) bool { return st.LastError != "" })
	if !strings.Contains(st.LastError, "account key") || !strings.Contains(st.LastError, "1a7") {
		t.Errorf("error %q", st.LastError)
	}
	noSecret(t, cfg.SecretKey, st.LastError)
	if rec.count() != 0 {
		t.Error("published without reading")
	}
}

func TestPagination(t *testing.T) {
	t.Parallel()
	s := fake(t, ranchertest.Options{})
	st := s.AddStack(ranchertest.StackSpec{Name: "big"})
	for i := range 250 {
		n := 1
		if i < 3250%250 {
			n++ // 3,500 containers in all
		}
		s.AddService(st, ranchertest.ServiceSpec{
			Name: fmt.Sprintf("svc%03d", i), Labels: map[string]string{"traefik.port": "80"}, Scale: n + 13,
		})
	}
	// 250 services × 14 containers = 3,500.
	for name, limit := range map[string]int{"default page size": 0, "provider page size": defaultPageLimit} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(s, t)
			// The page counts below hold only for a read that no timeout
			// cut short and retried: one page of 1,000 containers under
			// -race on a loaded 2-core machine took over the tests'
			// usual 2 s.
			cfg.Timeout = 30 * time.Second
			s.ResetStats()
			start := time.Now()
			p, rec := run(t, cfg, func(p *Provider) { p.pageLimit = limit })
			// A bound, not a speed goal (BenchmarkSync measures that): 35
			// pages under -race on a loaded 2-core machine took over 20 s.
			got := rec.waitFor(t, time.Minute, "250 routes", func(s route.Snapshot) bool { return len(s.Services) == 250 })
			t.Logf("first snapshot after %v", got.at.Sub(start))
			for _, r := range got.snap.Services {
				if len(r.Servers) != 14 {
					t.Fatalf("%s has %d servers", r.Name, len(r.Servers))
				}
			}
			if st := p.Status(); st.Services != 250 || st.Containers != 3500 {
				t.Errorf("status counts %+v", st)
			}
			lists := s.Stats().Lists
			wantSvc, wantCtr := 3, 35
			if limit != 0 {
				wantSvc, wantCtr = 1, 4
			}
			if lists["services"] != wantSvc || lists["containers"] != wantCtr || lists["stacks"] != 1 {
				t.Errorf("pages read %v, want services %d containers %d", lists, wantSvc, wantCtr)
			}
		})
	}
}

// TestLiveChanges measures, for each kind of change, the time from the
// change in Rancher to the provider's publish, with events.
func TestLiveChanges(t *testing.T) {
	t.Parallel()
	s := fake(t, ranchertest.Options{})
	id := whoami(s, 3)
	p, rec := run(t, testConfig(s, t)) // refresh 1 min: only events can be this fast
	rec.waitFor(t, 5*time.Second, "3 servers", hasServers("whoami.web", 3))
	waitStatus(t, p, "events mode", func(st route.ProviderStatus) bool { return st.Mode == ModeEvents })

	steps := []struct {
		name   string
		change func()
		ok     func(route.Snapshot) bool
	}{
		{"scale-up 3→5", func() { s.Scale(id, 5) }, hasServers("whoami.web", 5)},
		{"container unhealthy", func() { s.SetHealth(s.ContainerIDs(id)[0], "unhealthy") }, hasServers("whoami.web", 4)},
		{"label change", func() {
			s.SetLabels(id, map[string]string{"traefik.port": "80", "traefik.frontend.rule": "Host:who.example.com"})
		},
			func(sn route.Snapshot) bool {
				return len(sn.Services) == 1 && sn.Services[0].Rule == "Host:who.example.com"
			}},
		{"scale-down 5→1", func() { s.Scale(id, 1) }, hasServers("whoami.web", 0)}, // the one left is the unhealthy one
	}
	for _, step := range steps {
		start := time.Now()
		step.change()
		got := rec.waitFor(t, time.Second, step.name, step.ok)
		t.Logf("%s: event to publish %v", step.name, got.at.Sub(start).Round(100*time.Microsecond))
	}
	if n := rec.empties(); n != 0 {
		t.Errorf("%d empty snapshots", n)
	}
}

// TestEventsApplyWithoutReadingTheAPI shows that an event's resource is
// applied to the last read world directly: with every API call failing,
// a scale-up still reaches the routes through the event stream alone.
func TestEventsApplyWithoutReadingTheAPI(t *testing.T) {
	t.Parallel()
	s := fake(t, ranchertest.Options{})
	id := whoami(s, 2)
	p, rec := run(t, testConfig(s, t))
	rec.waitFor(t, 5*time.Second, "2 servers", hasServers("whoami.web", 2))
	waitStatus(t, p, "events mode", func(st route.ProviderStatus) bool { return st.Mode == ModeEvents })
	// The provider reads everything once more after subscribing, for
	// changes made before the socket was up.
	waitStatus(t, p, "the read after subscribing", func(st route.ProviderStatus) bool { return st.Syncs >= 2 })
	s.ResetStats()
	s.Fail(http.StatusInternalServerError, time.Minute)
	s.Scale(id, 4)
	rec.waitFor(t, 5*time.Second, "4 servers from events", hasServers("whoami.web", 4))
	if st := s.Stats(); st.Requests != 0 || st.Events == 0 {
		t.Errorf("the provider read the API (%+v) instead of applying the event", st)
	}
}

func TestPollingWhenWebsocketRefused(t *testing.T) {
	t.Parallel()
	s := fake(t, ranchertest.Options{})
	s.RefuseWebsocket(true)
	id := whoami(s, 2)
	cfg := testConfig(s, t)
	cfg.Refresh = 400 * time.Millisecond
	p, rec := run(t, cfg)
	rec.waitFor(t, 5*time.Second, "2 servers", hasServers("whoami.web", 2))
	for _, step := range []struct {
		name   string
		change func()
		n      int
	}{
		{"scale-up", func() { s.Scale(id, 3) }, 3},
		{"health", func() { s.SetHealth(s.ContainerIDs(id)[0], "unhealthy") }, 2},
	} {
		start := time.Now()
		step.change()
		got := rec.waitFor(t, cfg.Refresh+300*time.Millisecond, step.name, hasServers("whoami.web", step.n))
		t.Logf("%s while polling every %v: %v", step.name, cfg.Refresh, got.at.Sub(start).Round(time.Millisecond))
	}
	if st := p.Status(); st.Mode != ModePolling || s.Stats().WebsocketRefused == 0 {
		t.Errorf("mode %q, refused %d", st.Mode, s.Stats().WebsocketRefused)
	}
	// Once the socket is allowed again the provider switches to events.
	s.RefuseWebsocket(false)
	waitStatus(t, p, "events mode", func(st route.ProviderStatus) bool { return st.Mode == ModeEvents })
}

func TestNoChangeNoPublish(t *testing.T) {
	t.Parallel()
	s := fake(t, ranchertest.Options{})
	id := whoami(s, 2)
	cfg := testConfig(s, t)
	cfg.Refresh = 50 * time.Millisecond
	p, rec := run(t, cfg)
	rec.waitFor(t, 5*time.Second, "2 servers", hasServers("whoami.web", 2))
	// A change that does not touch routes: a stopped container stopping
	// again, a service without labels scaling.
	s.SetState(s.ContainerIDs(id)[0], "running")
	// Four more reads, however long a loaded machine takes for them, and
	// not one publish.
	base := p.Status().Syncs
	for deadline := time.Now().Add(20 * time.Second); p.Status().Syncs < base+4; {
		if time.Now().After(deadline) {
			t.Fatalf("only %d syncs in 20 s with a 50 ms refresh", p.Status().Syncs-base)
		}
		rec.quiet(t, 50*time.Millisecond, "polls without changes")
	}
}

func TestOutagesKeepTheLastSnapshot(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		outage  func(*ranchertest.Server)
		wantErr string
	}{
		{"500", func(s *ranchertest.Server) { s.Fail(500, 1200*time.Millisecond) }, "500 Internal Server Error"},
		{"401", func(s *ranchertest.Server) { s.Fail(401, 1200*time.Millisecond) }, "rancher rejected the API key (from TRAEFIK_RANCHER_ACCESSKEY) (401): the access key or secret key is wrong"},
		{"hang", func(s *ranchertest.Server) { s.Hang(1200 * time.Millisecond) }, "rancher did not answer within 300ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := fake(t, ranchertest.Options{})
			id := whoami(s, 2)
			cfg := testConfig(s, t)
			cfg.Refresh = 400 * time.Millisecond
			cfg.Timeout = 300 * time.Millisecond
			p, rec := run(t, cfg)
			rec.waitFor(t, 5*time.Second, "2 servers", hasServers("whoami.web", 2))

			began := time.Now()
			tc.outage(s)
			s.Scale(id, 3) // an event, and a change the next good read must show
			st := waitStatus(t, p, "the error", func(st route.ProviderStatus) bool { return st.LastError != "" })
			if !strings.Contains(st.LastError, tc.wantErr) {
				t.Errorf("status error %q lacks %q", st.LastError, tc.wantErr)
			}
			noSecret(t, cfg.SecretKey, st.LastError, fmt.Sprint(st))
			if st.ErrorSince.IsZero() || st.NextAttempt.Before(st.LastSync) || st.Errors == 0 || st.Routes != 1 {
				t.Errorf("status %+v", st)
			}
			if rec.count() != 1 {
				t.Errorf("published %d snapshots during the outage", rec.count()-1)
			}
			got := rec.waitFor(t, 3*time.Second, "3 servers after the outage", hasServers("whoami.web", 3))
			if rec.empties() != 0 {
				t.Error("an empty snapshot was published")
			}
			st = waitStatus(t, p, "recovery", func(st route.ProviderStatus) bool { return st.LastError == "" })
			t.Logf("%s: change published %v after a 1.2 s outage began; %d failed reads", tc.name, got.at.Sub(began).Round(time.Millisecond), st.Errors)
		})
	}
}

func TestBadKeyAtStart(t *testing.T) {
	t.Parallel()
	s := fake(t, ranchertest.Options{})
	whoami(s, 1)
	cfg := testConfig(s, t)
	cfg.SecretKey = "not-the-secret-at-all"
	cfg.KeySource = "CATTLE_ACCESS_KEY"
	p, rec := run(t, cfg)
	st := waitStatus(t, p, "the error", func(st route.ProviderStatus) bool { return st.Errors > 0 })
	if !strings.Contains(st.LastError, "rejected the API key (from CATTLE_ACCESS_KEY) (401)") {
		t.Errorf("error %q", st.LastError)
	}
	noSecret(t, cfg.SecretKey, st.LastError)
	noSecret(t, cfg.AccessKey, st.LastError)
	if rec.count() != 0 || st.Mode != ModePolling {
		t.Errorf("published %d, mode %s", rec.count(), st.Mode)
	}
}

func TestDemo(t *testing.T) {
	t.Parallel()
	s, d, err := ranchertest.NewDemo(ranchertest.DemoConfig{Port: 9000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	cfg := testConfig(s, t)
	cfg.Domain = "demo.localhost"
	p, rec := run(t, cfg)
	got := rec.waitFor(t, 5*time.Second, "demo routes", func(s route.Snapshot) bool { return len(s.Services) == 2 })
	want := "api.mixedcase Host:api.mixedcase.demo.localhost [http://127.0.0.2:9000]\n" +
		"whoami.web Host:whoami.web.demo.localhost [http://127.0.0.2:9000 http://127.0.0.3:9000 http://127.0.0.4:9000]"
	if routes(got.snap) != want {
		t.Errorf("routes:\n%s\nwant:\n%s", routes(got.snap), want)
	}
	waitStatus(t, p, "events", func(st route.ProviderStatus) bool { return st.Mode == ModeEvents })
	if !strings.Contains(d.ScaleCommand, "/services/"+d.Whoami) {
		t.Errorf("scale command %q", d.ScaleCommand)
	}
	s.Scale(d.Whoami, 5) // what ScaleCommand does
	got = rec.waitFor(t, time.Second, "4 whoami servers", hasServers("whoami.web", 4))
	if srv := servers(got.snap, "whoami.web"); srv[3] != "http://127.0.0.6:9000" {
		t.Errorf("scaled servers %v", srv)
	}
}

// TestServiceCreationTime: routes carry their Rancher service's creation
// time (createdTS), by which the routing table settles a host claimed by
// a Rancher service and a Kubernetes HTTPRoute: the older gets it.
func TestServiceCreationTime(t *testing.T) {
	t.Parallel()
	s := fake(t, ranchertest.Options{})
	whoami(s, 1)
	_, rec := run(t, testConfig(s, t))
	got := rec.waitFor(t, 5*time.Second, "whoami", hasServers("whoami.web", 1))
	// ranchertest creates its objects a second apart from 2018-03-05
	// 09:12:47 UTC, as the recorded payloads were.
	c := got.snap.Services[0].Created
	if c.IsZero() || c.Before(time.Date(2018, 3, 5, 9, 12, 47, 0, time.UTC)) || c.After(time.Date(2018, 3, 5, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("Created = %v, want the service's createdTS", c)
	}
}
