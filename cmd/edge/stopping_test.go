package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestStoppingSteps follows a stop as a load balancer sees it, with
// TRAEFIK_TIMEOUT_ACCEPT: at the signal /ping answers 503 while new
// requests are still served; then the edge stops accepting and drains,
// /ping still answering 503, and the request in flight completes.
func TestStoppingSteps(t *testing.T) {
	release, arrived := make(chan struct{}), make(chan struct{}, 1)
	var releaseOnce bool
	defer func() {
		if !releaseOnce {
			close(release)
		}
	}()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			arrived <- struct{}{}
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		io.WriteString(w, "done "+r.URL.Path)
	}))
	defer backend.Close()
	_, bport, _ := net.SplitHostPort(backend.Listener.Addr().String())

	dir := t.TempDir()
	routes := filepath.Join(dir, "routes.yaml")
	os.WriteFile(routes, []byte(fmt.Sprintf(`services:
  - name: app
    labels:
      traefik.frontend.rule: "Host:app.example.com"
      traefik.port: "%s"
    servers: ["127.0.0.1"]
`, bport)), 0o644)
	httpPort, adminPort := freePort(t), freePort(t)
	const accept = 3 * time.Second
	env := map[string]string{
		"TRAEFIK_HTTPS_ENABLE":   "false",
		"TRAEFIK_HTTP_PORT":      strconv.Itoa(httpPort),
		"TRAEFIK_ADMIN_PORT":     strconv.Itoa(adminPort),
		"TRAEFIK_FILE":           routes,
		"TRAEFIK_TIMEOUT_ACCEPT": accept.String(),
		"TRAEFIK_TIMEOUT_GRACE":  "20s",
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	logs := &syncWriter{w: &bytes.Buffer{}}
	go func() { done <- run(ctx, nil, mapEnv(env), io.Discard, logs) }()
	defer func() {
		if t.Failed() {
			logs.mu.Lock()
			t.Logf("edge logs:\n%s", logs.w.(*bytes.Buffer).String())
			logs.mu.Unlock()
		}
	}()

	// A fresh connection for every request: what matters is whether the
	// edge accepts new ones.
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	get := func(url string) (int, string, error) {
		req, _ := http.NewRequest("GET", url, nil)
		req.Host = "app.example.com"
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}
	app := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	ping := fmt.Sprintf("http://127.0.0.1:%d/ping", adminPort)
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	waitFor("the route", func() bool { c, _, _ := get(app + "/fast"); return c == 200 })
	if c, body, err := get(ping); c != 200 || body != "OK\n" {
		t.Fatalf("/ping before the stop: %d %q %v", c, body, err)
	}

	slow := make(chan string, 1)
	go func() {
		c, body, err := get(app + "/slow")
		slow <- fmt.Sprintf("%d %s %v", c, body, err)
	}()
	select {
	case <-arrived:
	case <-time.After(15 * time.Second):
		t.Fatal("the slow request never reached the backend")
	}

	stopped := time.Now()
	cancel()
	waitFor("/ping to answer 503", func() bool { c, _, _ := get(ping); return c == http.StatusServiceUnavailable })
	if c, body, _ := get(ping); body != "stopping\n" {
		t.Errorf("/ping while stopping: %d %q", c, body)
	}
	// Still accepting: a new connection gets its answer.
	if c, body, err := get(app + "/fast"); c != 200 || body != "done /fast" {
		t.Fatalf("a new request during the accept period: %d %q %v", c, body, err)
	}
	if time.Since(stopped) >= accept {
		t.Fatalf("the checks took longer than the accept period (%s): the machine is too slow for this test's margins", accept)
	}
	// Then the edge drains: new connections are refused, /ping still
	// answers 503, the request in flight is not cut.
	waitFor("the edge to stop accepting", func() bool {
		_, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(httpPort), time.Second)
		return err != nil
	})
	if waited := time.Since(stopped); waited < accept {
		t.Errorf("the edge stopped accepting %s after the signal, before TRAEFIK_TIMEOUT_ACCEPT=%s", waited, accept)
	}
	if c, body, err := get(ping); c != http.StatusServiceUnavailable {
		t.Errorf("/ping while draining: %d %q %v", c, body, err)
	}
	select {
	case s := <-slow:
		t.Fatalf("the request in flight ended before its backend answered: %s", s)
	default:
	}
	close(release)
	releaseOnce = true
	select {
	case s := <-slow:
		if !strings.HasPrefix(s, "200 done /slow") {
			t.Errorf("the request in flight: %s", s)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the request in flight never completed")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the edge did not stop after its last request")
	}
	if _, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(adminPort), time.Second); err == nil {
		t.Error("the dashboard still listens after the edge stopped")
	}
	logs.mu.Lock()
	logged := logs.w.(*bytes.Buffer).String()
	logs.mu.Unlock()
	if !strings.Contains(logged, "stopping: still serving") {
		t.Error("the accept period was not logged")
	}
}
