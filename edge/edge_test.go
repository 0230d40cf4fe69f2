package edge

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/rancher-edge/edge/route"
)

func TestRedirectKeepsHostPathQuery(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		for _, tc := range []struct {
			name      string
			httpsPort int
			code      int
			target    string
			host      string
			want      string
			wantCode  int
		}{
			{"default 302 adds non-standard port", 8443, 0, "/a/b?x=1&y=%20z", "app.test.local:8080", "https://app.test.local:8443/a/b?x=1&y=%20z", 302},
			{"443 is not written", 443, 0, "/p", "App.Test.Local", "https://App.Test.Local/p", 302},
			{"permanent 301", 443, 301, "/", "a.test.local", "https://a.test.local/", 301},
			{"308", 443, 308, "/x%2Fy", "a.test.local", "https://a.test.local/x%2Fy", 308},
			{"IPv6 literal", 443, 0, "/", "[::1]:80", "https://[::1]/", 302},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				te := startEdge(t, mode, func(c *Config) { c.HTTPSPort = tc.httpsPort; c.RedirectCode = tc.code })
				resp, _ := get(t, te.client(false), te.httpURL+tc.target, "Host", tc.host)
				if resp.StatusCode != tc.wantCode {
					t.Errorf("status = %d, want %d", resp.StatusCode, tc.wantCode)
				}
				if got := resp.Header.Get("Location"); got != tc.want {
					t.Errorf("Location = %q, want %q", got, tc.want)
				}
			})
		}
	})
}

func TestHTTPChallengeAnsweredBeforeRedirect(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		te := startEdge(t, mode, func(c *Config) {
			c.HTTPChallenge = func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.HasPrefix(r.URL.Path, "/.well-known/acme-challenge/") {
					return false
				}
				w.Write([]byte("token"))
				return true
			}
		})
		c := te.client(false)
		if resp, body := get(t, c, te.httpURL+"/.well-known/acme-challenge/abc", "Host", "a.test.local"); resp.StatusCode != 200 || body != "token" {
			t.Errorf("challenge: %d %q", resp.StatusCode, body)
		}
		if resp, _ := get(t, c, te.httpURL+"/other", "Host", "a.test.local"); resp.StatusCode != 302 {
			t.Errorf("normal request: %d, want redirect", resp.StatusCode)
		}
	})
}

func TestHTTPSDisabledServesRoutesOnHTTP(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		b := newBackend(t, "b1")
		te := startEdge(t, mode, func(c *Config) { c.HTTPSAddr = ""; c.TLS = nil })
		te.srv.Update(snapshot(svc("app", "Host:app.test.local", b.URL)))
		resp, body := get(t, te.client(false), "http://app.test.local/x")
		if resp.StatusCode != 200 || decodeEcho(t, body).Name != "b1" {
			t.Fatalf("got %d %q", resp.StatusCode, body)
		}
	})
}

func TestErrorBodies(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		dead := newBackend(t, "dead")
		deadURL := dead.URL
		dead.Close()
		te := startEdge(t, mode, nil)
		te.srv.Update(snapshot(
			svc("empty", "Host:empty.test.local"),
			svc("down", "Host:down.test.local", deadURL),
		))
		c := te.client(false)
		for _, tc := range []struct {
			host string
			code int
			body string
		}{
			{"nothing.test.local", 404, "404 page not found\n"},
			{"empty.test.local", 503, "503 Service Unavailable\n"},
			{"down.test.local", 502, "502 Bad Gateway\n"},
		} {
			resp, body := get(t, c, hostURL(te, tc.host, "/"))
			if resp.StatusCode != tc.code || body != tc.body {
				t.Errorf("%s: got %d %q, want %d %q", tc.host, resp.StatusCode, body, tc.code, tc.body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("%s: Content-Type %q", tc.host, ct)
			}
			if strings.Contains(body, "127.0.0.1") || strings.Contains(body, "goroutine") {
				t.Errorf("%s: body leaks internals: %q", tc.host, body)
			}
		}
	})
}

func TestHostMatchingIgnoresCaseAndPort(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		b := newBackend(t, "b1")
		te := startEdge(t, mode, nil)
		te.srv.Update(snapshot(svc("app", "Host:App.Test.Local", b.URL)))
		resp, body := get(t, te.client(false), hostURL(te, "APP.test.local", "/"))
		if resp.StatusCode != 200 || decodeEcho(t, body).Name != "b1" {
			t.Fatalf("got %d %q", resp.StatusCode, body)
		}
	})
}

func TestPriorityAndRuleModifiers(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		api := newBackend(t, "api")
		web := newBackend(t, "web")
		te := startEdge(t, mode, nil)
		te.srv.Update(snapshot(
			svc("web", "Host:shop.test.local", web.URL),
			svc("api", "Host:shop.test.local;PathPrefixStrip:/api", api.URL),
			svc("any", "PathPrefix:/anything", web.URL),
		))
		c := te.client(false)
		_, body := get(t, c, hostURL(te, "shop.test.local", "/api/items?q=1"))
		e := decodeEcho(t, body)
		if e.Name != "api" || e.Path != "/items" || e.Query != "q=1" {
			t.Errorf("api route: %+v", e)
		}
		if got := e.Header.Get("X-Forwarded-Prefix"); got != "/api" {
			t.Errorf("X-Forwarded-Prefix = %q", got)
		}
		if e := decodeEcho(t, mustBody(t, c, hostURL(te, "shop.test.local", "/apix"))); e.Name != "api" || e.Path != "/x" {
			// PathPrefix is a raw string prefix in Traefik 1.x: /api matches /apix.
			t.Errorf("raw prefix: %+v", e)
		}
		if e := decodeEcho(t, mustBody(t, c, hostURL(te, "shop.test.local", "/home"))); e.Name != "web" {
			t.Errorf("host route: %+v", e)
		}
		if e := decodeEcho(t, mustBody(t, c, hostURL(te, "other.test.local", "/anything/x"))); e.Name != "web" {
			t.Errorf("non-host route: %+v", e)
		}
	})
}

func mustBody(t testing.TB, c *http.Client, url string) string {
	t.Helper()
	resp, body := get(t, c, url)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %q", url, resp.StatusCode, body)
	}
	return body
}

func TestBadRuleSkipsOnlyThatService(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		b := newBackend(t, "good")
		te := startEdge(t, mode, nil)
		tbl := te.srv.Update(snapshot(
			svc("bad", "Hots:bad.test.local", b.URL),
			svc("good", "Host:good.test.local", b.URL),
		))
		if len(tbl.Routes()) != 1 {
			t.Fatalf("routes = %d, want 1", len(tbl.Routes()))
		}
		var found bool
		for _, p := range tbl.Problems() {
			if p.Source.Service == "bad" && p.Severity == route.Error && strings.Contains(p.Message, "Hots") {
				found = true
			}
		}
		if !found {
			t.Errorf("no problem reported for the bad rule: %v", tbl.Problems())
		}
		if e := decodeEcho(t, mustBody(t, te.client(false), hostURL(te, "good.test.local", "/"))); e.Name != "good" {
			t.Errorf("good route: %+v", e)
		}
	})
}

func TestConflictingRulesAreBothKeptAndReported(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		b := newBackend(t, "b")
		te := startEdge(t, mode, nil)
		tbl := te.srv.Update(snapshot(
			svc("one", "Host:same.test.local", b.URL),
			svc("two", "Host:same.test.local", b.URL),
		))
		if len(tbl.Routes()) != 2 {
			t.Fatalf("routes = %d, want both kept", len(tbl.Routes()))
		}
		warned := map[string]bool{}
		for _, p := range tbl.Problems() {
			if p.Severity == route.Warning && strings.Contains(p.Message, "claimed by") {
				warned[p.Source.Service] = true
			}
		}
		if !warned["one"] || !warned["two"] {
			t.Errorf("conflict warnings = %v", tbl.Problems())
		}
	})
}

func TestForwardedHeaders(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		b := newBackend(t, "b")
		for _, tc := range []struct {
			name    string
			trusted bool
			wantXFF string
			wantXFP string
		}{
			{"untrusted peer: forged headers replaced", false, "127.0.0.1", "https"},
			{"trusted peer: chain kept and extended", true, "203.0.113.9, 127.0.0.1", "http"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				te := startEdge(t, mode, func(c *Config) {
					if tc.trusted {
						c.TrustedIPs = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
					}
				})
				te.srv.Update(snapshot(svc("app", "Host:app.test.local", b.URL)))
				for _, h2 := range []bool{false, true} {
					_, body := get(t, te.client(h2), hostURL(te, "app.test.local", "/"),
						"X-Forwarded-For", "203.0.113.9", "X-Forwarded-Proto", "http", "X-Real-Ip", "203.0.113.9",
						"X-Replaced-Path", "/forged", "Forwarded", "for=203.0.113.9",
						"Proxy-Authorization", "Basic Zm9vOmJhcg==")
					e := decodeEcho(t, body)
					// Forwarded is a forwarded field like the others;
					// Proxy-Authorization is for the edge, never passed.
					if got, want := e.Header.Get("Forwarded"), map[bool]string{true: "for=203.0.113.9"}[tc.trusted]; got != want {
						t.Errorf("h2=%v: Forwarded = %q, want %q", h2, got, want)
					}
					if got := e.Header.Get("Proxy-Authorization"); got != "" {
						t.Errorf("h2=%v: Proxy-Authorization passed: %q", h2, got)
					}
					if got, want := e.Header.Get("X-Replaced-Path"), map[bool]string{true: "/forged"}[tc.trusted]; got != want {
						t.Errorf("h2=%v: X-Replaced-Path = %q, want %q", h2, got, want)
					}
					if got := e.Header.Get("X-Forwarded-For"); got != tc.wantXFF {
						t.Errorf("X-Forwarded-For = %q, want %q", got, tc.wantXFF)
					}
					if got := e.Header.Get("X-Forwarded-Proto"); got != tc.wantXFP {
						t.Errorf("X-Forwarded-Proto = %q, want %q", got, tc.wantXFP)
					}
					if !tc.trusted {
						if got := e.Header.Get("X-Real-Ip"); got != "127.0.0.1" {
							t.Errorf("X-Real-Ip = %q", got)
						}
						if got := e.Header.Get("X-Forwarded-Host"); !strings.HasPrefix(got, "app.test.local") {
							t.Errorf("X-Forwarded-Host = %q", got)
						}
					}
				}
			})
		}
	})
}

func TestPassHostHeader(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		b := newBackend(t, "b")
		te := startEdge(t, mode, nil)
		keep := svc("keep", "Host:keep.test.local", b.URL)
		drop := svc("drop", "Host:drop.test.local", b.URL)
		drop.PassHostHeader = false
		te.srv.Update(snapshot(keep, drop))
		c := te.client(false)
		if e := decodeEcho(t, mustBody(t, c, hostURL(te, "keep.test.local", "/"))); !strings.HasPrefix(e.Host, "keep.test.local") {
			t.Errorf("passHostHeader=true: backend saw Host %q", e.Host)
		}
		if e := decodeEcho(t, mustBody(t, c, hostURL(te, "drop.test.local", "/"))); e.Host != strings.TrimPrefix(b.URL, "http://") {
			t.Errorf("passHostHeader=false: backend saw Host %q, want %q", e.Host, b.URL)
		}
	})
}

func TestHostHandlersServeBeforeRoutes(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		b := newBackend(t, "route")
		te := startEdge(t, mode, func(c *Config) {
			c.HostHandlers = map[string]http.Handler{
				"admin.test.local": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Write([]byte("dashboard"))
				}),
			}
		})
		te.srv.Update(snapshot(svc("app", "HostRegexp:{any:[a-z]+}.test.local", b.URL)))
		c := te.client(false)
		if _, body := get(t, c, hostURL(te, "ADMIN.test.local", "/x")); body != "dashboard" {
			t.Errorf("admin host answered %q", body)
		}
		if e := decodeEcho(t, mustBody(t, c, hostURL(te, "other.test.local", "/"))); e.Name != "route" {
			t.Errorf("other host: %+v", e)
		}
	})
}
