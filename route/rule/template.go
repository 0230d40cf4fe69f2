package rule

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// templateKind selects how a gorilla/mux template is anchored and what a
// bare {name} stands for, mirroring mux's newRouteRegexp.
type templateKind int

const (
	hostTemplate   templateKind = iota // "[^.]+", anchored both ends, case-insensitive
	pathTemplate                       // "[^/]+", anchored both ends
	prefixTemplate                     // "[^/]+", anchored at the start only
	queryTemplate                      // ".*", anchored both ends, applied to the value
)

var errUnbalanced = errors.New("unbalanced braces")

// hasTemplate reports whether s uses mux's {name[:regexp]} syntax. Traefik
// chose between its literal matchers and mux on the same test.
func hasTemplate(s string) bool {
	return strings.IndexByte(s, '{') >= 0
}

// catchAllHead reports whether tpl is a literal followed by one variable
// whose pattern is ".*" ("/api/{rest:.*}"), and returns the literal. A
// template whose regexp would not compile (invalid UTF-8, a stray brace)
// is not one: it stays an error.
func catchAllHead(tpl string) (string, bool) {
	i := strings.IndexByte(tpl, '{')
	if i < 0 || !strings.HasSuffix(tpl, ":.*}") || !utf8.ValidString(tpl) ||
		strings.IndexByte(tpl[:i], '}') >= 0 || strings.IndexByte(tpl[i+1:], '{') >= 0 {
		return "", false
	}
	name := tpl[i+1 : len(tpl)-len(":.*}")]
	if name == "" || strings.ContainsAny(name, ":}") {
		return "", false
	}
	return tpl[:i], true
}

// braceIndices returns the start and end (exclusive) of every top-level
// {...} in s, as mux does, so nested quantifiers like {2,3} stay inside
// their variable.
func braceIndices(s string) ([]int, error) {
	var level, start int
	var idxs []int
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			level++
			if level == 1 {
				start = i
			}
		case '}':
			level--
			if level == 0 {
				idxs = append(idxs, start, i+1)
			} else if level < 0 {
				return nil, errUnbalanced
			}
		}
	}
	if level != 0 {
		return nil, errUnbalanced
	}
	return idxs, nil
}

// compileTemplate converts a mux template into one Go regexp. Variables
// become non-capturing groups: the edge never reads their values, and
// fewer captures keep the regexp engine on its fast paths.
func compileTemplate(tpl string, kind templateKind) (*regexp.Regexp, error) {
	idxs, err := braceIndices(tpl)
	if err != nil {
		return nil, err
	}
	def := "[^/]+"
	switch kind {
	case hostTemplate:
		def = "[^.]+"
	case queryTemplate:
		def = ".*"
	}

	var b strings.Builder
	if kind == hostTemplate {
		// Traefik lower-cased the whole template, regexps included, and
		// matched lower-cased hosts; (?i) gives the same answers without
		// turning \D into \d.
		b.WriteString("(?i)")
	}
	b.WriteByte('^')
	end := 0
	for i := 0; i < len(idxs); i += 2 {
		b.WriteString(regexp.QuoteMeta(tpl[end:idxs[i]]))
		end = idxs[i+1]
		name, patt, ok := strings.Cut(tpl[idxs[i]+1:end-1], ":")
		if !ok {
			patt = def
		}
		if name == "" || patt == "" {
			return nil, fmt.Errorf("missing name or pattern in %q", tpl[idxs[i]:end])
		}
		// Checking the variable on its own, as mux does, stops a pattern
		// such as "a)|(b" from escaping its group and the anchors.
		if _, err := syntax.Parse(patt, syntax.Perl); err != nil {
			return nil, fmt.Errorf("variable %q: %w", name, err)
		}
		b.WriteString("(?:")
		b.WriteString(patt)
		b.WriteByte(')')
	}
	b.WriteString(regexp.QuoteMeta(tpl[end:]))
	if kind != prefixTemplate {
		b.WriteByte('$')
	}
	return regexp.Compile(b.String())
}

// splitArgs splits a function's argument text on commas outside balanced
// braces and trims each argument, dropping empty ones. Traefik split on
// every comma, which broke templates such as {id:[0-9]{2,3}}; when the
// braces do not balance it falls back to Traefik's plain split so that the
// template compiler reports the real problem.
func splitArgs(s string) []string {
	if _, err := braceIndices(s); err != nil {
		return appendTrimmed(nil, strings.Split(s, ","))
	}
	var parts []string
	level, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			level++
		case '}':
			level--
		case ',':
			if level == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	parts = append(parts, s[start:])
	return appendTrimmed(nil, parts)
}

func appendTrimmed(dst, parts []string) []string {
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			dst = append(dst, p)
		}
	}
	return dst
}

// splitPiece splits one ";"-separated piece into its function name and
// arguments the way Traefik did: on ":" with empty fields dropped, then
// the remainder re-joined with ":". So "HostRegexp:{a:[a-z]+}.com" keeps
// its inner colon, and "Path::/x" means "/x".
func splitPiece(piece string) (name string, args []string) {
	fields := strings.FieldsFunc(piece, func(c rune) bool { return c == ':' })
	if len(fields) == 0 {
		return "", nil
	}
	return strings.TrimSpace(fields[0]), splitArgs(strings.Join(fields[1:], ":"))
}
