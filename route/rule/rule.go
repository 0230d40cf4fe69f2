package rule

import (
	"net/http"
	"slices"
)

// Rule is a parsed Traefik 1.x frontend rule. It is immutable after
// [Parse] returns and safe for concurrent use.
type Rule struct {
	expr string

	// matchers are ANDed, cheapest first.
	matchers []matcher

	// hosts is the intersection of every Host matcher's names, nil when
	// the rule has no Host matcher.
	hosts []string

	hostRegexp bool
	// mods is nil when the rule has no modifiers, as most do: the edge
	// keeps one Rule per route, and the modifiers are most of its size.
	mods *modifiers
}

// String returns the expression the rule was parsed from.
func (r *Rule) String() string {
	return r.expr
}

// Len returns the length of the raw expression, spaces and function names
// included. Traefik 1.x used it as the route priority when the frontend
// set none, so longer rules are tried first.
func (r *Rule) Len() int {
	return len(r.expr)
}

// Hosts returns the lower-cased exact host names such that the rule can
// only match requests for one of them, or nil when it can match other hosts
// too (no Host matcher, or HostRegexp only). The edge indexes routes by
// these.
//
// Several Host matchers are ANDed, so the result is their intersection; it
// is empty but not nil when they share no name and the rule can never
// match. The caller owns the returned slice.
func (r *Rule) Hosts() []string {
	if r.hosts == nil {
		return nil
	}
	return slices.Clone(r.hosts)
}

// EachHost calls f with each of [Rule.Hosts], without copying them, and
// reports whether the rule can only match those hosts (false where Hosts
// is nil).
func (r *Rule) EachHost(f func(host string)) bool {
	for _, h := range r.hosts {
		f(h)
	}
	return r.hosts != nil
}

// HasHostRegexp reports whether the rule has a HostRegexp matcher.
func (r *Rule) HasHostRegexp() bool {
	return r.hostRegexp
}

// HasModifiers reports whether [Rule.Modify] would change anything, so the
// caller can skip it, and any request copy it makes for it.
func (r *Rule) HasModifiers() bool {
	return r.mods != nil
}

// Match reports whether req matches every matcher. host is the canonical
// request host: lower-cased, port stripped (the caller computes it once).
func (r *Rule) Match(req *http.Request, host string) bool {
	for _, m := range r.matchers {
		if !m.match(req, host) {
			return false
		}
	}
	return true
}

// Modify applies the modifiers to req in place (path strip/add/replace and
// the X-Forwarded-Prefix / X-Replaced-Path headers). It returns false when
// the request must get 404 (a strip prefix matched nothing at serve time).
//
// It keeps URL.RawPath consistent with URL.Path, and updates RequestURI
// when it is set. Call it only after [Rule.Match] returned true.
func (r *Rule) Modify(req *http.Request) bool {
	if r.mods == nil {
		return true
	}
	return r.mods.apply(req)
}
