package middleware

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rancher-edge/edge/route"
)

// streamingServer serves backend behind Headers(cfg) on a real listener, so
// that flushing and hijacking go through net/http's own ResponseWriter.
func streamingServer(t *testing.T, cfg route.Headers, backend http.HandlerFunc) *httptest.Server {
	t.Helper()
	h, err := Headers(cfg, backend)
	if err != nil {
		t.Fatalf("Headers: %v", err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestHeadersFlushStreams(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	backend := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Frame-Options", "ALLOWALL")
		_, _ = io.WriteString(w, "first\n")
		// ReverseProxy flushes through http.ResponseController; older code
		// asserts http.Flusher. Both must reach the connection.
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("ResponseController.Flush: %v", err)
		}
		w.(http.Flusher).Flush()
		<-release
		_, _ = io.WriteString(w, "second\n")
	}
	srv := streamingServer(t, route.Headers{FrameDeny: true}, backend)

	res, err := srv.Client().Get(srv.URL)
	if err != nil {
		close(release)
		t.Fatalf("GET: %v", err)
	}
	defer res.Body.Close()
	if got := res.Header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("X-Frame-Options = %q, want DENY", got)
	}
	// The first line arrives while the backend is still blocked, which
	// only happens if the flush got through.
	line, err := bufio.NewReader(res.Body).ReadString('\n')
	close(release)
	if err != nil || line != "first\n" {
		t.Fatalf("first line = %q, %v", line, err)
	}
}

func TestHeadersFlushBeforeWriteAppliesHeaders(t *testing.T) {
	t.Parallel()
	backend := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Server", "backend")
		w.(http.Flusher).Flush()
	}
	rec := httptest.NewRecorder()
	h, err := Headers(route.Headers{ContentTypeNosniff: true, CustomResponseHeaders: map[string]string{"Server": ""}}, http.HandlerFunc(backend))
	if err != nil {
		t.Fatal(err)
	}
	h.ServeHTTP(rec, newReq(http.MethodGet, "http://a.example.com/", false))
	if !rec.Flushed {
		t.Error("flush did not reach the recorder")
	}
	if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q", got)
	}
	if got := rec.Header().Get("Server"); got != "" {
		t.Errorf("Server = %q, want removed", got)
	}
}

func TestHeadersHijack(t *testing.T) {
	t.Parallel()
	backend := func(w http.ResponseWriter, _ *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		defer conn.Close()
		// Write the response by hand, with the header map the middleware
		// prepared, the way httputil.ReverseProxy answers an upgrade.
		res := &http.Response{StatusCode: http.StatusSwitchingProtocols, ProtoMajor: 1, ProtoMinor: 1, Header: w.Header()}
		res.Header.Set("Upgrade", "test")
		res.Header.Set("Connection", "Upgrade")
		_ = res.Write(brw)
		_, _ = brw.WriteString("hello")
		_ = brw.Flush()
	}
	srv := streamingServer(t, route.Headers{FrameDeny: true}, backend)

	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "test")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status = %d, want 101", res.StatusCode)
	}
	if got := res.Header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("X-Frame-Options = %q, want DENY", got)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(res.Body, buf); err != nil || string(buf) != "hello" {
		t.Errorf("upgraded stream = %q, %v", buf, err)
	}
}

func TestHeadersInformationalResponse(t *testing.T) {
	t.Parallel()
	backend := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		w.Header().Set("X-Frame-Options", "ALLOWALL")
		w.WriteHeader(http.StatusOK)
	}
	// A real server: httptest.ResponseRecorder records the 103 as final.
	srv := streamingServer(t, route.Headers{FrameDeny: true}, backend)
	res, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("code = %d, want 200", res.StatusCode)
	}
	if got := res.Header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("X-Frame-Options = %q, want DENY on the final response", got)
	}
}

func TestHeadersDeadlinesReachConnection(t *testing.T) {
	t.Parallel()
	backend := func(w http.ResponseWriter, _ *http.Request) {
		// Only possible through Unwrap: headerWriter has no such method.
		if err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline: %v", err)
		}
		_, _ = io.WriteString(w, "ok")
	}
	srv := streamingServer(t, route.Headers{FrameDeny: true}, backend)
	res, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if !strings.Contains(string(body), "ok") {
		t.Errorf("body = %q", body)
	}
}
