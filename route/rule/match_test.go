package rule

import (
	"net/http"
	"testing"
)

func TestMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		rule   string
		method string // GET when empty
		url    string
		header []string
		want   bool
	}{
		// Host and Path case handling (Traefik TestParseTwoRules).
		{name: "two rules", rule: "Host: Foo.Bar ; Path:/FOObar", url: "http://foo.bar/FOObar", want: true},
		{name: "two rules upper host", rule: "Host: Foo.Bar ; Path:/FOObar", url: "http://FOO.BAR:8080/FOObar", want: true},
		{name: "two rules path case", rule: "Host: Foo.Bar ; Path:/FOObar", url: "http://foo.bar/foobar", want: false},
		{name: "host or first", rule: "Host:a.com,b.com", url: "http://a.com/", want: true},
		{name: "host or second", rule: "Host:a.com,b.com", url: "http://b.com/", want: true},
		{name: "host other", rule: "Host:a.com,b.com", url: "http://c.com/", want: false},
		{name: "host no suffix match", rule: "Host:a.com", url: "http://x.a.com/", want: false},
		{name: "host and host disjoint", rule: "Host:a.com;Host:b.com", url: "http://a.com/", want: false},
		{name: "trailing semicolon", rule: "Host:a.com;", url: "http://a.com/", want: true},
		{name: "trailing comma", rule: "Host:a.com,", url: "http://a.com/", want: true},

		// HostRegexp (mux templates, case-insensitive).
		{name: "hostregexp", rule: "HostRegexp:{sub:[a-z]+}.example.com", url: "http://test.example.com/", want: true},
		{name: "hostregexp upper request", rule: "HostRegexp:{sub:[a-z]+}.example.com", url: "http://TEST.Example.COM/", want: true},
		{name: "hostregexp upper template", rule: "HostRegexp:{sub:[A-Z]+}.Example.com", url: "http://test.example.com/", want: true},
		{name: "hostregexp digits", rule: "HostRegexp:{sub:[a-z]+}.example.com", url: "http://123.example.com/", want: false},
		{name: "hostregexp anchored", rule: "HostRegexp:{sub:[a-z]+}.example.com", url: "http://a.example.com.evil/", want: false},
		{name: "hostregexp default one label", rule: "HostRegexp:{sub}.example.com", url: "http://a.example.com/", want: true},
		{name: "hostregexp default not two labels", rule: "HostRegexp:{sub}.example.com", url: "http://a.b.example.com/", want: false},
		{name: "hostregexp dot literal", rule: "HostRegexp:{sub}.example.com", url: "http://a.exampleXcom/", want: false},
		{name: "hostregexp comma in quantifier", rule: "HostRegexp:{sub:[a-z]{2,3}}.example.com", url: "http://abc.example.com/", want: true},
		{name: "hostregexp quantifier bound", rule: "HostRegexp:{sub:[a-z]{2,3}}.example.com", url: "http://abcd.example.com/", want: false},
		{name: "hostregexp two variables", rule: "HostRegexp:{a}.{b:[0-9]+}.com", url: "http://x.12.com/", want: true},
		{name: "hostregexp two variables miss", rule: "HostRegexp:{a}.{b:[0-9]+}.com", url: "http://x.ab.com/", want: false},
		{name: "hostregexp no variable", rule: "HostRegexp:Example.com", url: "http://example.com/", want: true},
		{name: "hostregexp no variable miss", rule: "HostRegexp:Example.com", url: "http://www.example.com/", want: false},
		{name: "hostregexp literal prefix", rule: "HostRegexp:api.{r:[a-z]+}.example.com", url: "http://api.eu.example.com/", want: true},
		{name: "hostregexp literal prefix miss", rule: "HostRegexp:api.{r:[a-z]+}.example.com", url: "http://www.eu.example.com/", want: false},
		{name: "hostregexp host too short", rule: "HostRegexp:{a}.example.com", url: "http://example.com/", want: false},
		{name: "hostregexp unicode fold", rule: "HostRegexp:{n:[0-9]+}.ss.com", url: "http://1.\u017fs.com/", want: true},
		{name: "hostregexp or", rule: "HostRegexp:{a}.x.com,{b}.y.com", url: "http://q.y.com/", want: true},

		// Path.
		{name: "path exact", rule: "Path:/a,/b", url: "http://h/b", want: true},
		{name: "path trailing slash", rule: "Path:/a,/b", url: "http://h/b/", want: false},
		{name: "path not prefix", rule: "Path:/a", url: "http://h/a/b", want: false},
		{name: "path template", rule: "Path:/user/{id:[0-9]+}", url: "http://h/user/12", want: true},
		{name: "path template anchored", rule: "Path:/user/{id:[0-9]+}", url: "http://h/user/12/x", want: false},
		{name: "path template pattern", rule: "Path:/user/{id:[0-9]+}", url: "http://h/user/ab", want: false},
		{name: "path template default", rule: "Path:/user/{id}", url: "http://h/user/ab", want: true},
		{name: "path template default segment", rule: "Path:/user/{id}", url: "http://h/user/a/b", want: false},
		{name: "path decoded", rule: "Path:/a b", url: "http://h/a%20b", want: true},

		// PathPrefix (Traefik TestPathPrefix).
		{name: "prefix raw string", rule: "PathPrefix:/api", url: "http://h/apis", want: true},
		{name: "prefix below", rule: "PathPrefix:/api", url: "http://h/api/v1", want: true},
		{name: "prefix shorter path", rule: "PathPrefix:/api", url: "http://h/ap", want: false},
		{name: "prefix trailing slash", rule: "PathPrefix:/bar/", url: "http://h/bar", want: false},
		{name: "prefix no leading slash", rule: "PathPrefix:bar", url: "http://h/bar", want: false},
		{name: "prefix or", rule: "PathPrefix:/foo,/bar", url: "http://h/bar/x", want: true},
		{name: "prefix template", rule: "PathPrefix:/api/{v:v[0-9]+}", url: "http://h/api/v2/x", want: true},
		{name: "prefix template miss", rule: "PathPrefix:/api/{v:v[0-9]+}", url: "http://h/api/x", want: false},

		// Strip variants match like their base function.
		{name: "pathstrip exact", rule: "PathStrip:/a", url: "http://h/a", want: true},
		{name: "pathstrip not prefix", rule: "PathStrip:/a", url: "http://h/a/b", want: false},
		{name: "pathprefixstrip", rule: "PathPrefixStrip:/a,/b", url: "http://h/b/x", want: true},
		{name: "pathprefixstrip miss", rule: "PathPrefixStrip:/a,/b", url: "http://h/c", want: false},
		{name: "pathstripregex", rule: "PathStripRegex:/a/{id:[0-9]+}", url: "http://h/a/1", want: true},
		{name: "pathstripregex exact", rule: "PathStripRegex:/a/{id:[0-9]+}", url: "http://h/a/1/x", want: false},
		{name: "pathprefixstripregex", rule: "PathPrefixStripRegex:/a/{id:[0-9]+}", url: "http://h/a/1/x", want: true},

		// Method.
		{name: "method or", rule: "Method:GET,post", method: "POST", url: "http://h/", want: true},
		{name: "method miss", rule: "Method:GET,POST", method: "PUT", url: "http://h/", want: false},

		// Headers: pairs are ANDed.
		{name: "headers all", rule: "Headers:X-A,1,X-B,2", url: "http://h/", header: []string{"X-A", "1", "X-B", "2"}, want: true},
		{name: "headers one missing", rule: "Headers:X-A,1,X-B,2", url: "http://h/", header: []string{"X-A", "1"}, want: false},
		{name: "headers value differs", rule: "Headers:X-A,1", url: "http://h/", header: []string{"X-A", "2"}, want: false},
		{name: "headers key case", rule: "Headers:x-a,1", url: "http://h/", header: []string{"X-A", "1"}, want: true},
		{name: "headers any value", rule: "Headers:X-A,1", url: "http://h/", header: []string{"X-A", "0", "X-A", "1"}, want: true},
		{name: "headers value case", rule: "Headers:X-A,abc", url: "http://h/", header: []string{"X-A", "ABC"}, want: false},
		{name: "headersregexp", rule: "HeadersRegexp:User-Agent,^curl/", url: "http://h/", header: []string{"User-Agent", "curl/8.0"}, want: true},
		{name: "headersregexp unanchored", rule: "HeadersRegexp:User-Agent,curl", url: "http://h/", header: []string{"User-Agent", "my curl"}, want: true},
		{name: "headersregexp miss", rule: "HeadersRegexp:User-Agent,^curl/", url: "http://h/", header: []string{"User-Agent", "wget"}, want: false},
		{name: "headersregexp missing", rule: "HeadersRegexp:User-Agent,.*", url: "http://h/", want: false},
		{name: "headersregexp and", rule: "HeadersRegexp:X-A,^a,X-B,^b", url: "http://h/", header: []string{"X-A", "a1"}, want: false},

		// Query: pairs are ANDed, the first value of a key counts.
		{name: "query all", rule: "Query:a=1,b=2", url: "http://h/?b=2&a=1", want: true},
		{name: "query one missing", rule: "Query:a=1,b=2", url: "http://h/?a=1", want: false},
		{name: "query first value", rule: "Query:a=1", url: "http://h/?a=2&a=1", want: false},
		{name: "query escaped value", rule: "Query:a=1", url: "http://h/?a=%31", want: true},
		{name: "query escaped key", rule: "Query:a b=1", url: "http://h/?a+b=1", want: true},
		{name: "query plus is space", rule: "Query:q=hello world", url: "http://h/?q=hello+world", want: true},
		{name: "query prefix key", rule: "Query:a=1", url: "http://h/?aa=1", want: false},
		{name: "query longer value", rule: "Query:a=1", url: "http://h/?a=12", want: false},
		{name: "query bad escape skipped", rule: "Query:a=1", url: "http://h/?a=%zz&a=1", want: true},
		{name: "query semicolon skipped", rule: "Query:a=1", url: "http://h/?a=1;b=2", want: false},
		{name: "query presence", rule: "Query:a=", url: "http://h/?a", want: true},
		{name: "query presence empty", rule: "Query:a=", url: "http://h/?a=", want: true},
		{name: "query presence missing", rule: "Query:a=", url: "http://h/?b=1", want: false},
		{name: "query template", rule: "Query:id={id:[0-9]+}", url: "http://h/?id=12", want: true},
		{name: "query template anchored", rule: "Query:id={id:[0-9]+}", url: "http://h/?id=12x", want: false},
		{name: "query template escaped", rule: "Query:q={q:a b}", url: "http://h/?q=a%20b", want: true},
		{name: "query value with equals", rule: "Query:t=YQ==", url: "http://h/?t=YQ%3D%3D", want: true},

		// Combinations and modifier-only rules.
		{name: "and all", rule: "Host:a.com;Method:GET,HEAD;Query:debug=1", url: "http://a.com/?debug=1", want: true},
		{name: "and one fails", rule: "Host:a.com;Method:GET,HEAD;Query:debug=1", method: "POST", url: "http://a.com/?debug=1", want: false},
		{name: "modifier only", rule: "AddPrefix:/x", url: "http://any/thing", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			req, host := newRequest(method, tt.url, tt.header...)
			r := mustParse(t, tt.rule)
			if got := r.Match(req, host); got != tt.want {
				t.Errorf("Parse(%q).Match(%s %s) = %v, want %v", tt.rule, method, tt.url, got, tt.want)
			}
		})
	}
}

func TestMatchNilHeader(t *testing.T) {
	t.Parallel()
	req, host := newRequest(http.MethodGet, "http://h/")
	req.Header = nil
	for _, expr := range []string{"Headers:X-A,1", "HeadersRegexp:X-A,."} {
		if mustParse(t, expr).Match(req, host) {
			t.Errorf("Parse(%q).Match(no headers) = true, want false", expr)
		}
	}
}
