package consul

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rancher-edge/edge/discovery/consul/consultest"
	"github.com/rancher-edge/edge/route"
)

// recorder keeps every snapshot a provider published.
type recorder struct {
	mu    sync.Mutex
	snaps []route.Snapshot
	at    []time.Time
	ch    chan struct{} // closed and replaced on every publish
}

func newRecorder() *recorder { return &recorder{ch: make(chan struct{})} }

func (r *recorder) publish(s route.Snapshot) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.snaps = append(r.snaps, s)
	r.at = append(r.at, time.Now())
	close(r.ch)
	r.ch = make(chan struct{})
}

func (r *recorder) all() []route.Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]route.Snapshot(nil), r.snaps...)
}

// waitFor waits until the newest snapshot satisfies ok and returns it with
// the time it was published.
func (r *recorder) waitFor(t testing.TB, timeout time.Duration, what string, ok func(route.Snapshot) bool) (route.Snapshot, time.Time) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ch := r.ch
		if n := len(r.snaps); n > 0 && ok(r.snaps[n-1]) {
			s, at := r.snaps[n-1], r.at[n-1]
			r.mu.Unlock()
			return s, at
		}
		r.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			snaps := r.all()
			last := "none"
			if len(snaps) > 0 {
				last = view(snaps[len(snaps)-1])
			}
			t.Fatalf("no snapshot with %s within %v; %d published, the last:\n%s", what, timeout, len(snaps), last)
		}
	}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// testConfig points a provider at the agent with short waits, so outage
// tests take seconds.
func testConfig(t testing.TB, a *consultest.Agent) Config {
	return Config{
		Endpoint:   "http://" + a.Addr,
		Domain:     "example.com",
		Wait:       5 * time.Second,
		Backoff:    50 * time.Millisecond,
		MaxBackoff: 400 * time.Millisecond,
		Timeout:    2 * time.Second,
		Logger:     slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
}

// run starts a provider until the test ends.
func run(t testing.TB, cfg Config) (*Provider, *recorder) {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
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
			t.Error("Run did not return within 5 s of its context ending")
		}
	})
	return p, rec
}

// servers lists the URLs of a route's servers ("" when the route is absent).
func servers(s route.Snapshot, name string) []string {
	for _, svc := range s.Services {
		if svc.Name == name {
			out := []string{}
			for _, srv := range svc.Servers {
				out = append(out, srv.URL)
			}
			return out
		}
	}
	return nil
}

func hasServers(name string, n int) func(route.Snapshot) bool {
	return func(s route.Snapshot) bool {
		got := servers(s, name)
		return got != nil && len(got) == n
	}
}

func service(s route.Snapshot, name string) (route.Service, bool) {
	for _, svc := range s.Services {
		if svc.Name == name {
			return svc, true
		}
	}
	return route.Service{}, false
}

func waitStatus(t testing.TB, p *Provider, what string, ok func(route.ProviderStatus) bool) route.ProviderStatus {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := p.Status()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("status never showed %s: %+v", what, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
