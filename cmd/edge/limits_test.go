package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestRateLimitEndToEnd: traefik.frontend.rateLimit.* through the real
// edge: the burst passes, the next request is 429 with Retry-After, and
// the client is served again once the period has refilled its bucket.
// Another client (by X-Api-Key) is not affected.
func TestRateLimitEndToEnd(t *testing.T) {
	port := echoBackend(t)
	e := startLabelEdge(t, fmt.Sprintf(`services:
  - name: limited
    labels:
      traefik.frontend.rule: "Host:limited.test"
      traefik.port: "%s"
      traefik.frontend.rateLimit.extractorFunc: "request.header.X-Api-Key"
      traefik.frontend.rateLimit.rateSet.s.period: "1s"
      traefik.frontend.rateLimit.rateSet.s.average: "2"
      traefik.frontend.rateLimit.rateSet.s.burst: "3"
    servers: ["127.0.0.1"]
`, port), nil)
	c := loopbackClient()
	// The first answer that is not a 404 means the route is live; it
	// took one token.
	waitStatus(t, c, e, get(e.url("limited.test", "/"), "X-Api-Key", "warmup"), 200)
	code := func(key string) (int, string) {
		resp, err := c.Do(get(e.url("limited.test", "/"), "X-Api-Key", key)())
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	for i := range 3 {
		if got, _ := code("alice"); got != 200 {
			t.Fatalf("request %d within the burst: %d", i+1, got)
		}
	}
	got, retry := code("alice")
	if got != http.StatusTooManyRequests || retry != "1" {
		t.Fatalf("after the burst: %d Retry-After %q, want 429 and 1", got, retry)
	}
	if got, _ := code("bob"); got != 200 {
		t.Errorf("another key was limited too: %d", got)
	}
	time.Sleep(600 * time.Millisecond) // a period of 1s refills 2 tokens; 0.6s one
	if got, _ := code("alice"); got != 200 {
		t.Errorf("after the refill: %d, want 200", got)
	}
}

// TestMaxConnEndToEnd: traefik.backend.maxconn.* through the real edge: a
// request over the limit of requests in flight is refused with 429 at once
// (Traefik's oxy connlimit did not queue), and served once one ended.
func TestMaxConnEndToEnd(t *testing.T) {
	release := make(chan struct{})
	inside := make(chan struct{}, 8)
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			inside <- struct{}{}
			<-release
		}
		io.WriteString(w, "ok")
	}))
	defer b.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(b.URL, "http://"))
	e := startLabelEdge(t, fmt.Sprintf(`services:
  - name: narrow
    labels:
      traefik.frontend.rule: "Host:narrow.test"
      traefik.port: "%s"
      traefik.backend.maxconn.amount: "2"
    servers: ["127.0.0.1"]
`, port), nil)
	c := loopbackClient()
	waitStatus(t, c, e, get(e.url("narrow.test", "/")), 200)
	done := make(chan int, 2)
	for range 2 {
		go func() {
			resp, err := c.Do(get(e.url("narrow.test", "/slow"))())
			if err != nil {
				done <- 0
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
		}()
	}
	<-inside
	<-inside
	start := time.Now()
	resp, err := c.Do(get(e.url("narrow.test", "/"))())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third request in flight: %d %q, want 429", resp.StatusCode, body)
	}
	if waited := time.Since(start); waited > 2*time.Second {
		t.Errorf("the refused request waited %v", waited)
	}
	close(release)
	for range 2 {
		if code := <-done; code != 200 {
			t.Errorf("request within the limit: %d", code)
		}
	}
	waitStatus(t, c, e, get(e.url("narrow.test", "/")), 200)
}
