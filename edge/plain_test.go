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
