package edge

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/rancher-edge/edge/route"
)

// TestRouteTLSPolicy: with HTTPS on, a route whose own TLS policy serves
// plain HTTP (an Ingress host without tls) is served on the HTTP port,
// every other request is redirected to the public HTTPS port, and ACME is
// offered only the names the routes' policies allow.
func TestRouteTLSPolicy(t *testing.T) {
	b := newBackend(t, "b")
	te := startEdge(t, func(c *Config) { c.HTTPSPort = 443 })
	plain := svc("plain", "Host:plain.test.local", b.URL)
	plain.TLS = &route.TLS{PlainHTTP: true}
	secure := svc("secure", "Host:secure.test.local", b.URL)
	secure.TLS = &route.TLS{ACMEHosts: []string{"secure.test.local"}}
	legacy := svc("legacy", "Host:legacy.test.local", b.URL)
	te.srv.Update(snapshot(plain, secure, legacy))

	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, body := get(t, c, te.httpURL+"/x", "Host", "plain.test.local")
	if resp.StatusCode != 200 || decodeEcho(t, body).Name != "b" {
		t.Errorf("plain route on HTTP: %d %q", resp.StatusCode, body)
	}
	for _, host := range []string{"secure.test.local", "legacy.test.local", "unknown.test.local"} {
		resp, _ := get(t, c, te.httpURL+"/x?q=1", "Host", host)
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "https://"+host+"/x?q=1" {
			t.Errorf("%s on HTTP: %d Location %q, want a redirect to https://%s/x?q=1", host, resp.StatusCode, loc, host)
		}
	}
	// HTTPS serves all three.
	for _, host := range []string{"plain.test.local", "secure.test.local", "legacy.test.local"} {
		if resp, _ := get(t, te.client(false), hostURL(te, host, "/")); resp.StatusCode != 200 {
			t.Errorf("%s on HTTPS: %d", host, resp.StatusCode)
		}
	}
	got := te.srv.Table().ACMEHosts()
	want := []string{"legacy.test.local", "secure.test.local"}
	if !slices.Equal(got, want) {
		t.Errorf("ACME hosts %q, want %q (a route with its own TLS policy offers only its ACMEHosts)", got, want)
	}
	if strings.Contains(strings.Join(got, ","), "plain") {
		t.Errorf("plain host offered to ACME")
	}
}

// TestRouteRedirectCode: a route with its own HTTPS redirect code (an
// Ingress of class nginx: 308) is redirected with it; the others keep the
// edge's code, and a code outside 301/302/307/308 skips the route.
func TestRouteRedirectCode(t *testing.T) {
	b := newBackend(t, "b")
	te := startEdge(t, func(c *Config) { c.HTTPSPort = 443 })
	nginx := svc("nginx", "Host:nginx.test.local", b.URL)
	nginx.TLS = &route.TLS{RedirectCode: http.StatusPermanentRedirect}
	plain := svc("other", "Host:other.test.local", b.URL)
	bad := svc("bad", "Host:bad.test.local", b.URL)
	bad.TLS = &route.TLS{RedirectCode: 200}
	te.srv.Update(snapshot(nginx, plain, bad))

	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for host, want := range map[string]int{"nginx.test.local": 308, "other.test.local": 302} {
		resp, _ := get(t, c, te.httpURL+"/p?q=1", "Host", host)
		if loc := resp.Header.Get("Location"); resp.StatusCode != want || loc != "https://"+host+"/p?q=1" {
			t.Errorf("%s: %d Location %q, want %d to https://%s/p?q=1", host, resp.StatusCode, loc, want, host)
		}
	}
	found := false
	for _, p := range te.srv.Table().Problems() {
		found = found || strings.Contains(p.Message, "redirect code 200")
	}
	if !found {
		t.Errorf("a bad redirect code is not reported: %v", te.srv.Table().Problems())
	}
}

// BenchmarkHTTPSRedirect measures the plain HTTP listener's redirect to
// HTTPS: with the edge's code, and with a route's own (one more lookup).
func BenchmarkHTTPSRedirect(b *testing.B) {
	for _, own := range []bool{false, true} {
		name := "edge-code"
		if own {
			name = "route-code"
		}
		b.Run(name, func(b *testing.B) {
			te := startEdge(b, func(c *Config) { c.HTTPSPort = 443 })
			s := te.srv
			sv := svc("app", "Host:app.test.local;PathPrefix:/", "http://127.0.0.1:1")
			if own {
				sv.TLS = &route.TLS{RedirectCode: http.StatusPermanentRedirect}
			}
			s.Update(snapshot(sv))
			h := s.HTTPHandler()
			req, _ := http.NewRequest("GET", "http://app.test.local/a/b?c=d", nil)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, req)
			}
		})
	}
}

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}
