package discovery

import (
	"errors"
	"fmt"
	"strings"
)

// Constraint is one Traefik 1.x constraint on a service's tags:
// "tag==pattern" keeps services with at least one tag matching pattern,
// "tag!=pattern" keeps services with none. A pattern may use * for any run
// of characters (ryanuber/go-glob, which Traefik used); nothing else is
// special. Every provider that filters by tags (traefik.tags labels,
// Consul tags) goes through it, so a constraint means the same everywhere.
type Constraint struct {
	Pattern   string
	MustMatch bool // "==" rather than "!="
}

// String is the constraint as the user writes it.
func (c Constraint) String() string {
	if c.MustMatch {
		return "tag==" + c.Pattern
	}
	return "tag!=" + c.Pattern
}

// ParseConstraint accepts Traefik's "tag==pattern" and "tag!=pattern".
// Only the tag key exists for the providers the edge has.
func ParseConstraint(expr string) (Constraint, error) {
	var key, pattern string
	var must bool
	switch {
	case strings.Contains(expr, "=="):
		key, pattern, _ = strings.Cut(expr, "==")
		must = true
	case strings.Contains(expr, "!="):
		key, pattern, _ = strings.Cut(expr, "!=")
	default:
		return Constraint{}, fmt.Errorf("constraint %q has no == or != operator", expr)
	}
	if strings.TrimSpace(key) != "tag" {
		return Constraint{}, fmt.Errorf("constraint %q: only the key \"tag\" is supported", expr)
	}
	pattern = strings.TrimSpace(pattern)
	if pattern == "" {
		return Constraint{}, fmt.Errorf("constraint %q has an empty pattern", expr)
	}
	return Constraint{Pattern: pattern, MustMatch: must}, nil
}

// Constraints are ANDed: every one must hold.
type Constraints []Constraint

// ParseConstraints parses every expression and reports every bad one at
// once.
func ParseConstraints(exprs []string) (Constraints, error) {
	var out Constraints
	var errs []error
	for _, e := range exprs {
		c, err := ParseConstraint(e)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, c)
	}
	return out, errors.Join(errs...)
}

// SplitConstraints reads a list of constraints as users wrote it: comma-
// separated (tag==a,tag!=b), or as the raw TOML list rawmind0's image
// pasted into traefik.toml ("tag==a", "tag!=b", optionally in brackets).
// Neither form has a comma inside a constraint.
func SplitConstraints(raw string) []string {
	raw = strings.TrimSpace(raw)
	raw = strings.TrimSuffix(strings.TrimPrefix(raw, "["), "]")
	var out []string
	for _, x := range strings.Split(raw, ",") {
		x = strings.Trim(strings.TrimSpace(x), `"'`)
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// Match reports whether tags satisfy every constraint, as Traefik 1.7's
// BaseProvider.MatchConstraints: an "==" constraint needs at least one
// matching tag, a "!=" constraint needs none. No constraints match
// anything.
func (cs Constraints) Match(tags []string) bool {
	for _, c := range cs {
		matched := false
		for _, tag := range tags {
			if Glob(c.Pattern, tag) {
				matched = true
				break
			}
		}
		if matched != c.MustMatch {
			return false
		}
	}
	return true
}

// Glob implements the ryanuber/go-glob semantics Traefik used: * stands
// for any run of characters, nothing else is special.
func Glob(pattern, s string) bool {
	if pattern == "*" {
		return true
	}
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, last)
}
