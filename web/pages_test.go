package web

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestPagesShowTheState(t *testing.T) {
	f := newFixture(t)
	f.waitFailing()
	f.serve("whoami.example.com", "/", 3)
	h := f.server().Handler()

	cases := []struct {
		path  string
		wants []string
	}{
		{"/", []string{
			"<title>Overview · edge</title>", "v1.2.3-test", "up 1d 2h",
			// 6 routes (the typo is refused), 6 of 8 backends passing
			`<span class="num">6</span><span class="label">routes</span>`,
			`<span class="num">6<small>/8</small></span>`,
			"1 failing · 5 not checked · 1 drained",
			`<span class="label">hosts without a valid certificate</span>`,
			// warnings of every kind, each linking to its detail
			`href="/discovery#provider-rancher"`, "503 Service Unavailable",
			`href="/certificates#cert-` + oldID + `"`, "expired on",
			`href="/certificates#cert-pending-failed.example.net"`,
			`href="/certificates#uncovered"`, "admin.shop.other.org",
			"is claimed by", "rateLimit.extractorFunc",
			"[::]:443",
		}},
		{"/routes", []string{
			"Host:whoami.example.com", "Host:api.example.io;PathPrefix:/v1",
			`id="route-rancher-web.whoami"`, "stack <strong>web</strong>", "service <strong>whoami</strong>",
			"balancing <strong>drr</strong>, sticky", "balancing <strong>wrr</strong>",
			`<span class="badge passing">passing</span>`, `<span class="badge failing">failing</span>`,
			`<span class="badge unchecked">not checked</span>`,
			`<span class="badge drained">drained</span>`, "http://10.42.0.12:8080", "web-whoami-2",
			"<strong>redirect</strong> to entry point https", "<strong>whitelist</strong> from 10.0.0.0/8",
			"<strong>auth</strong> basic, 1 user, user name in X-User", "<strong>headers</strong> request: X-Api-Token; HSTS 31536000s",
			"<strong>health check</strong> /health", "3 requests", "is claimed by",
		}},
		{"/certificates", []string{
			"*.example.com", `<span class="badge default"`, "TRAEFIK_SSL_CERT (/run/secrets/wildcard_crt)",
			"Example Corp CA (Example Corp)", "4f1e2d3c", "ECDSA 256 bits", "ECDSA-SHA256", wildID,
			`<span class="badge renewing">renewing</span>`, "https://acme-v02.api.letsencrypt.org/directory",
			`<span class="badge failed">failed</span>`, "could not connect to failed.example.net on port 80",
			`<span class="badge expired">expired</span>`, "expired 2d ago",
			`<span class="badge skipped">skipped</span>`, "HostRegexp rules are not eligible",
			"<meter", "10d left", "of its lifetime",
			// hosts each certificate serves
			`<code class="host">whoami.example.com</code>`, `<code class="host">api.example.io</code>`,
			// routed hosts without a valid certificate
			`id="uncovered"`, "admin.shop.other.org", "no certificate names it", "ACME order failed",
			"<code>rancher/shop.admin</code>",
		}},
		{"/discovery", []string{
			`id="provider-rancher"`, "http://rancher.internal:8080/v2-beta/projects/1a5", "mode <strong>events</strong>",
			"keys from TRAEFIK_RANCHER_ACCESSKEY", "503 Service Unavailable", "the last good routes stay in service",
			"3 stacks · 7 services · 12 containers", "14 ok · 3 failed", "in 20s",
			"rateLimit.extractorFunc", "is claimed by", `rule &#34;Hots:typo.example.com&#34;`,
			`id="provider-file"`, "/etc/edge/routes.yaml",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			rec := get(t, h, tc.path)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			body := rec.Body.String()
			mustContain(t, tc.path, body, tc.wants...)
			mustContain(t, tc.path, body, `<script src="/static/app.js" defer></script>`, `aria-current="page"`)
			// User data is escaped; nothing runs inline.
			mustNotContain(t, tc.path, body, "<script>alert", "<img src=x", "onerror=alert(2)>",
				secretHeaderValue, routeAuthHash, "PRIVATE KEY")
			if n := strings.Count(body, "<script"); n != 1 {
				t.Errorf("%d script elements, want only app.js", n)
			}
			if strings.Contains(body, " style=") || strings.Contains(body, " onclick=") {
				t.Error("inline style or handler; the CSP forbids them")
			}
		})
	}
}

func TestUserDataIsEscaped(t *testing.T) {
	f := newFixture(t)
	h := f.server().Handler()
	for _, path := range []string{"/", "/routes", "/discovery", "/certificates"} {
		body := get(t, h, path).Body.String()
		mustNotContain(t, path, body, evilService, evilMessage)
	}
	mustContain(t, "discovery", get(t, h, "/discovery").Body.String(),
		"label value &lt;img src=x onerror=alert(2)&gt; is not a number")
	mustContain(t, "routes", get(t, h, "/routes").Body.String(),
		"service <strong>evil&lt;script&gt;alert(1)&lt;/script&gt;</strong>")
}

// Every warning on the overview links to an element that exists on the
// page it points at.
func TestWarningLinksResolve(t *testing.T) {
	f := newFixture(t)
	h := f.server().Handler()
	body := get(t, h, "/").Body.String()
	links := regexp.MustCompile(`<li class="sev-\w+">\s*<a href="([^"#]+)#([^"]+)"`).FindAllStringSubmatch(body, -1)
	if len(links) < 8 {
		t.Fatalf("only %d warnings link anywhere", len(links))
	}
	pages := map[string]string{}
	for _, l := range links {
		path, id := l[1], l[2]
		if _, ok := pages[path]; !ok {
			pages[path] = get(t, h, path).Body.String()
		}
		if !strings.Contains(pages[path], `id="`+id+`"`) {
			t.Errorf("warning links to %s#%s, which has no such element", path, id)
		}
	}
}

func TestCertificateFilter(t *testing.T) {
	f := newFixture(t)
	h := f.server().Handler()
	body := get(t, h, "/certificates?state=failed").Body.String()
	if n := strings.Count(body, `<article class="card cert`); n != 1 {
		t.Errorf("%d certificate cards with state=failed, want 1", n)
	}
	mustContain(t, "failed filter", body, "failed.example.net", `href="/certificates?state=failed" aria-current="true"`)
	mustNotContain(t, "failed filter", body, `data-cert="`+wildID+`"`)

	body = get(t, h, "/certificates?state=bogus").Body.String()
	if n := strings.Count(body, `<article class="card cert`); n != 5 {
		t.Errorf("%d certificate cards with an unknown filter, want all 5", n)
	}
}

// A refresh asks for the main section only, which app.js swaps in.
func TestFragment(t *testing.T) {
	f := newFixture(t)
	h := f.server().Handler()
	rec := get(t, h, "/routes", fragmentHeader, "1")
	body := rec.Body.String()
	if rec.Code != http.StatusOK || strings.Contains(body, "<html") || strings.Contains(body, "<nav>") {
		t.Fatalf("fragment is a whole page (status %d)", rec.Code)
	}
	mustContain(t, "fragment", body, "Host:whoami.example.com")
	if v := rec.Header().Get("Vary"); v != fragmentHeader {
		t.Errorf("Vary %q", v)
	}
}

func TestEmptyState(t *testing.T) {
	s, err := New(Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	for _, path := range []string{"/", "/routes", "/certificates", "/discovery",
		"/api/overview", "/api/routes", "/api/certificates", "/api/discovery", "/metrics"} {
		rec := get(t, h, path)
		if rec.Code != http.StatusOK {
			t.Errorf("%s: status %d: %s", path, rec.Code, rec.Body)
		}
	}
	mustContain(t, "routes", get(t, h, "/routes").Body.String(), "No routes yet")
}

func TestStaticAssets(t *testing.T) {
	f := newFixture(t)
	h := f.server().Handler()
	for path, ct := range map[string]string{
		"/static/style.css": "text/css; charset=utf-8", "/static/app.js": "text/javascript; charset=utf-8",
	} {
		rec := get(t, h, path)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != ct {
			t.Fatalf("%s: status %d, Content-Type %q", path, rec.Code, rec.Header().Get("Content-Type"))
		}
		tag := rec.Header().Get("ETag")
		if tag == "" {
			t.Fatalf("%s: no ETag", path)
		}
		if rec := get(t, h, path, "If-None-Match", tag); rec.Code != http.StatusNotModified {
			t.Errorf("%s: revalidation got %d, want 304", path, rec.Code)
		}
	}
	if rec := get(t, h, "/static/nope.css"); rec.Code != http.StatusNotFound {
		t.Errorf("missing asset: %d", rec.Code)
	}
}

func TestHumanDuration(t *testing.T) {
	for _, tc := range []struct {
		sec  int64
		want string
	}{{0, "0s"}, {59, "59s"}, {61, "1m 1s"}, {3600, "1h"}, {3660, "1h 1m"}, {93784, "1d 2h"}, {-90, "-1m 30s"}} {
		if got := humanDuration(timeSeconds(tc.sec)); got != tc.want {
			t.Errorf("humanDuration(%ds) = %q, want %q", tc.sec, got, tc.want)
		}
	}
}

func timeSeconds(s int64) time.Duration { return time.Duration(s) * time.Second }
