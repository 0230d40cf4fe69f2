package rule

import (
	"net/http"
	"testing"
)

// TestMatchLiteralAllocs guards the promise that literal matchers cost no
// allocations per request, hits and misses alike.
func TestMatchLiteralAllocs(t *testing.T) {
	tests := []struct {
		name string
		rule string
		url  string
		want bool
	}{
		{name: "all hit", want: true,
			rule: "Host:a.com,Example.com;Path:/x,/api/users;PathPrefix:/api;Method:GET,POST;Headers:X-A,1;Query:debug=1",
			url:  "http://example.com/api/users?x=2&debug=%31"},
		{name: "host miss", rule: "Host:a.com;PathPrefix:/api", url: "http://b.com/api"},
		{name: "path miss", rule: "Host:a.com;Path:/api", url: "http://a.com/apis"},
		{name: "query miss", rule: "Query:a=1,b=2", url: "http://h/?a=1&b=3"},
		{name: "query presence", rule: "Query:a=", url: "http://h/?b=1&a", want: true},
		{name: "headers miss", rule: "Headers:X-A,1,X-B,2", url: "http://h/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, host := newRequest(http.MethodGet, tt.url, "X-A", "1")
			r := mustParse(t, tt.rule)
			if got := r.Match(req, host); got != tt.want {
				t.Fatalf("Match = %v, want %v", got, tt.want)
			}
			if n := testing.AllocsPerRun(100, func() { r.Match(req, host) }); n != 0 {
				t.Errorf("Parse(%q).Match allocates %v times per run, want 0", tt.rule, n)
			}
		})
	}
}

func benchmarkMatch(b *testing.B, expr, target string) {
	req, host := newRequest(http.MethodGet, target)
	r := mustParse(b, expr)
	if !r.Match(req, host) {
		b.Fatalf("Parse(%q) does not match %s", expr, target)
	}
	b.ReportAllocs()
	for b.Loop() {
		r.Match(req, host)
	}
}

func BenchmarkMatchHostPathPrefix(b *testing.B) {
	benchmarkMatch(b, "Host:example.com;PathPrefix:/api", "http://example.com/api/users/42")
}

// BenchmarkMatchIngressPrefix is the rule the Kubernetes provider writes
// for an Ingress path of type Prefix.
func BenchmarkMatchIngressPrefix(b *testing.B) {
	benchmarkMatch(b, "Host:app.example.com;Path:/api,/api/{rest:.*}", "http://app.example.com/api/users/42")
}

func BenchmarkParseIngressPrefix(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("Host:app.example.com;Path:/api,/api/{rest:.*}"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMatchHostRegexp(b *testing.B) {
	benchmarkMatch(b, "HostRegexp:{sub:[a-z]+}.example.com", "http://shop.example.com/")
}

func BenchmarkMatchQuery(b *testing.B) {
	benchmarkMatch(b, "Host:example.com;Method:GET,HEAD;Query:debug=1", "http://example.com/?page=2&debug=1")
}

func BenchmarkModifyPathPrefixStrip(b *testing.B) {
	r := mustParse(b, "PathPrefixStrip:/api,/api/v1")
	req, _ := newRequest(http.MethodGet, "http://example.com/api/v1/users")
	url := *req.URL
	b.ReportAllocs()
	for b.Loop() {
		// Restore what Modify changed, as a fresh request would have.
		*req.URL = url
		req.Header = http.Header{}
		r.Modify(req)
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("Host:a.com,b.com;PathPrefixStrip:/api,/api/v1;Method:GET,POST"); err != nil {
			b.Fatal(err)
		}
	}
}
