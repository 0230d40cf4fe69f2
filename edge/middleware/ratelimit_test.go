package middleware

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rancher-edge/edge/route"
)

func TestRateLimitTokenBuckets(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	cfg := route.RateLimit{ExtractorFunc: "client.ip", RateSets: []route.RateSet{
		{Name: "fast", Period: time.Second, Average: 2, Burst: 3},
		{Name: "slow", Period: time.Minute, Average: 6, Burst: 5},
	}}
	rl, err := newRateLimit(cfg, func() time.Time { return now }, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	if err != nil {
		t.Fatal(err)
	}
	do := func(ip string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = ip + ":1234"
		r.Header.Set("X-Forwarded-For", "10.9.9.9") // never the key
		w := httptest.NewRecorder()
		rl.ServeHTTP(w, r)
		return w
	}
	for i := range 3 {
		if c := do("192.0.2.1").Code; c != 200 {
			t.Fatalf("request %d within the burst: %d", i+1, c)
		}
	}
	w := do("192.0.2.1")
	if w.Code != 429 || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("over the burst: %d Retry-After %q, want 429 1", w.Code, w.Header().Get("Retry-After"))
	}
	if c := do("192.0.2.2").Code; c != 200 {
		t.Errorf("another client shares the bucket: %d", c)
	}
	now = now.Add(500 * time.Millisecond) // one token back in "fast"
	if c := do("192.0.2.1").Code; c != 200 {
		t.Fatalf("after refill: %d", c)
	}
	// "slow" has one token left (5 - 4); "fast" refills fully.
	now = now.Add(2 * time.Second)
	if c := do("192.0.2.1").Code; c != 200 {
		t.Fatalf("slow bucket's last token: %d", c)
	}
	w = do("192.0.2.1")
	if w.Code != 429 {
		t.Fatalf("slow bucket empty: %d", w.Code)
	}
	if ra, _ := strconv.Atoi(w.Header().Get("Retry-After")); ra < 7 || ra > 10 {
		t.Errorf("Retry-After %d, want the slow bucket's ~8s", ra)
	}
	// Ten seconds give "slow" one token back.
	now = now.Add(10 * time.Second)
	if c := do("192.0.2.1").Code; c != 200 {
		t.Fatalf("after the slow refill: %d", c)
	}
	if c := do("192.0.2.1").Code; c != 429 {
		t.Fatalf("slow bucket empty again: %d", c)
	}

}

// TestRateLimitBoundedKeys: a flood of distinct keys never grows the
// limiter past its bound.
func TestRateLimitBoundedKeys(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	rl, err := newRateLimit(route.RateLimit{ExtractorFunc: "request.header.X-Key", RateSets: []route.RateSet{{Period: time.Hour, Average: 1, Burst: 1}}},
		func() time.Time { return now }, http.NotFoundHandler())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 3 * rateLimitKeys / 4 {
				rl.take(strconv.Itoa(g) + "-" + strconv.Itoa(i))
			}
		}()
	}
	wg.Wait()
	if n := rl.keys(); n > rateLimitKeys || n < rateLimitKeys/2 {
		t.Errorf("%d keys remembered after a flood, want at most %d (and most of them)", n, rateLimitKeys)
	}
}

func TestRateLimitConfig(t *testing.T) {
	for _, cfg := range []route.RateLimit{
		{ExtractorFunc: "client.ip"},
		{ExtractorFunc: "client.port", RateSets: []route.RateSet{{Period: time.Second, Average: 1, Burst: 1}}},
		{ExtractorFunc: "client.ip", RateSets: []route.RateSet{{Period: time.Second, Average: 1}}},
	} {
		if _, err := RateLimit(cfg, http.NotFoundHandler()); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

func TestMaxConn(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 4)
	h, err := MaxConn(route.MaxConn{Amount: 2}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
	}))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "http://a.test/", nil))
		}()
	}
	<-entered
	<-entered
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "http://a.test/", nil))
	if w.Code != 429 {
		t.Errorf("third request in flight on a.test: %d, want 429", w.Code)
	}
	w = httptest.NewRecorder()
	go func() { <-entered }()
	done := make(chan struct{})
	go func() { h.ServeHTTP(w, httptest.NewRequest("GET", "http://b.test/", nil)); close(done) }()
	close(release)
	<-done
	wg.Wait()
	if w.Code != 200 {
		t.Errorf("another host (Traefik's default key): %d", w.Code)
	}
	if n := len(h.(*maxConn).inflight); n != 0 {
		t.Errorf("%d keys left after every request ended", n)
	}
	if _, err := MaxConn(route.MaxConn{Amount: 0}, http.NotFoundHandler()); err == nil {
		t.Error("amount 0 accepted")
	}
}
