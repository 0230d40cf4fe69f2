package rule

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
)

// newRequest builds a server-side request for target ("http://host/path?q")
// with header key/value pairs, and returns it with the canonical host the
// edge would compute for it.
func newRequest(method, target string, header ...string) (*http.Request, string) {
	req := httptest.NewRequest(method, target, nil)
	// httptest keeps an absolute target as RequestURI; a server sees the
	// origin form.
	req.RequestURI = req.URL.RequestURI()
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	host := req.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return req, strings.ToLower(host)
}

func mustParse(tb interface {
	Helper()
	Fatalf(string, ...any)
}, expr string) *Rule {
	tb.Helper()
	r, err := Parse(expr)
	if err != nil {
		tb.Fatalf("Parse(%q): %v", expr, err)
	}
	return r
}
