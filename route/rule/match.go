package rule

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// matcher is one ";"-separated condition. Implementations hold only data
// prepared by Parse, so match never allocates for literal arguments.
type matcher interface {
	match(req *http.Request, host string) bool
}

// Cost ranks let Match test the cheapest conditions first; the result of an
// AND does not depend on the order.
const (
	costCompare = iota // string compares against precomputed values
	costLookup         // header map lookups, query string scans
	costRegexp         // regexp evaluation
)

// hostMatcher is Host: the canonical host equals one of the names.
type hostMatcher struct {
	hosts []string // lower-cased
}

func (m *hostMatcher) match(_ *http.Request, host string) bool {
	return slices.Contains(m.hosts, host)
}

// hostRegexpMatcher is HostRegexp: any template matches.
type hostRegexpMatcher struct {
	patterns []*hostPattern
}

func (m *hostRegexpMatcher) match(_ *http.Request, host string) bool {
	for _, p := range m.patterns {
		if p.match(host) {
			return true
		}
	}
	return false
}

// pathMatcher is Path (and the match half of PathStrip and PathStripRegex):
// the path equals a literal or matches a fully anchored template.
type pathMatcher struct {
	exact []string
	// rest are the literal heads of templates that end in a catch-all
	// variable and have no other, "/api/{rest:.*}": the path starts with
	// the head and has no newline after it, which is what the template's
	// ^/api/(?:.*)$ matches, without a regexp. The Kubernetes provider
	// writes every Prefix path of an Ingress this way.
	rest []string
	res  []*regexp.Regexp
}

func (m *pathMatcher) match(req *http.Request, _ string) bool {
	p := req.URL.Path
	if slices.Contains(m.exact, p) {
		return true
	}
	for _, head := range m.rest {
		if strings.HasPrefix(p, head) && strings.IndexByte(p[len(head):], '\n') < 0 {
			return true
		}
	}
	return anyMatch(m.res, p)
}

// prefixMatcher is PathPrefix (and the match half of PathPrefixStrip and
// PathPrefixStripRegex). Literal prefixes are raw string prefixes, not
// segment-aware, exactly like Traefik's prefixMatcher.
type prefixMatcher struct {
	prefixes []string
	res      []*regexp.Regexp
}

func (m *prefixMatcher) match(req *http.Request, _ string) bool {
	p := req.URL.Path
	for _, pre := range m.prefixes {
		if strings.HasPrefix(p, pre) {
			return true
		}
	}
	return anyMatch(m.res, p)
}

// methodMatcher is Method: the request method is one of the listed ones.
type methodMatcher struct {
	methods []string // upper-cased, as mux did
}

func (m *methodMatcher) match(req *http.Request, _ string) bool {
	return slices.Contains(m.methods, req.Method)
}

// headersMatcher is Headers: every key is present with one value equal to
// its wanted value (mux matchMapWithString).
type headersMatcher struct {
	keys   []string // canonical, so a direct map lookup finds them
	values []string
}

func (m *headersMatcher) match(req *http.Request, _ string) bool {
	for i, k := range m.keys {
		if !slices.Contains(req.Header[k], m.values[i]) {
			return false
		}
	}
	return true
}

// headersRegexpMatcher is HeadersRegexp: every key is present with one value
// matching its regexp. Like mux, the regexps are not anchored.
type headersRegexpMatcher struct {
	keys []string
	res  []*regexp.Regexp
}

func (m *headersRegexpMatcher) match(req *http.Request, _ string) bool {
	for i, k := range m.keys {
		if !anyValueMatches(m.res[i], req.Header[k]) {
			return false
		}
	}
	return true
}

func anyValueMatches(re *regexp.Regexp, values []string) bool {
	for _, v := range values {
		if re.MatchString(v) {
			return true
		}
	}
	return false
}

func anyMatch(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// Interface guards.
var (
	_ matcher = (*hostMatcher)(nil)
	_ matcher = (*hostRegexpMatcher)(nil)
	_ matcher = (*pathMatcher)(nil)
	_ matcher = (*prefixMatcher)(nil)
	_ matcher = (*methodMatcher)(nil)
	_ matcher = (*headersMatcher)(nil)
	_ matcher = (*headersRegexpMatcher)(nil)
)
