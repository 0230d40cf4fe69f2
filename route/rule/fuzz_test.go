package rule

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that an accepted rule keeps its
// expression, and that evaluating it against a few awkward requests never
// panics either: Match and Modify slice paths by lengths from regexps.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"Host: Foo.Bar ; Path:/FOObar",
		"Path: /path1;Query:param_one=true, /path2",
		"HostRegexp:{sub:[a-z]+}.example.com",
		"PathPrefixStrip:/api,/api/v1;AddPrefix:/p;ReplacePathRegex:^/p/(.*) /q/$1",
		"PathPrefixStripRegex:/{v:v[0-9]{1,2}};PathStrip:/a;ReplacePath:/r",
		"Headers:X-A,1;HeadersRegexp:X-B,^b;Query:a=,id={id:[0-9]+};Method:get",
		"PathStripRegex:/{x:.*}",
		"Host:a;;;:",
		"{{}}:,;",
	} {
		f.Add(seed)
	}
	targets := []string{"/", "/api/v1/x?a=1", "/v1/a%2Fb", "/%E2%82%AC/x?q=%zz&a"}
	f.Fuzz(func(t *testing.T, expr string) {
		r, err := Parse(expr)
		if err != nil {
			if r != nil {
				t.Fatalf("Parse(%q) returned a rule and an error", expr)
			}
			return
		}
		if r.String() != expr || r.Len() != len(expr) {
			t.Fatalf("Parse(%q): String %q, Len %d", expr, r.String(), r.Len())
		}
		for _, h := range r.Hosts() {
			if h != strings.ToLower(h) {
				t.Fatalf("Parse(%q).Hosts() has %q, not lower-cased", expr, h)
			}
		}
		for _, target := range targets {
			req, host := newRequest(http.MethodGet, "http://a.example.com"+target, "X-A", "1")
			r.Match(req, host)
			r.Modify(req)
		}
	})
}

// FuzzHostPattern checks that the literal and bitmap shortcuts of
// hostPattern agree with the full template regexp on every host.
func FuzzHostPattern(f *testing.F) {
	for _, seed := range [][2]string{
		{"{sub:[a-z]+}.example.com", "shop.example.com"},
		{"{sub}.example.com", "a.b.example.com"},
		{"api.{r:[a-z0-9-]*}.example.com", "api..example.com"},
		{"{n:[0-9]+}.ss.com", "1.\u017fs.com"},
		{"{k:[K]+}.com", "\u212a.com"},
		{"{x:(.+)}.{y}.com", "a.b.com"},
		{"{x:\\w+}.com", "a_b.com"},
		{"Example.com", "example.com"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, tpl, host string) {
		p, err := newHostPattern(tpl)
		if err != nil {
			return
		}
		host = strings.ToLower(host)
		if got, want := p.match(host), p.full.MatchString(host); got != want {
			t.Fatalf("template %q, host %q: match = %v, regexp says %v", tpl, host, got, want)
		}
	})
}

// FuzzPathCatchAll checks that a Path template read as a literal head and
// a catch-all variable matches exactly the paths its regexp matches.
func FuzzPathCatchAll(f *testing.F) {
	for _, seed := range [][2]string{
		{"/api/{rest:.*}", "/api/users/42"},
		{"/api/{rest:.*}", "/api"},
		{"/api/{rest:.*}", "/api/"},
		{"/api/{rest:.*}", "/api/a\nb"},
		{"/api/{rest:.*}", "/apix"},
		{"/a.b/{r:.*}", "/aXb/c"},
		{"/{r:.*}", "\n"},
		{"/x/{a:b:.*}", "/x/b:y"},
		{"/x/{a:.*}/y", "/x/z/y"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, tpl, path string) {
		if _, ok := catchAllHead(tpl); !ok {
			return
		}
		m, err := newPathMatcher("Path", []string{tpl})
		if err != nil {
			t.Fatalf("template %q: %v", tpl, err)
		}
		re, err := compileTemplate(tpl, pathTemplate)
		if err != nil {
			t.Fatalf("template %q read as a catch-all, but its regexp does not compile: %v", tpl, err)
		}
		req := &http.Request{URL: &url.URL{Path: path}}
		if got, want := m.match(req, ""), re.MatchString(path); got != want {
			t.Fatalf("template %q, path %q: match = %v, regexp says %v", tpl, path, got, want)
		}
	})
}
