package rancher

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rancher-edge/edge/discovery/cattle"
	"github.com/rancher-edge/edge/discovery/rancher/ranchertest"
	"github.com/rancher-edge/edge/route"
)

// published is a snapshot with the time it was handed to publish.
type published struct {
	snap route.Snapshot
	at   time.Time
}

// recorder collects what a provider publishes.
type recorder struct {
	ch  chan published
	mu  sync.Mutex
	all []published
}

func (r *recorder) publish(s route.Snapshot) {
	p := published{snap: s, at: time.Now()}
	r.mu.Lock()
	r.all = append(r.all, p)
	r.mu.Unlock()
	r.ch <- p
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.all)
}

// empties counts published snapshots without routes.
func (r *recorder) empties() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, p := range r.all {
		if len(p.snap.Services) == 0 {
			n++
		}
	}
	return n
}

// waitFor returns the first published snapshot satisfying ok.
func (r *recorder) waitFor(t *testing.T, timeout time.Duration, what string, ok func(route.Snapshot) bool) published {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case p := <-r.ch:
			if ok(p.snap) {
				return p
			}
		case <-deadline:
			t.Fatalf("no snapshot with %s within %v", what, timeout)
		}
	}
}

// quiet asserts that nothing is published for d.
func (r *recorder) quiet(t *testing.T, d time.Duration, why string) {
	t.Helper()
	select {
	case p := <-r.ch:
		t.Fatalf("published during %s: %s", why, routes(p.snap))
	case <-time.After(d):
	}
}

func fake(t testing.TB, opts ranchertest.Options) *ranchertest.Server {
	t.Helper()
	s, err := ranchertest.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// testConfig points a config at the fake with its environment key.
func testConfig(s *ranchertest.Server, t testing.TB) Config {
	ak, sk := s.EnvironmentKey()
	return Config{
		Endpoint: s.URL(), AccessKey: ak, SecretKey: sk, KeySource: "TRAEFIK_RANCHER_ACCESSKEY",
		ExposedByDefault: true, Refresh: time.Minute, Timeout: 2 * time.Second,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// run starts a provider; it is stopped, and Run's return checked, at the
// end of the test.
func run(t *testing.T, cfg Config, edit ...func(*Provider)) (*Provider, *recorder) {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range edit {
		e(p)
	}
	rec := &recorder{ch: make(chan published, 1000)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, rec.publish) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return p, rec
}

// servers returns the server URLs of a route, or nil when it is absent.
func servers(s route.Snapshot, name string) []string {
	for _, r := range s.Services {
		if r.Name == name {
			out := []string{}
			for _, sv := range r.Servers {
				out = append(out, sv.URL)
			}
			return out
		}
	}
	return nil
}

func hasServers(name string, n int) func(route.Snapshot) bool {
	return func(s route.Snapshot) bool { return len(servers(s, name)) == n }
}

// whoami adds stack web with service whoami on port 80 and n containers.
func whoami(s *ranchertest.Server, n int) string {
	st := s.AddStack(ranchertest.StackSpec{Name: "web"})
	return s.AddService(st, ranchertest.ServiceSpec{
		Name: "whoami", Labels: map[string]string{"traefik.port": "80"}, HealthCheck: true, Scale: n,
	})
}

func waitStatus(t *testing.T, p *Provider, what string, ok func(route.ProviderStatus) bool) route.ProviderStatus {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if st := p.Status(); ok(st) {
			return st
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("status never showed %s: %+v", what, p.Status())
	return route.ProviderStatus{}
}

func noSecret(t *testing.T, secret string, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(s, secret) {
			t.Errorf("secret leaked in %q", s)
		}
	}
}

// build turns one read into a snapshot, as a full read does; Built is
// left for the caller.
func build(r raw, s settings) (route.Snapshot, []route.Problem) { return cattle.Build(r, s) }
