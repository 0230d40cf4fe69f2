package labels

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/rancher-edge/edge/route"
)

// TestNginxTable: every row is named once, refused rows say what to do
// instead, the snippets name the CVE class, rows that set labels set ones
// the edge implements, and docs/kubernetes.md carries the generated table.
func TestNginxTable(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range NginxAnnotations {
		if seen[a.Name] || strings.Contains(a.Name, "/") {
			t.Errorf("%s: listed twice or not a bare name", a.Name)
		}
		seen[a.Name] = true
		switch a.Support {
		case Supported, Differently, Partly, Refused:
		default:
			t.Errorf("%s: support %q", a.Name, a.Support)
		}
		if (a.Support == Refused || a.Support == Differently || a.warn) && a.Note == "" {
			t.Errorf("%s: %s without a note", a.Name, a.Support)
		}
		if a.failClosed && a.Support != Refused {
			t.Errorf("%s: fails closed but is not refused", a.Name)
		}
		if a.set != nil {
			out := map[string]string{}
			_ = a.set("1", out)
			for l := range out {
				if !isSupported(l) {
					t.Errorf("%s sets %s, which the edge does not implement", a.Name, l)
				}
			}
		}
	}
	for _, s := range []string{"configuration-snippet", "server-snippet", "auth-snippet"} {
		if a, ok := NginxLookup(NginxPrefix + s); !ok || a.Support != Refused || !strings.Contains(a.Note, "CVE-2025-1974") {
			t.Errorf("%s is not refused naming CVE-2025-1974: %+v", s, a)
		}
	}
	const docsPath = "../../docs/kubernetes.md"
	doc, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		// The table runs from its header to the first blank line.
		text := string(doc)
		start := strings.Index(text, "| annotation (`"+NginxPrefix+"`)")
		end := strings.Index(text[max(start, 0):], "\n\n")
		if start < 0 || end < 0 {
			t.Fatalf("%s has no ingress-nginx annotation table to rewrite", docsPath)
		}
		doc = []byte(text[:start] + NginxMarkdown() + text[start+end+1:])
		if err := os.WriteFile(docsPath, doc, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(string(doc), NginxMarkdown()) {
		t.Errorf("docs/kubernetes.md is out of step with the ingress-nginx annotation table: run go test ./discovery/labels -run TestNginxTable -update")
	}
}

// TestReadAnnotations: values are converted into the labels they mean,
// the provider's own are passed on, and every refused, unknown or bad one
// is a problem.
func TestReadAnnotations(t *testing.T) {
	n := func(k string) string { return NginxPrefix + k }
	a := ReadAnnotations(map[string]string{
		n("proxy-body-size"):                           "8m",
		n("proxy-read-timeout"):                        "120",
		n("affinity"):                                  "cookie",
		n("session-cookie-samesite"):                   "Strict",
		n("whitelist-source-range"):                    "10.0.0.0/24,172.10.0.1",
		n("x-forwarded-prefix"):                        "/app",
		n("limit-rps"):                                 "10",
		n("limit-connections"):                         "3",
		n("rewrite-target"):                            "/$2",
		n("auth-url"):                                  "http://oauth2-proxy.auth.svc/oauth2/auth",
		n("configuration-snippet"):                     `more_set_headers "X: y";`,
		n("server-alias"):                              "b.example.com",
		n("ssl-passthrough"):                           "true",
		n("no-such-annotation"):                        "x",
		n("load-balance"):                              "random",
		n("session-cookie-path"):                       "/app",
		"ingress.kubernetes.io/custom-request-headers": "X-A:1",
	})
	want := map[string]string{
		lBufferingMaxRequest:   "8388608",
		lResponseHeaderTimeout: "120s",
		lStickiness:            "true",
		lStickinessCookie:      "INGRESSCOOKIE",
		lStickinessSameSite:    "strict",
		lWhiteListSourceRange:  "10.0.0.0/24,172.10.0.1",
		lCustomRequestHeaders:  "X-A:1||X-Forwarded-Prefix:/app",
		"traefik.frontend.rateLimit.rateSet.rps.period":  "1s",
		"traefik.frontend.rateLimit.rateSet.rps.average": "10",
		"traefik.frontend.rateLimit.rateSet.rps.burst":   "50",
		lRateLimitExtractor:                              "client.ip",
		lMaxConnAmount:                                   "3",
		lMaxConnExtractor:                                "client.ip",
		lAuthForwardAddress:                              "http://oauth2-proxy.auth.svc/oauth2/auth",
	}
	for k, v := range want {
		if a.Labels[k] != v {
			t.Errorf("%s = %q, want %q", k, a.Labels[k], v)
		}
	}
	if a.Provider[n("rewrite-target")] != "/$2" {
		t.Errorf("provider annotations %v", a.Provider)
	}
	var got []string
	for _, p := range a.Problems {
		got = append(got, strings.TrimPrefix(p.Annotation, NginxPrefix))
		if p.Skip {
			t.Errorf("%s skips the Ingress", p.Annotation)
		}
		if p.Annotation == n("configuration-snippet") && !strings.Contains(p.Message, "CVE-2025-1974") {
			t.Errorf("snippet problem %q", p.Message)
		}
	}
	if w := []string{"configuration-snippet", "load-balance", "no-such-annotation", "ssl-passthrough"}; !slices.Equal(got, w) {
		t.Errorf("problems on %v, want %v", got, w)
	}
	if a := ReadAnnotations(map[string]string{n("auth-tls-secret"): "ns/ca"}); len(a.Problems) != 1 || !a.Problems[0].Skip {
		t.Errorf("auth-tls-secret does not fail closed: %+v", a.Problems)
	}
	if a := ReadAnnotations(map[string]string{n("denylist-source-range"): "10.0.0.0/8,nonsense"}); len(a.Problems) != 1 || !a.Problems[0].Skip {
		t.Errorf("a bad deny list does not fail closed: %+v", a.Problems)
	}
}

// TestAllowRanges: a deny list becomes the allow list of every other
// address, within the allow list when there is one.
func TestAllowRanges(t *testing.T) {
	got, bad := allowRanges([]string{"10.0.0.0/30"}, []string{"10.0.0.1"})
	if bad != "" || strings.Join(got, ",") != "10.0.0.0/32,10.0.0.2/31" {
		t.Errorf("allow less deny: %v %q", got, bad)
	}
	got, _ = allowRanges(nil, []string{"128.0.0.0/1", "::/1"})
	if strings.Join(got, ",") != "0.0.0.0/1,8000::/1" {
		t.Errorf("deny only: %v", got)
	}
	got, _ = allowRanges([]string{"10.0.0.0/8"}, []string{"0.0.0.0/0"})
	if strings.Join(got, ",") != "0.0.0.0/32" {
		t.Errorf("all denied: %v", got)
	}
	if _, bad := allowRanges(nil, []string{"x"}); bad != "x" {
		t.Errorf("bad entry %q", bad)
	}
}

// TestNginxCORS: enable-cors with ingress-nginx's defaults and overrides;
// a bad origin is left out with a problem.
func TestNginxCORS(t *testing.T) {
	n := func(k string) string { return NginxPrefix + k }
	a := ReadAnnotations(map[string]string{n("enable-cors"): "true"})
	if c := a.CORS; c == nil || c.AllowOrigins[0] != "*" || c.AllowMethods != corsMethods || !c.AllowCredentials || c.MaxAge != 1728000 {
		t.Errorf("defaults %+v", a.CORS)
	}
	a = ReadAnnotations(map[string]string{n("enable-cors"): "true",
		n("cors-allow-origin"):      "https://origin-site.com:4443, http://origin-site.com, https://*.foo.bar, ftp://x",
		n("cors-allow-credentials"): "false", n("cors-max-age"): "600", n("cors-expose-headers"): "*, X-CustomResponseHeader"})
	c := a.CORS
	if c == nil || strings.Join(c.AllowOrigins, " ") != "https://origin-site.com:4443 http://origin-site.com https://*.foo.bar" ||
		c.AllowCredentials || c.MaxAge != 600 || c.ExposeHeaders != "*, X-CustomResponseHeader" {
		t.Errorf("overrides %+v", c)
	}
	if len(a.Problems) != 1 || !strings.Contains(a.Problems[0].Message, "ftp://x") {
		t.Errorf("problems %+v", a.Problems)
	}
	if a := ReadAnnotations(map[string]string{n("cors-allow-origin"): "*"}); a.CORS != nil {
		t.Errorf("CORS without enable-cors")
	}
}

// FuzzReadAnnotations reads arbitrary ingress-nginx annotations
// ("name=value" lines, the prefix added): it never panics, the labels it
// sets build (or are problems), an access list never comes out empty or
// wider than asked, and CORS origins are ones the middleware accepts.
func FuzzReadAnnotations(f *testing.F) {
	for _, seed := range []string{
		"proxy-body-size=8m\nproxy-read-timeout=120\naffinity=cookie",
		"whitelist-source-range=10.0.0.0/24,172.10.0.1\ndenylist-source-range=10.0.0.7",
		"denylist-source-range=::/1,128.0.0.0/1,nonsense",
		"limit-rps=10\nlimit-burst-multiplier=x\nlimit-connections=-1",
		"enable-cors=true\ncors-allow-origin=https://*.a.b, http://x:1,*\ncors-max-age=x",
		"x-forwarded-prefix=/a||b\nconfiguration-snippet=return 200;",
		"proxy-body-size=9223372036854775807g\nload-balance=ewma",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		ann := map[string]string{}
		for _, line := range strings.Split(text, "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				ann[NginxPrefix+k] = v
			}
		}
		a := ReadAnnotations(ann)
		lbls := map[string]string{lPort: "80"}
		for k, v := range a.Labels {
			lbls[k] = v
		}
		_, _ = Build(Input{Service: "f", Labels: lbls, Servers: []Address{{Addr: "10.0.0.1"}}}, Options{Provider: "kubernetes", ExposedByDefault: true})
		if r, ok := a.Labels[lWhiteListSourceRange]; ok && strings.TrimSpace(r) == "" {
			t.Errorf("empty allow list from %q", text)
		}
		if a.CORS != nil {
			for _, o := range a.CORS.AllowOrigins {
				if err := route.CheckCORSOrigin(o); err != nil {
					t.Errorf("CORS origin %q passed: %v", o, err)
				}
			}
		}
		for _, p := range a.Problems {
			if p.Message == "" || p.Annotation == "" {
				t.Errorf("problem %+v", p)
			}
		}
	})
}
