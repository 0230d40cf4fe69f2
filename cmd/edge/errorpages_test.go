package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestErrorPageFromAnotherBackend: traefik.frontend.errors.<name>.* through
// the real edge: the 502 the edge answers for a dead backend, and a 503
// the backend answers itself, come back with the page another service's
// servers serve for that status; a 404 no page lists passes unchanged.
func TestErrorPageFromAnotherBackend(t *testing.T) {
	pages := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, "<h1>sorry: %s for %s</h1>", r.URL.Path, r.Host)
	}))
	defer pages.Close()
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/busy":
			w.Header().Set("X-Internal", "stack trace")
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
		case "/missing":
			http.Error(w, "no such thing", http.StatusNotFound)
		default:
			io.WriteString(w, "fine")
		}
	}))
	defer app.Close()
	portOf := func(u string) string {
		_, p, _ := net.SplitHostPort(strings.TrimPrefix(u, "http://"))
		return p
	}
	dead := freePort(t)
	e := startLabelEdge(t, fmt.Sprintf(`services:
  - name: pages
    labels:
      traefik.frontend.rule: "Host:pages.test"
      traefik.port: "%[1]s"
      traefik.backend: "errorpages"
    servers: ["127.0.0.1"]
  - name: app
    labels:
      traefik.frontend.rule: "Host:app.test"
      traefik.port: "%[2]s"
      traefik.frontend.errors.oops.status: "500-503"
      traefik.frontend.errors.oops.backend: "errorpages"
      traefik.frontend.errors.oops.query: "/{status}.html"
    servers: ["127.0.0.1"]
  - name: down
    labels:
      traefik.frontend.rule: "Host:down.test"
      traefik.port: "%[3]d"
      traefik.frontend.errors.oops.status: "502"
      traefik.frontend.errors.oops.backend: "errorpages"
      traefik.frontend.errors.oops.query: "/{status}.html"
    servers: ["127.0.0.1"]
`, portOf(pages.URL), portOf(app.URL), dead), nil)
	c := loopbackClient()
	waitStatus(t, c, e, get(e.url("pages.test", "/")), 200)

	resp, body := waitStatus(t, c, e, get(e.url("down.test", "/x")), http.StatusBadGateway)
	if !strings.Contains(body, "<h1>sorry: /502.html") || resp.Header.Get("Content-Type") != "text/html" {
		t.Errorf("502 from a dead backend: %q (%s), want the error page", body, resp.Header.Get("Content-Type"))
	}
	resp, body = waitStatus(t, c, e, get(e.url("app.test", "/busy")), http.StatusServiceUnavailable)
	if !strings.Contains(body, "<h1>sorry: /503.html for app.test") || resp.Header.Get("X-Internal") != "" {
		t.Errorf("503 from the backend: %q X-Internal=%q, want the page without the backend's headers", body, resp.Header.Get("X-Internal"))
	}
	_, body = waitStatus(t, c, e, get(e.url("app.test", "/missing")), http.StatusNotFound)
	if !strings.Contains(body, "no such thing") {
		t.Errorf("404 no page lists: %q, want the backend's own", body)
	}
	_, body = waitStatus(t, c, e, get(e.url("app.test", "/")), 200)
	if body != "fine" {
		t.Errorf("200: %q", body)
	}
}
