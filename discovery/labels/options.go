package labels

import (
	"errors"
	"fmt"
	"strings"
)

// Options are the provider-wide settings that shape every service's routes.
type Options struct {
	// Provider names the provider in every [route.Source]: "file" or
	// "rancher". Required.
	Provider string

	// Domain is appended to the default rule, Host:<DefaultHost>.<Domain>.
	// The traefik.domain label overrides it; empty means no domain and no
	// trailing dot (Traefik ≥ 1.7.4).
	Domain string

	// ExposedByDefault is used when traefik.enable is absent, empty or not a
	// boolean. Traefik's default is true; the zero value false serves only
	// services labelled traefik.enable=true.
	ExposedByDefault bool

	// Constraints filter services by their traefik.tags label, as Traefik
	// 1.x constraints: "tag==api" keeps services with a tag matching api,
	// "tag!=internal" drops services with a tag matching internal. The
	// pattern may use * as a wildcard for any run of characters. All
	// constraints must hold.
	Constraints []string
}

// Validate reports every problem with o at once.
func (o Options) Validate() error {
	var errs []error
	if o.Provider == "" {
		errs = append(errs, errors.New("labels: provider name is empty"))
	}
	if strings.ContainsAny(o.Domain, " \t\r\n/:") || strings.HasPrefix(o.Domain, ".") || strings.HasSuffix(o.Domain, ".") {
		errs = append(errs, fmt.Errorf("labels: domain %q is not a DNS name without leading or trailing dot", o.Domain))
	}
	for _, c := range o.Constraints {
		if _, err := parseConstraint(c); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// constraint is one parsed Traefik 1.x constraint on traefik.tags.
type constraint struct {
	pattern   string
	mustMatch bool // "==" rather than "!="
}

// parseConstraint accepts Traefik's "tag==pattern" and "tag!=pattern". Only
// the tag key exists for the Rancher provider.
func parseConstraint(expr string) (constraint, error) {
	key, pattern, op := "", "", ""
	switch {
	case strings.Contains(expr, "=="):
		key, pattern, _ = strings.Cut(expr, "==")
		op = "=="
	case strings.Contains(expr, "!="):
		key, pattern, _ = strings.Cut(expr, "!=")
		op = "!="
	default:
		return constraint{}, fmt.Errorf("labels: constraint %q has no == or != operator", expr)
	}
	if strings.TrimSpace(key) != "tag" {
		return constraint{}, fmt.Errorf("labels: constraint %q: only the key \"tag\" is supported", expr)
	}
	return constraint{pattern: strings.TrimSpace(pattern), mustMatch: op == "=="}, nil
}

// matchConstraints reproduces Traefik 1.7 BaseProvider.MatchConstraints: a
// "==" constraint needs at least one matching tag, a "!=" constraint needs
// none.
func matchConstraints(exprs []string, tags []string) (bool, error) {
	for _, expr := range exprs {
		c, err := parseConstraint(expr)
		if err != nil {
			return false, err
		}
		matched := false
		for _, tag := range tags {
			if globMatch(c.pattern, tag) {
				matched = true
				break
			}
		}
		if matched != c.mustMatch {
			return false, nil
		}
	}
	return true, nil
}

// globMatch implements the ryanuber/go-glob semantics Traefik used: * stands
// for any run of characters, nothing else is special.
func globMatch(pattern, s string) bool {
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
