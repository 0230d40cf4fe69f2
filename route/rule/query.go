package rule

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// queryMatcher is Query: for every pair, the first value of the key (mux
// findFirstQueryKey) must satisfy the pair. It scans URL.RawQuery in place
// rather than calling URL.Query, which would build a map per request.
type queryMatcher struct {
	pairs []queryPair
}

// queryPair is one k=v argument. With an empty value any value (even an
// empty one) will do, as mux appends ".*" to such a template.
type queryPair struct {
	key      string
	value    string         // literal value, compared after unescaping
	re       *regexp.Regexp // set for a {name:regexp} value template
	anyValue bool           // "k=": only the key must be present
}

func (m *queryMatcher) match(req *http.Request, _ string) bool {
	for i := range m.pairs {
		if !m.pairs[i].match(req.URL.RawQuery) {
			return false
		}
	}
	return true
}

func (p *queryPair) match(rawQuery string) bool {
	v, ok := firstQueryValue(rawQuery, p.key)
	switch {
	case !ok:
		return false
	case p.anyValue:
		return true
	case p.re != nil:
		if hasEscapes(v) {
			// Validity was checked by firstQueryValue; only escaped
			// values pay for the copy.
			v, _ = url.QueryUnescape(v)
		}
		return p.re.MatchString(v)
	case len(v) == len(p.value) && !hasEscapes(v):
		return v == p.value
	default:
		eq, _ := unescapedEqual(v, p.value)
		return eq
	}
}

// firstQueryValue returns the still-escaped value of the first well-formed
// "key=value" segment whose unescaped key is key. Like url.ParseQuery it
// splits on "&" only and skips segments that contain ";" or bad escapes.
// Checks are ordered cheapest first, since most segments are not the key.
func firstQueryValue(rawQuery, key string) (string, bool) {
	for rawQuery != "" {
		var seg string
		seg, rawQuery, _ = strings.Cut(rawQuery, "&")
		if len(seg) < len(key) {
			// An escaped key is never shorter than its unescaped form.
			continue
		}
		k, v, _ := strings.Cut(seg, "=")
		if k != key || strings.IndexByte(k, '+') >= 0 {
			if !hasEscapes(k) {
				continue
			}
			if equal, valid := unescapedEqual(k, key); !equal || !valid {
				continue
			}
		}
		if strings.IndexByte(seg, ';') >= 0 {
			continue
		}
		if strings.IndexByte(v, '%') >= 0 {
			if _, valid := unescapedEqual(v, ""); !valid {
				continue
			}
		}
		return v, true
	}
	return "", false
}

// unescapedEqual reports whether the query-unescaped form of esc equals
// want, and whether esc is validly escaped at all, without building the
// unescaped string.
func unescapedEqual(esc, want string) (equal, valid bool) {
	j := 0
	equal = true
	for i := 0; i < len(esc); i++ {
		c := esc[i]
		switch c {
		case '+':
			c = ' '
		case '%':
			if i+2 >= len(esc) || !isHex(esc[i+1]) || !isHex(esc[i+2]) {
				return false, false
			}
			c = unhex(esc[i+1])<<4 | unhex(esc[i+2])
			i += 2
		}
		if equal {
			if j < len(want) && want[j] == c {
				j++
			} else {
				equal = false
			}
		}
	}
	return equal && j == len(want), true
}

// hasEscapes is strings.ContainsAny(s, "%+") without building a set per call.
func hasEscapes(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' || s[i] == '+' {
			return true
		}
	}
	return false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

var _ matcher = (*queryMatcher)(nil)
