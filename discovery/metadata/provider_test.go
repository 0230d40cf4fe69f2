package metadata

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	md "github.com/rancher-edge/edge/discovery/metadata/metadatatest"
	"github.com/rancher-edge/edge/route"
)

// TestVersions reads the same mixed-case world through every accepted
// prefix form: 2015-12-19 keeps the names' case, 2016-07-29 and latest
// lower-case them; the routes are the same.
func TestVersions(t *testing.T) {
	t.Parallel()
	w := md.World{Stacks: []md.Stack{{Name: "Shop", Services: []md.Service{{
		Name: "Api", Labels: map[string]string{"traefik.port": "8080"},
		Containers: []md.Container{{IP: "10.42.0.1", Health: "healthy", Ports: []string{"8080:8080/tcp"}}},
	}}}}}
	s := md.Start(t, w)
	for prefix, stack := range map[string]string{
		"2015-12-19": "Shop", "/2015-12-19": "Shop",
		"2016-07-29": "shop", "/2016-07-29": "shop", "2016-07-29/": "shop",
		"latest": "shop", "": "shop",
	} {
		t.Run("prefix "+prefix, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(s, t)
			cfg.Prefix = prefix
			cfg.Domain = "example.com"
			p, rec := run(t, cfg)
			got := rec.waitFor(t, 10*time.Second, "the route", hasServers("api.shop", 1)).snap
			if r := routes(got); r != "api.shop Host:api.shop.example.com [http://10.42.0.1:8080]" {
				t.Errorf("routes %s", r)
			}
			if src := got.Services[0].Source; src.Stack != stack || src.Provider != ProviderName {
				t.Errorf("source %+v, want stack %s", src, stack)
			}
			if st := p.Status(); !strings.HasSuffix(st.Endpoint, "/"+strings.Trim(or(prefix, "latest"), "/")) {
				t.Errorf("status endpoint %s", st.Endpoint)
			}
		})
	}
}

// TestLiveChanges measures, for each kind of change, the time from the
// server's reload to the provider's publish, with the long poll.
func TestLiveChanges(t *testing.T) {
	t.Parallel()
	w := whoami(3)
	s := md.Start(t, w)
	_, rec := run(t, testConfig(s, t)) // refresh 1 min: only the long poll can be this fast
	rec.waitFor(t, 10*time.Second, "3 servers", hasServers("whoami.web", 3))

	whoamiSvc := func(w *md.World) *md.Service { return &w.Stacks[0].Services[0] }
	steps := []struct {
		name   string
		change func(*md.World)
		ok     func(route.Snapshot) bool
	}{
		{"scale-up 3→5", func(w *md.World) {
			for i := range 2 {
				whoamiSvc(w).Containers = append(whoamiSvc(w).Containers, md.Container{IP: fmt.Sprintf("10.42.1.%d", i+1), Health: "healthy"})
			}
		}, hasServers("whoami.web", 5)},
		{"container unhealthy", func(w *md.World) { whoamiSvc(w).Containers[0].Health = "unhealthy" }, hasServers("whoami.web", 4)},
		{"label change", func(w *md.World) { whoamiSvc(w).Labels["traefik.frontend.rule"] = "Host:who.example.com" },
			func(sn route.Snapshot) bool {
				return len(sn.Services) == 1 && sn.Services[0].Rule == "Host:who.example.com"
			}},
		{"stack added", func(w *md.World) {
			w.Stacks = append(w.Stacks, md.Stack{Name: "shop", Services: []md.Service{{
				Name: "api", Labels: map[string]string{"traefik.port": "8080"}, Containers: []md.Container{{IP: "10.42.2.1"}},
			}}})
		}, hasServers("api.shop", 1)},
		{"stack removed", func(w *md.World) { w.Stacks = w.Stacks[:1] }, func(sn route.Snapshot) bool { return servers(sn, "api.shop") == nil }},
		{"scale-down 5→1", func(w *md.World) { whoamiSvc(w).Containers = whoamiSvc(w).Containers[:1] }, hasServers("whoami.web", 0)}, // the one left is the unhealthy one
	}
	for _, step := range steps {
		step.change(&w)
		start := time.Now()
		if err := s.Publish(w); err != nil {
			t.Fatal(err)
		}
		got := rec.waitFor(t, 5*time.Second, step.name, step.ok)
		t.Logf("%s: reload to publish %v", step.name, got.at.Sub(start).Round(100*time.Microsecond))
	}
	if n := rec.empties(); n != 0 {
		t.Errorf("%d empty snapshots", n)
	}
}

func TestIntervalPoll(t *testing.T) {
	t.Parallel()
	w := whoami(2)
	s := md.Start(t, w)
	cfg := testConfig(s, t)
	cfg.IntervalPoll = true
	cfg.Refresh = 300 * time.Millisecond
	p, rec := run(t, cfg)
	rec.waitFor(t, 10*time.Second, "2 servers", hasServers("whoami.web", 2))
	w.Stacks[0].Services[0].Containers = w.Stacks[0].Services[0].Containers[:1]
	start := time.Now()
	if err := s.Publish(w); err != nil {
		t.Fatal(err)
	}
	got := rec.waitFor(t, 5*time.Second, "1 server", hasServers("whoami.web", 1))
	t.Logf("interval poll every %v: change published after %v", cfg.Refresh, got.at.Sub(start).Round(time.Millisecond))
	// Polls that find the same version read nothing and publish nothing.
	time.Sleep(8 * cfg.Refresh)
	if st := p.Status(); st.Mode != ModeIntervalPoll || st.Syncs != 2 || rec.count() != 2 {
		t.Errorf("mode %s, %d reads, %d published; want 2 reads of /stacks", st.Mode, st.Syncs, rec.count())
	} else if since := time.Since(st.LastSuccess); since > 5*cfg.Refresh {
		t.Errorf("last success %v ago: polls that find no change still show metadata answers", since)
	}
}

// outage is how long TestOutageKeepsTheRoutes stops the server. The issue
// asks about 30 s; with the backoff capped at 400 ms the provider goes
// through the same states (failing, backing off, retrying at the cap) in
// 3 s as in 30 s, so the test does not spend the other 27.
const outage = 3 * time.Second

// TestOutageKeepsTheRoutes stops the server: no route is lost, the status
// says why, and a change made meanwhile is live once it is back.
func TestOutageKeepsTheRoutes(t *testing.T) {
	t.Parallel()
	w := whoami(2)
	s := md.Start(t, w)
	p, rec := run(t, testConfig(s, t))
	rec.waitFor(t, 10*time.Second, "2 servers", hasServers("whoami.web", 2))

	s.Stop()
	st := waitStatus(t, p, "the error", func(st route.ProviderStatus) bool { return st.LastError != "" })
	time.Sleep(outage)
	st = p.Status()
	for _, want := range []string{"rancher-metadata unreachable", "connection refused", "keeping the last good routes"} {
		if !strings.Contains(st.LastError, want) {
			t.Errorf("status error %q lacks %q", st.LastError, want)
		}
	}
	if st.LastError == "" || st.ErrorSince.IsZero() || st.Errors < 3 || st.Routes != 1 || !st.NextAttempt.After(st.LastSync) ||
		st.NextAttempt.Sub(st.LastSync) > 500*time.Millisecond {
		t.Errorf("status after %v down: %+v", outage, st)
	}
	if rec.count() != 1 {
		t.Errorf("published %d snapshots during the outage", rec.count()-1)
	}

	// Rancher changed while metadata was down.
	w.Stacks[0].Services[0].Containers = append(w.Stacks[0].Services[0].Containers, md.Container{IP: "10.42.0.3"})
	if err := s.Publish(w); err == nil {
		t.Fatal("publish reached a stopped server")
	}
	back := time.Now()
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	got := rec.waitFor(t, 5*time.Second, "3 servers after the outage", hasServers("whoami.web", 3))
	st = waitStatus(t, p, "recovery", func(st route.ProviderStatus) bool { return st.LastError == "" })
	t.Logf("down %v: %d failed attempts, change live %v after the server was back", outage, st.Errors, got.at.Sub(back).Round(time.Millisecond))
	if rec.empties() != 0 {
		t.Error("an empty snapshot was published")
	}
}

// TestServerErrors: an address that does not serve metadata is an error
// in the status, not an empty table.
func TestServerErrors(t *testing.T) {
	t.Parallel()
	s := md.Start(t, whoami(1))
	cfg := testConfig(s, t)
	cfg.URL = "http://127.0.0.1:8112" // the reload port: no metadata there
	p, rec := run(t, cfg)
	st := waitStatus(t, p, "the error", func(st route.ProviderStatus) bool { return st.Errors > 0 })
	if !strings.Contains(st.LastError, "HTTP 404") || strings.Contains(st.LastError, "keeping") {
		t.Errorf("error %q", st.LastError)
	}
	if rec.count() != 0 {
		t.Error("published without a good read")
	}
}

// TestLargeWorld syncs 2,000 services × 3 containers from the real server.
func TestLargeWorld(t *testing.T) {
	t.Parallel()
	s := md.Start(t, bigWorld())
	start := time.Now()
	p, rec := run(t, testConfig(s, t))
	got := rec.waitFor(t, 60*time.Second, "2,000 routes", func(s route.Snapshot) bool { return len(s.Services) == 2000 })
	for _, r := range got.snap.Services {
		if len(r.Servers) != 3 {
			t.Fatalf("%s has %d servers", r.Name, len(r.Servers))
		}
	}
	if st := p.Status(); st.Stacks != 20 || st.Services != 2000 || st.Containers != 6000 {
		t.Errorf("status %+v", st)
	}
	t.Logf("first sync of 2,000 services after %v", got.at.Sub(start).Round(time.Millisecond))
}

// bigWorld is 2,000 services × 3 containers in 20 stacks.
func bigWorld() md.World {
	var w md.World
	for st := range 20 {
		stack := md.Stack{Name: fmt.Sprintf("stack%02d", st)}
		for i := range 100 {
			svc := md.Service{Name: fmt.Sprintf("svc%03d", i), Labels: map[string]string{"traefik.port": "8080", "traefik.frontend.entryPoints": "http,https"}}
			for c := range 3 {
				svc.Containers = append(svc.Containers, md.Container{IP: fmt.Sprintf("10.42.%d.%d", i, c+st*3), Health: "healthy"})
			}
			stack.Services = append(stack.Services, svc)
		}
		w.Stacks = append(w.Stacks, stack)
	}
	return w
}

// TestPollsArePaced: a server that answers a long poll at once (one that
// ignores wait=true, or a proxy in between) is polled at most once a
// second, not in a loop: Traefik's interval polling cost users 80 % CPU.
func TestPollsArePaced(t *testing.T) {
	t.Parallel()
	var polls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/latest/version":
			if r.URL.Query().Get("wait") == "true" {
				polls.Add(1)
			}
			fmt.Fprint(w, `"1"`)
		case "/latest/stacks":
			fmt.Fprint(w, `[{"name":"web","uuid":"s1","services":[{"name":"whoami","uuid":"v1","kind":"service","state":"active",`+
				`"labels":{"traefik.port":"80"},"containers":[{"name":"c1","uuid":"c1","primary_ip":"10.42.0.1","state":"running"}]}]}]`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	p, rec := run(t, Config{URL: srv.URL, ExposedByDefault: true, Refresh: time.Minute})
	rec.waitFor(t, 5*time.Second, "the route", hasServers("whoami.web", 1))
	time.Sleep(2500 * time.Millisecond)
	if n := polls.Load(); n < 2 || n > 4 {
		t.Errorf("%d long polls in 2.5 s against a server that does not hold them; want about one a second", n)
	}
	if st := p.Status(); st.LastError != "" || st.Syncs != 1 {
		t.Errorf("status %+v", st)
	}
}
