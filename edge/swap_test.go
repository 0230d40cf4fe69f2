package edge

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rancher-edge/edge/route"
)

// TestTableSwapsDropNoRequest swaps the routing table 200 times while 32
// keep-alive clients send requests: every request must succeed.
func TestTableSwapsDropNoRequest(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		b1, b2 := newBackend(t, "b1"), newBackend(t, "b2")
		te := startEdge(t, mode, nil)
		gen := func(i int) route.Snapshot {
			// Alternate backends, weights and unrelated routes so every
			// generation really differs.
			s := svc("app", "Host:app.test.local", b1.URL, b2.URL)
			s.Servers[i%2].Weight = 1 + i%3
			extra := svc(fmt.Sprintf("extra%d", i), fmt.Sprintf("Host:extra%d.test.local", i), b1.URL)
			snap := snapshot(s, extra)
			snap.Fingerprint = uint64(i + 1)
			return snap
		}
		te.srv.Update(gen(0))

		ctx, cancel := context.WithCancel(context.Background())
		var ok, failed atomic.Int64
		var wg sync.WaitGroup
		c := te.client(false)
		c.Transport.(*http.Transport).MaxIdleConnsPerHost = 32
		for range 32 {
			wg.Go(func() {
				for ctx.Err() == nil {
					resp, err := c.Get(hostURL(te, "app.test.local", "/"))
					if err != nil {
						if ctx.Err() == nil {
							failed.Add(1)
							t.Errorf("request failed: %v", err)
						}
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						failed.Add(1)
						t.Errorf("status %d", resp.StatusCode)
						continue
					}
					ok.Add(1)
				}
			})
		}
		for i := 1; i <= 200; i++ {
			te.srv.Update(gen(i))
			// Let requests run on each generation.
			for n := ok.Load(); ok.Load() < n+5 && failed.Load() == 0; {
				runtimeGosched()
			}
		}
		cancel()
		wg.Wait()
		if got := te.srv.Table().Generation(); got != 201 {
			t.Errorf("generation = %d, want 201", got)
		}
		t.Logf("%d requests across 200 swaps, %d failed", ok.Load(), failed.Load())
		if failed.Load() != 0 {
			t.Fatalf("%d requests failed during table swaps", failed.Load())
		}
	})
}

func TestSameFingerprintIsNotRecompiled(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		te := startEdge(t, mode, nil)
		snap := snapshot(svc("a", "Host:a.test.local"))
		snap.Fingerprint = 42
		t1 := te.srv.Update(snap)
		t2 := te.srv.Update(snap)
		if t1 != t2 {
			t.Error("an unchanged snapshot built a new table")
		}
	})
}

// TestChangedRuleTakesEffect: a route that keeps its name but changes its
// rule answers on its new host only, at once, and lets go of its old
// claims: a compile keeps a route's parsed rule only while the expression
// stays the same.
func TestChangedRuleTakesEffect(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		app, other := newBackend(t, "app"), newBackend(t, "other")
		te := startEdge(t, mode, nil)
		c := te.client(false)
		served := func(host string) string { t.Helper(); return servedBy(t, te, c, host) }
		for i, step := range []struct {
			appRule    string
			a, b       string // who answers a.test.local and b.test.local
			clashes    int
			badRuleErr bool
		}{
			{appRule: "Host:a.test.local,x.test.local", a: "app", b: "404", clashes: 1},
			{appRule: "Host:b.test.local,x.test.local", a: "other", b: "app"},
			{appRule: "Hots:a.test.local", a: "other", b: "404", badRuleErr: true},
			{appRule: "Host:a.test.local,x.test.local", a: "app", b: "404", clashes: 1},
		} {
			// other, older by priority order, claims a.test.local too:
			// app wins it while app's rule is the longer.
			s1 := svc("app", step.appRule, app.URL)
			s2 := svc("other", "Host:a.test.local", other.URL)
			snap := snapshot(s1, s2)
			snap.Fingerprint = uint64(i + 1)
			tbl := te.srv.Update(snap)
			if got := served("a.test.local") + " " + served("b.test.local"); got != step.a+" "+step.b {
				t.Errorf("step %d (%s): a and b answered by %q, want %q", i, step.appRule, got, step.a+" "+step.b)
			}
			var clashes, badRule int
			for _, p := range tbl.Problems() {
				switch {
				case strings.Contains(p.Message, "rule \""):
					badRule++
				default:
					clashes++
				}
			}
			if clashes != 2*step.clashes || (badRule > 0) != step.badRuleErr {
				t.Errorf("step %d (%s): problems %v", i, step.appRule, tbl.Problems())
			}
		}
	})
}

// TestUnchangedRouteKeepsItsState: a table rebuilt for a change elsewhere
// leaves the routes it did not touch as they were — a client that spent
// its rate limit stays limited — while a route whose service changed is
// compiled again, with fresh limits and its new servers.
func TestUnchangedRouteKeepsItsState(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		one, two := newBackend(t, "one"), newBackend(t, "two")
		te := startEdge(t, mode, nil)
		c := te.client(false)
		status := func(host string) string { t.Helper(); return servedBy(t, te, c, host) }
		limited := func(burst int64, server string) route.Service {
			s := svc("limited", "Host:limited.test.local", server)
			s.RateLimit = &route.RateLimit{ExtractorFunc: "client.ip",
				RateSets: []route.RateSet{{Period: time.Hour, Average: 1, Burst: burst}}}
			return s
		}
		n := uint64(0)
		update := func(services ...route.Service) *Table {
			n++
			snap := snapshot(services...)
			snap.Fingerprint = n
			return te.srv.Update(snap)
		}
		update(limited(1, one.URL), svc("other", "Host:other.test.local", one.URL))
		if got := status("limited.test.local") + " " + status("limited.test.local"); got != "one 429" {
			t.Fatalf("a burst of 1 answered %q, want one then 429", got)
		}
		// Another service changes (a new server): the limited route is
		// not compiled again, and its client is still over its limit.
		tbl := update(limited(1, one.URL), svc("other", "Host:other.test.local", two.URL))
		if got := status("other.test.local") + " " + status("limited.test.local"); got != "two 429" {
			t.Errorf("after another service changed: %q, want two (its new server) then 429 (the limit kept)", got)
		}
		if rt := routeNamed(tbl, "limited"); rt == nil || !rt.reused {
			t.Errorf("the unchanged route was compiled again: %+v", rt)
		}
		// The limited route itself changes: a new server and a new
		// limit, in force at once.
		update(limited(2, two.URL), svc("other", "Host:other.test.local", two.URL))
		if got := status("limited.test.local") + " " + status("limited.test.local") + " " + status("limited.test.local"); got != "two two 429" {
			t.Errorf("after the route changed: %q, want two two 429", got)
		}
	})
}

// servedBy names the backend that answers a request for host, or gives
// the status when it is not 200.
func servedBy(t *testing.T, te *testEdge, c *http.Client, host string) string {
	t.Helper()
	resp, body := get(t, c, hostURL(te, host, "/"))
	if resp.StatusCode != http.StatusOK {
		return fmt.Sprint(resp.StatusCode)
	}
	var e echo
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatal(err)
	}
	return e.Name
}

func routeNamed(t *Table, name string) *Route {
	for _, rt := range t.Routes() {
		if rt.Service.Name == name {
			return rt
		}
	}
	return nil
}

// TestUpstreamConnectionsCloseWithTheirLastRoute: the fast path's idle
// connections to a backend stay open while some route still sends to it,
// and are closed when the last one stops, however many tables later.
func TestUpstreamConnectionsCloseWithTheirLastRoute(t *testing.T) {
	t.Parallel()
	var open atomic.Int64
	shared := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "shared")
	}))
	shared.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	shared.Start()
	t.Cleanup(shared.Close)
	other := newBackend(t, "other")
	te := startEdge(t, modes[0].set) // the fast path's pools
	c := te.client(false)
	n := uint64(0)
	update := func(services ...route.Service) {
		n++
		snap := snapshot(services...)
		snap.Fingerprint = n
		te.srv.Update(snap)
	}
	a := svc("a", "Host:a.test.local", shared.URL)
	b := svc("b", "Host:b.test.local", shared.URL)
	update(a, b, svc("x", "Host:x.test.local", other.URL))
	for _, host := range []string{"a.test.local", "b.test.local"} {
		if resp, body := get(t, c, hostURL(te, host, "/")); resp.StatusCode != 200 || body != "shared" {
			t.Fatalf("%s: %d %q", host, resp.StatusCode, body)
		}
	}
	if open.Load() == 0 {
		t.Fatal("no connection to the backend is open after two requests")
	}
	// a goes, b stays (unchanged, so not compiled again), x changes.
	update(b, svc("x", "Host:x.test.local", other.URL, other.URL+"/"))
	update(b, svc("y", "Host:y.test.local", other.URL))
	time.Sleep(50 * time.Millisecond) // a close would be seen by now
	if open.Load() == 0 {
		t.Fatal("the edge closed its connections to a backend that route b still uses")
	}
	update(svc("y", "Host:y.test.local", other.URL))
	deadline := time.Now().Add(5 * time.Second)
	for open.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections to a backend no route uses are still open", open.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
