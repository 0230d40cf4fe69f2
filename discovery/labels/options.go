package labels

import (
	"errors"
	"fmt"
	"strings"

	"github.com/rancher-edge/edge/discovery"
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

	// ServerPorts says the provider gives every [Address] its own Port
	// (Consul registers a port per instance): traefik.port is then
	// optional and, when set, overrides the instances' ports, as in
	// Traefik's Consul catalog provider.
	ServerPorts bool

	// Constraints filter services by their traefik.tags label, as Traefik
	// 1.x constraints: "tag==api" keeps services with a tag matching api,
	// "tag!=internal" drops services with a tag matching internal. The
	// pattern may use * as a wildcard for any run of characters. All
	// constraints must hold.
	Constraints []string

	// SidekickLabels reads the rawmind0/rancher-traefik sidekick's label
	// scheme (traefik.enable=stack, traefik.domain lists, traefik.alias,
	// traefik.path…) instead of Traefik's, for stacks that move off the
	// sidekick without relabelling. Several labels mean something else
	// in the two schemes, so it is all or nothing.
	SidekickLabels bool
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

// parseConstraint checks one constraint through the shared matcher.
func parseConstraint(expr string) (discovery.Constraint, error) {
	c, err := discovery.ParseConstraint(expr)
	if err != nil {
		return c, fmt.Errorf("labels: %w", err)
	}
	return c, nil
}

// matchConstraints applies the constraints to tags with the matcher every
// provider shares ([discovery.Constraints.Match]).
func matchConstraints(exprs []string, tags []string) (bool, error) {
	cs, err := discovery.ParseConstraints(exprs)
	if err != nil {
		return false, fmt.Errorf("labels: %w", err)
	}
	return cs.Match(tags), nil
}

// globMatch is [discovery.Glob].
func globMatch(pattern, s string) bool { return discovery.Glob(pattern, s) }
