package metadata

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rancher-edge/edge/discovery/metadata/metadatatest"
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

// testConfig points a config at the server, with short backoffs.
func testConfig(s *metadatatest.Server, t testing.TB) Config {
	return Config{
		URL: s.URL, Transport: s.Transport(), ExposedByDefault: true, Refresh: time.Minute,
		MaxBackoff: 400 * time.Millisecond,
		Logger:     slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// run starts a provider; it is stopped, and Run's return checked, when
// the test ends.
func run(t *testing.T, cfg Config) (*Provider, *recorder) {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
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

// routes renders a snapshot as "name rule [servers]" lines.
func routes(s route.Snapshot) string {
	var lines []string
	for _, r := range s.Services {
		var urls []string
		for _, sv := range r.Servers {
			urls = append(urls, sv.URL)
		}
		lines = append(lines, fmt.Sprintf("%s %s [%s]", r.Name, r.Rule, strings.Join(urls, " ")))
	}
	return strings.Join(lines, "\n")
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

func waitStatus(t *testing.T, p *Provider, what string, ok func(route.ProviderStatus) bool) route.ProviderStatus {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if st := p.Status(); ok(st) {
			return st
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("status never showed %s: %+v", what, p.Status())
	return route.ProviderStatus{}
}

// whoami is stack web with service whoami on port 80 and n healthy
// containers at 10.42.0.1….
func whoami(n int) metadatatest.World {
	svc := metadatatest.Service{Name: "whoami", Labels: map[string]string{"traefik.port": "80"}}
	for i := range n {
		svc.Containers = append(svc.Containers, metadatatest.Container{IP: fmt.Sprintf("10.42.0.%d", i+1), Health: "healthy"})
	}
	return metadatatest.World{Stacks: []metadatatest.Stack{{Name: "web", Services: []metadatatest.Service{svc}}}}
}
