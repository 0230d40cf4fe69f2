package edge

import (
	"net/http"
	"slices"
	"time"

	"github.com/rancher-edge/edge/route"
	"github.com/rancher-edge/edge/route/rule"
)

// Entry points a route can be served on.
const (
	entryHTTP  uint8 = 1 << iota // the plain HTTP listener (only when HTTPS is off)
	entryHTTPS                   // the HTTPS listener
	// entryPlain marks routes served on plain HTTP even when HTTPS is on
	// (route.TLS.PlainHTTP); every other request there is redirected.
	entryPlain
)

// Table is one compiled generation of the routing table. After it has been
// published it must not be modified: requests read it without locks.
type Table struct {
	gen   uint64
	built time.Time

	// hosts holds the routes whose rule can only match one of a set of
	// exact hosts, by host, in priority order.
	hosts map[string][]*Route
	// others holds every other route (HostRegexp, no Host matcher) in
	// priority order.
	others []*Route
	// routes is every route in priority order.
	routes []*Route
	// backends holds the first route in priority order of each Traefik
	// backend name, for error pages.
	backends map[string]*Route

	problems  []route.Problem
	snapshots []route.Snapshot // their Services nil: the routes hold them
	services  []int            // the number of services of each snapshot
	// lost lists the sources that lost claims to older routes (clash.go).
	lost []route.Lost

	// plain is set when some route has entryPlain: only then does the
	// plain HTTP listener look at the table before redirecting.
	plain bool
	// redirectCodes is set when some route has its own redirect code
	// (route.TLS.RedirectCode): only then does a redirect look up the
	// route it redirects to.
	redirectCodes bool
}

// Route is one compiled frontend: its rule, its backends and the handler
// chain that serves matching requests, and its place in one table.
type Route struct {
	// compiledRoute is shared by the tables that hold the route
	// unchanged: for a route an event did not touch, a compile makes only
	// a new Route around the live one's (registry.reuse).
	*compiledRoute

	order int // position in the table's priority order; lower wins

	// yielded lists the claims the route lost to older routes after it
	// in the table's order (clash.go); nil for nearly every route.
	yielded []yield

	// reused marks a route whose compiledRoute the previous table held.
	reused bool
}

// compiledRoute is what a route's service compiles to. It is not
// modified once a table holding it has been published.
type compiledRoute struct {
	// Service is the specification the route was compiled from.
	Service route.Service

	rule     *rule.Rule
	priority int

	// backends are parallel to Service.Servers.
	backends []*backend
	balancer balancer

	// dialTimeout, when positive, bounds connecting to a backend below
	// the edge's dial timeout (route.Service.DialTimeout).
	dialTimeout time.Duration
	// headerTimeout bounds the wait for a backend's response head;
	// maxBody, when positive, the request body (413 beyond).
	headerTimeout time.Duration
	maxBody       int64

	cookieName string              // sticky cookie; empty when not sticky
	byCookie   map[string]*backend // sticky cookie value to backend
	handler    http.Handler
	// proxy is the innermost handler, without middlewares: what error
	// pages of other routes fetch from.
	proxy http.Handler
	stats *routeStats

	// The small fields last, together, so the struct has no padding: a
	// table of 10,000 routes holds 10,000 of them.
	entry uint8
	// stages says which middlewares the handler chain holds (one bit
	// per entry of stages).
	stages stageSet
	// fast is set when the chain holds no middleware but those the fast
	// paths apply themselves (path modifiers): they may serve the route
	// without it. routeHandler decides it, nothing else.
	fast bool
}

// Generation counts the tables a server has published, starting at 1.
func (t *Table) Generation() uint64 { return t.gen }

// Built is when the table was compiled.
func (t *Table) Built() time.Time { return t.built }

// Routes lists every route in the order they are matched.
func (t *Table) Routes() []*Route { return t.routes }

// Problems lists what was skipped or warned about: the providers' problems
// and the compiler's (unparsable rules, conflicts).
func (t *Table) Problems() []route.Problem { return t.problems }

// Snapshots returns the latest snapshot of each provider the table was
// compiled from, ordered by provider name, without its Services: the
// table's routes hold those (Route.Service), and ServiceCount says how
// many each snapshot had.
func (t *Table) Snapshots() []route.Snapshot { return t.snapshots }

// ServiceCount returns the number of services in the latest snapshot of
// the provider, whether they compiled to routes or not.
func (t *Table) ServiceCount(provider string) int {
	for i, snap := range t.snapshots {
		if snap.Provider == provider {
			return t.services[i]
		}
	}
	return 0
}

// Hosts lists the exact host names of every Host rule, for certificates.
func (t *Table) Hosts() []string {
	out := make([]string, 0, len(t.hosts))
	for h := range t.hosts {
		out = append(out, h)
	}
	return out
}

// ACMEHosts lists the names ACME may order with TRAEFIK_ACME_ONHOSTRULE:
// the exact hosts of every route without a TLS policy of its own, and the
// ACMEHosts of the routes that have one (route.TLS).
func (t *Table) ACMEHosts() []string {
	set := make(map[string]bool, len(t.hosts))
	for h, rts := range t.hosts {
		for _, rt := range rts {
			if rt.Service.TLS == nil {
				set[h] = true
				break
			}
		}
	}
	for _, rt := range t.routes {
		if rt.Service.TLS != nil {
			for _, h := range rt.Service.TLS.ACMEHosts {
				set[canonicalHost(h)] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for h := range set {
		out = append(out, h)
	}
	slices.Sort(out)
	return out
}

// MatchesHost reports whether a request for host could be routed by some
// route (ignoring matchers other than the host). On-demand TLS uses it so
// that certificates are only ever requested for routed names.
func (t *Table) MatchesHost(host string) bool {
	host = canonicalHost(host)
	if len(t.hosts[host]) > 0 {
		return true
	}
	for _, rt := range t.others {
		if rt.rule.HasHostRegexp() && rt.rule.MatchHost(host) {
			return true
		}
	}
	return false
}

// HostRegexp reports whether the route's rule matches hosts by pattern.
func (r *Route) HostRegexp() bool { return r.rule.HasHostRegexp() }

// Priority is the effective priority: the explicit one, or the rule length.
func (r *Route) Priority() int { return r.priority }

// Backends returns the route's backends in their configured order.
func (r *Route) Backends() []BackendInfo {
	out := make([]BackendInfo, len(r.backends))
	for i, b := range r.backends {
		out[i] = b.info(r.Service.Servers[i].Name)
	}
	return out
}

// Method is the load-balancing method in effect ("wrr" or "drr").
func (r *Route) Method() string {
	if r.Service.LoadBalancer.Method == "drr" {
		return "drr"
	}
	return "wrr"
}

// lookup finds the highest-priority route matching r on the given entry
// point. host is canonical. It does not allocate.
func (t *Table) lookup(r *http.Request, host string, entry uint8) *Route {
	exact := t.hosts[host]
	others := t.others
	i, j := 0, 0
	for i < len(exact) || j < len(others) {
		var rt *Route
		if j >= len(others) || (i < len(exact) && exact[i].order < others[j].order) {
			rt = exact[i]
			i++
		} else {
			rt = others[j]
			j++
		}
		if rt.entry&entry != 0 && rt.rule.Match(r, host) && (rt.yielded == nil || !rt.yields(r, host, entry)) {
			return rt
		}
	}
	return nil
}
