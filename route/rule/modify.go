package rule

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// Header names Traefik 1.7 set when rewriting paths; backends rely on them
// to rebuild their public URLs.
const (
	forwardedPrefixHeader = "X-Forwarded-Prefix"
	replacedPathHeader    = "X-Replaced-Path"
)

// modifiers holds the path rewrites of one rule. Each field keeps only the
// winner among repeated functions, because Traefik wrote them into single
// fields of its route while parsing.
type modifiers struct {
	// stripRegex are prefix-anchored templates from PathStripRegex or
	// PathPrefixStripRegex, longest template first.
	stripRegex []*regexp.Regexp

	// strip are literal prefixes from PathStrip or PathPrefixStrip,
	// longest first so that /api/v1 wins over /api.
	strip []string

	addPrefix    string
	hasAddPrefix bool

	replaceRegex *regexp.Regexp
	replacement  string

	replacePath    string
	hasReplacePath bool
}

func (m *modifiers) any() bool {
	return len(m.stripRegex) > 0 || len(m.strip) > 0 || m.hasAddPrefix ||
		m.replaceRegex != nil || m.hasReplacePath
}

// apply runs the modifiers in the order Traefik 1.7's buildMatcherMiddlewares
// nested them, which differs from its documentation.
func (m *modifiers) apply(req *http.Request) bool {
	u := req.URL
	if len(m.stripRegex) > 0 && !m.stripByRegexp(req) {
		return false
	}
	if len(m.strip) > 0 && !m.stripLiteral(req) {
		return false
	}
	if m.hasAddPrefix {
		raw := ""
		if u.RawPath != "" {
			raw = (&url.URL{Path: m.addPrefix}).EscapedPath() + u.RawPath
		}
		setPath(u, m.addPrefix+u.Path, raw)
	}
	if m.replaceRegex != nil && m.replaceRegex.MatchString(u.Path) {
		addHeader(req, replacedPathHeader, u.Path)
		setPath(u, m.replaceRegex.ReplaceAllString(u.Path, m.replacement), "")
	}
	if m.hasReplacePath {
		addHeader(req, replacedPathHeader, u.Path)
		setPath(u, m.replacePath, "")
	}
	if req.RequestURI != "" {
		// Traefik kept RequestURI in step; access logs and backends that
		// read it must see the rewritten path too.
		req.RequestURI = u.RequestURI()
	}
	return true
}

// stripByRegexp removes what the first matching template matched, like
// Traefik's StripPrefixRegex, and answers 404 when none matches.
func (m *modifiers) stripByRegexp(req *http.Request) bool {
	u := req.URL
	for _, re := range m.stripRegex {
		loc := re.FindStringIndex(u.Path)
		if loc == nil {
			continue
		}
		prefix := u.Path[:loc[1]]
		stripPrefix(u, len(prefix))
		addHeader(req, forwardedPrefixHeader, prefix)
		return true
	}
	return false
}

// stripLiteral removes the longest listed prefix, like Traefik's
// StripPrefix, and answers 404 when none is a prefix of the path. That can
// happen although the rule matched: an earlier regexp strip may have
// changed the path, or PathStrip was given a template.
func (m *modifiers) stripLiteral(req *http.Request) bool {
	u := req.URL
	for _, prefix := range m.strip {
		if strings.HasPrefix(u.Path, prefix) {
			stripPrefix(u, len(prefix))
			addHeader(req, forwardedPrefixHeader, prefix)
			return true
		}
	}
	return false
}

// stripPrefix drops the first n bytes of the decoded path, and the escaped
// bytes that encode them from RawPath, guaranteeing a leading slash.
func stripPrefix(u *url.URL, n int) {
	raw := ""
	if u.RawPath != "" {
		if i, ok := rawIndex(u.RawPath, n); ok {
			raw = ensureLeadingSlash(u.RawPath[i:])
		}
	}
	setPath(u, ensureLeadingSlash(u.Path[n:]), raw)
}

// rawIndex returns the index in the escaped path raw at which n decoded
// bytes have been consumed. Traefik cut RawPath by the decoded length,
// which corrupts it whenever the prefix contains an escape.
func rawIndex(raw string, n int) (int, bool) {
	i := 0
	for ; n > 0 && i < len(raw); n-- {
		if raw[i] == '%' && i+2 < len(raw) && isHex(raw[i+1]) && isHex(raw[i+2]) {
			i += 3
		} else {
			i++
		}
	}
	return i, n == 0
}

// setPath sets the decoded path and keeps raw as RawPath only when it still
// encodes that path; otherwise RawPath is cleared and URL.EscapedPath
// derives the escaping from Path again.
func setPath(u *url.URL, path, raw string) {
	u.Path = path
	u.RawPath = ""
	if raw == "" || raw == path {
		return
	}
	if p, err := url.PathUnescape(raw); err == nil && p == path {
		u.RawPath = raw
	}
}

func ensureLeadingSlash(p string) string {
	if strings.HasPrefix(p, "/") {
		return p
	}
	return "/" + p
}

// addHeader appends rather than sets, as Traefik did: a rule that strips
// twice, or replaces twice, forwards both values.
func addHeader(req *http.Request, key, value string) {
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	req.Header[key] = append(req.Header[key], value)
}
