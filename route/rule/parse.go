package rule

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// ErrSyntax is wrapped by every error [Parse] returns, so callers can tell
// a bad rule from other failures with errors.Is.
var ErrSyntax = errors.New("invalid frontend rule")

// Parse parses a Traefik 1.x frontend rule. Errors name the function and
// argument at fault and wrap [ErrSyntax] (and the regexp error, if any).
func Parse(expr string) (*Rule, error) {
	b := builder{}
	pieces := 0
	for piece := range strings.FieldsFuncSeq(expr, func(c rune) bool { return c == ';' }) {
		if strings.TrimSpace(piece) == "" {
			// Traefik rejected "Host:a; " as an unknown function " ";
			// ignoring it like a trailing ";" is kinder and breaks no rule
			// that worked.
			continue
		}
		pieces++
		name, args := splitPiece(piece)
		if err := b.add(name, args); err != nil {
			return nil, fmt.Errorf("%w %q: %w", ErrSyntax, expr, err)
		}
	}
	if pieces == 0 {
		return nil, fmt.Errorf("%w %q: empty rule", ErrSyntax, expr)
	}
	return b.rule(expr), nil
}

// builder collects the matchers and modifiers of one rule while parsing.
type builder struct {
	matchers   []rankedMatcher
	hostSets   [][]string
	hostRegexp bool
	mods       modifiers
}

type rankedMatcher struct {
	m    matcher
	cost int
}

func (b *builder) match(m matcher, cost int) {
	b.matchers = append(b.matchers, rankedMatcher{m: m, cost: cost})
}

func (b *builder) rule(expr string) *Rule {
	slices.SortStableFunc(b.matchers, func(x, y rankedMatcher) int { return cmp.Compare(x.cost, y.cost) })
	r := &Rule{expr: expr, hostRegexp: b.hostRegexp, matchers: make([]matcher, 0, len(b.matchers))}
	if b.mods.any() {
		mods := b.mods
		r.mods = &mods
	}
	for _, rm := range b.matchers {
		r.matchers = append(r.matchers, rm.m)
	}
	switch len(b.hostSets) {
	case 0:
	case 1:
		// Nothing modifies either after parsing, so the Host matcher's
		// names can be shared rather than copied.
		r.hosts = b.hostSets[0]
	default:
		r.hosts = slices.Clone(b.hostSets[0])
		for _, set := range b.hostSets[1:] {
			r.hosts = slices.DeleteFunc(r.hosts, func(h string) bool { return !slices.Contains(set, h) })
		}
	}
	return r
}

// add handles one function. The names are matched with a switch rather than
// a package map so that nothing global exists to be mutated.
func (b *builder) add(name string, args []string) error {
	if !knownFunction(name) {
		return fmt.Errorf("unknown function %q", name)
	}
	if len(args) == 0 {
		return fmt.Errorf("%s: no arguments", name)
	}
	switch name {
	case "Host":
		hosts := make([]string, 0, len(args))
		for _, a := range args {
			if h := strings.ToLower(a); !slices.Contains(hosts, h) {
				hosts = append(hosts, h)
			}
		}
		b.hostSets = append(b.hostSets, hosts)
		b.match(&hostMatcher{hosts: hosts}, costCompare)
	case "HostRegexp":
		m := &hostRegexpMatcher{}
		for _, a := range args {
			p, err := newHostPattern(a)
			if err != nil {
				return fmt.Errorf("%s: argument %q: %w", name, a, err)
			}
			m.patterns = append(m.patterns, p)
		}
		b.hostRegexp = true
		b.match(m, costRegexp)
	case "Path", "PathStrip", "PathStripRegex":
		m, err := newPathMatcher(name, args)
		if err != nil {
			return err
		}
		b.match(m, costOf(len(m.res)))
	case "PathPrefix", "PathPrefixStrip", "PathPrefixStripRegex":
		m, err := newPrefixMatcher(name, args)
		if err != nil {
			return err
		}
		b.match(m, costOf(len(m.res)))
	case "Method":
		methods := make([]string, len(args))
		for i, a := range args {
			methods[i] = strings.ToUpper(a)
		}
		b.match(&methodMatcher{methods: methods}, costCompare)
	case "Headers", "HeadersRegexp":
		m, cost, err := newHeadersMatcher(name, args)
		if err != nil {
			return err
		}
		b.match(m, cost)
	case "Query":
		m, err := newQueryMatcher(name, args)
		if err != nil {
			return err
		}
		b.match(m, costLookup)
	}
	return b.addModifier(name, args)
}

func knownFunction(name string) bool {
	switch name {
	case "Host", "HostRegexp", "Path", "PathPrefix", "PathStrip", "PathPrefixStrip",
		"PathStripRegex", "PathPrefixStripRegex", "Method", "Headers", "HeadersRegexp",
		"Query", "AddPrefix", "ReplacePath", "ReplacePathRegex":
		return true
	}
	return false
}

// addModifier records the rewrite half of a function. Later functions
// overwrite earlier ones because Traefik stored each in a single field:
// PathStrip and PathPrefixStrip share StripPrefixes, the two regexp strips
// share StripPrefixesRegex, and AddPrefix, ReplacePath and ReplacePathRegex
// keep their last argument.
func (b *builder) addModifier(name string, args []string) error {
	last := args[len(args)-1]
	switch name {
	case "PathStrip", "PathPrefixStrip":
		b.mods.strip = longestFirst(args)
	case "PathStripRegex", "PathPrefixStripRegex":
		sorted := longestFirst(args)
		res, err := compileAll(name, sorted, prefixTemplate)
		if err != nil {
			return err
		}
		b.mods.stripRegex = res
	case "AddPrefix":
		b.mods.addPrefix, b.mods.hasAddPrefix = last, true
	case "ReplacePath":
		b.mods.replacePath, b.mods.hasReplacePath = last, true
	case "ReplacePathRegex":
		// Traefik split on every space and ignored the rule (with a
		// warning) unless exactly two parts remained.
		parts := strings.Split(last, " ")
		if len(parts) != 2 {
			return fmt.Errorf("%s: argument %q: want a regexp and a replacement separated by one space", name, last)
		}
		re, err := regexp.Compile(parts[0])
		if err != nil {
			return fmt.Errorf("%s: argument %q: %w", name, last, err)
		}
		b.mods.replaceRegex, b.mods.replacement = re, parts[1]
	}
	return nil
}

// longestFirst returns a copy of args sorted by length, longest first, as
// Traefik's bySize did before stripping, so /api/v1 is tried before /api.
func longestFirst(args []string) []string {
	sorted := slices.Clone(args)
	slices.SortStableFunc(sorted, func(x, y string) int { return cmp.Compare(len(y), len(x)) })
	return sorted
}

func costOf(regexps int) int {
	if regexps > 0 {
		return costRegexp
	}
	return costCompare
}

func compileAll(name string, args []string, kind templateKind) ([]*regexp.Regexp, error) {
	res := make([]*regexp.Regexp, 0, len(args))
	for _, a := range args {
		re, err := compileTemplate(a, kind)
		if err != nil {
			return nil, fmt.Errorf("%s: argument %q: %w", name, a, err)
		}
		res = append(res, re)
	}
	return res, nil
}

// newPathMatcher compiles exact paths: literal ones are compared as
// strings, templates become regexps anchored at both ends.
func newPathMatcher(name string, args []string) (*pathMatcher, error) {
	m := &pathMatcher{}
	for _, a := range args {
		if !hasTemplate(a) {
			m.exact = append(m.exact, a)
			continue
		}
		if head, ok := catchAllHead(a); ok {
			m.rest = append(m.rest, head)
			continue
		}
		re, err := compileTemplate(a, pathTemplate)
		if err != nil {
			return nil, fmt.Errorf("%s: argument %q: %w", name, a, err)
		}
		m.res = append(m.res, re)
	}
	return m, nil
}

// newPrefixMatcher splits prefixes the way Traefik's buildPath did: a
// literal prefix is a raw string prefix, one with "{" a mux template.
func newPrefixMatcher(name string, args []string) (*prefixMatcher, error) {
	m := &prefixMatcher{}
	for _, a := range args {
		if !hasTemplate(a) {
			m.prefixes = append(m.prefixes, a)
			continue
		}
		re, err := compileTemplate(a, prefixTemplate)
		if err != nil {
			return nil, fmt.Errorf("%s: argument %q: %w", name, a, err)
		}
		m.res = append(m.res, re)
	}
	// Shortest first: a shorter prefix matches at least as often.
	slices.SortStableFunc(m.prefixes, func(x, y string) int { return cmp.Compare(len(x), len(y)) })
	return m, nil
}

// newHeadersMatcher builds Headers or HeadersRegexp from key/value pairs.
// The pairs are ANDed, unlike the arguments of most functions.
func newHeadersMatcher(name string, args []string) (matcher, int, error) {
	if len(args)%2 != 0 {
		return nil, 0, fmt.Errorf("%s: odd number of arguments %q: want key,value pairs", name, args)
	}
	keys := make([]string, 0, len(args)/2)
	for i := 0; i < len(args); i += 2 {
		keys = append(keys, http.CanonicalHeaderKey(args[i]))
	}
	if name == "Headers" {
		values := make([]string, 0, len(args)/2)
		for i := 1; i < len(args); i += 2 {
			values = append(values, args[i])
		}
		return &headersMatcher{keys: keys, values: values}, costLookup, nil
	}
	res := make([]*regexp.Regexp, 0, len(args)/2)
	for i := 1; i < len(args); i += 2 {
		re, err := regexp.Compile(args[i])
		if err != nil {
			return nil, 0, fmt.Errorf("%s: argument %q: %w", name, args[i], err)
		}
		res = append(res, re)
	}
	return &headersRegexpMatcher{keys: keys, res: res}, costRegexp, nil
}

// newQueryMatcher builds Query from k=v arguments. Traefik split every
// argument on each "=" and paired the pieces up, so "a=b=c" shifted later
// pairs; splitting on the first "=" keeps values such as base64 intact.
func newQueryMatcher(name string, args []string) (*queryMatcher, error) {
	m := &queryMatcher{pairs: make([]queryPair, 0, len(args))}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok {
			return nil, fmt.Errorf("%s: argument %q: want key=value", name, a)
		}
		if k == "" {
			return nil, fmt.Errorf("%s: argument %q: empty key", name, a)
		}
		p := queryPair{key: k, value: v, anyValue: v == ""}
		if hasTemplate(v) {
			re, err := compileTemplate(v, queryTemplate)
			if err != nil {
				return nil, fmt.Errorf("%s: argument %q: %w", name, a, err)
			}
			p.re = re
		}
		m.pairs = append(m.pairs, p)
	}
	return m, nil
}
