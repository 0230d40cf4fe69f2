package edge

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/rancher-edge/edge/route"
)

// provided is what the server keeps of a provider's latest snapshot
// between compiles. It does not keep the snapshot's services: every route
// holds a copy of its service (compiledRoute.Service), and a table of
// 10,000 routes would otherwise hold each service twice, 4.6 MB of the
// 10,000-route table. services has one entry per service of the snapshot,
// in its order: each compile points it at the copy in the route it built
// for the service, or, for a service that did not compile, at a copy of
// its own. Only compiles touch it, under the server's compile lock.
type provided struct {
	snap     route.Snapshot // its Services nil
	services []*route.Service
}

// newProvided points at snap's services until the compile that follows
// re-points them, after which snap's array is no longer referenced.
func newProvided(snap route.Snapshot) *provided {
	p := &provided{snap: snap, services: make([]*route.Service, len(snap.Services))}
	for i := range snap.Services {
		p.services[i] = &snap.Services[i]
	}
	p.snap.Services = nil
	return p
}

// compile builds a new table from the latest snapshot of every provider.
// It runs under the server's compile lock, off the request path.
//
// An event changes one service among thousands, so the work per route
// that does not change is kept small: such a route shares what it
// compiled to with the live table's (registry.reuse), and building the
// table's indexes allocates per host or claim only where two routes share
// one.
func (s *Server) compile(provs []*provided, gen uint64, now time.Time) *Table {
	n := 0
	snaps := make([]route.Snapshot, len(provs))
	counts := make([]int, len(provs))
	for i, p := range provs {
		n += len(p.services)
		snaps[i], counts[i] = p.snap, len(p.services)
	}
	// Maps are sized for a host and a claim per route, the common case:
	// growing them step by step was a tenth of a compile.
	t := &Table{
		gen:       gen,
		built:     now,
		hosts:     make(map[string][]*Route, n),
		snapshots: snaps,
		services:  counts,
	}
	// Sized once: the routes of a large table are not copied while it grows.
	t.routes = make([]*Route, 0, n)
	// sources[i] is Service.Source.String() of t.routes[i]: equal
	// priorities are ordered by it, and a sort would otherwise render it
	// twice per comparison. Only the compile needs it.
	sources := make([]string, 0, n)
	byClaim := &claimIndex{one: make(map[claimKey]*Route, n)}
	// The entry points requests are looked up by: the plain listener's
	// alone with HTTPS off, else its plain-HTTP routes and the HTTPS
	// listener's (see HTTPHandler).
	listeners := []uint8{entryHTTP}
	if s.cfg.HTTPSAddr != "" {
		listeners = []uint8{entryPlain, entryHTTPS}
	}
	s.registry.begin(gen)
	for _, p := range provs {
		t.problems = append(t.problems, p.snap.Problems...)
		for i, svc := range p.services {
			rt, c, err := s.routeFor(svc, now)
			if err != nil {
				t.problems = append(t.problems, route.Problem{
					Source: svc.Source, Severity: route.Error, Message: err.Error(),
				})
				own := *svc
				p.services[i] = &own
				continue
			}
			p.services[i] = &rt.Service
			t.routes = append(t.routes, rt)
			sources = append(sources, c.source)
			// Claims per listener: routes that never meet on one (a
			// plain-HTTP route beside an HTTPS one) do not clash, nor does a
			// fallback with the routes it falls back from.
			if svc.Fallback {
				continue
			}
			for _, claim := range c.claims {
				for _, e := range listeners {
					if rt.entry&e != 0 {
						byClaim.add(claimKey{e, claim}, rt)
					}
				}
			}
		}
	}
	s.registry.retain()

	// Highest priority first, in an order stable across rebuilds
	// (routeOrder.sort). The sort permutes indexes so that sources
	// follow their routes.
	perm := s.registry.order.sort(t.routes, sources)
	sorted := make([]*Route, len(perm))
	for i, p := range perm {
		sorted[i] = t.routes[p]
	}
	t.routes = sorted
	t.backends = make(map[string]*Route)
	// A host's first route takes a slice of one from a shared array, capped
	// so that a second route of the host copies it rather than writing
	// over the next host's.
	firsts := make([]*Route, 0, len(t.routes))
	for i, rt := range t.routes {
		if b := rt.Service.Backend; b != "" && t.backends[b] == nil {
			t.backends[b] = rt
		}
		rt.order = i
		t.plain = t.plain || rt.entry&entryPlain != 0
		t.redirectCodes = t.redirectCodes || (rt.Service.TLS != nil && rt.Service.TLS.RedirectCode != 0)
		exact := rt.rule.EachHost(func(h string) {
			if rts, ok := t.hosts[h]; ok {
				t.hosts[h] = append(rts, rt)
				return
			}
			firsts = append(firsts, rt)
			t.hosts[h] = firsts[len(firsts)-1 : len(firsts) : len(firsts)]
		})
		if !exact {
			t.others = append(t.others, rt)
		}
	}

	t.problems = append(t.problems, missingPageBackends(t)...)

	t.problems = append(t.problems, t.settle(byClaim)...)
	return t
}

// routeKeys is what the compile needs of a route besides the route: its
// rule's claims (rule.Claims) and its source as a string, kept with the
// route's state so that a reused route costs neither again.
type routeKeys struct {
	claims []string
	source string
}

// routeFor returns the route of svc: the live table's route when it was
// compiled from a service Equal to svc, else a newly compiled one.
func (s *Server) routeFor(svc *route.Service, now time.Time) (*Route, routeKeys, error) {
	if rt, rs := s.registry.reuse(svc); rt != nil {
		return rt, routeKeys{rs.claims, rs.source}, nil
	}
	rt, rs, claims, err := s.compileRoute(svc, now)
	if err != nil {
		return nil, routeKeys{}, err
	}
	c := routeKeys{claims, svc.Source.String()}
	s.registry.built(rs, rt, c.source)
	return rt, c, nil
}

// compileRoute builds the route of svc, and returns it with its state in
// the registry and its rule's claims.
func (s *Server) compileRoute(svc *route.Service, now time.Time) (*Route, *routeState, []string, error) {
	name := routeName(svc)
	r, claims, err := s.registry.parse(name, svc.Rule)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("rule %q: %w", svc.Rule, err)
	}
	rt := &Route{compiledRoute: &compiledRoute{Service: *svc, rule: r, priority: svc.Priority, entry: entryHTTP | entryHTTPS}}
	if rt.priority <= 0 {
		rt.priority = r.Len()
	}
	if len(svc.EntryPoints) > 0 {
		rt.entry = 0
		for _, ep := range svc.EntryPoints {
			switch strings.ToLower(strings.TrimSpace(ep)) {
			case "http":
				rt.entry |= entryHTTP
			case "https":
				rt.entry |= entryHTTPS
			}
		}
		if rt.entry == 0 {
			return nil, nil, nil, fmt.Errorf("entry points %q: the edge has only http and https", svc.EntryPoints)
		}
	}

	if svc.DialTimeout > 0 && svc.DialTimeout < s.cfg.DialTimeout {
		rt.dialTimeout = svc.DialTimeout
	}
	rt.headerTimeout = s.cfg.ResponseHeaderTimeout
	if svc.ResponseHeaderTimeout > 0 {
		rt.headerTimeout = svc.ResponseHeaderTimeout
	}
	rt.maxBody = s.cfg.MaxBodySize
	if svc.MaxRequestBodyBytes > 0 {
		rt.maxBody = svc.MaxRequestBodyBytes
	}
	if svc.TLS != nil && svc.TLS.PlainHTTP {
		rt.entry |= entryPlain
	}
	if svc.TLS != nil {
		switch svc.TLS.RedirectCode {
		case 0, http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		default:
			return nil, nil, nil, fmt.Errorf("HTTPS redirect code %d is not one of 301, 302, 307, 308", svc.TLS.RedirectCode)
		}
	}

	rs := s.registry.route(name)
	rs.rule, rs.claims = r, claims
	rt.stats = &rs.stats
	// rt.backends stays parallel to svc.Servers: Backends names them from
	// there.
	rt.backends = make([]*backend, 0, len(svc.Servers))
	weights := make([]int, 0, len(svc.Servers))
	for _, srv := range svc.Servers {
		if srv.Weight < 0 || srv.Weight > math.MaxInt32 {
			return nil, nil, nil, fmt.Errorf("server %s: weight %d is not from 0 to %d", srv.Name, srv.Weight, math.MaxInt32)
		}
		b, err := s.registry.backend(rs, rt.backends, srv.URL, srv.Weight, now)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("server %s: %w", srv.Name, err)
		}
		rt.backends = append(rt.backends, b)
		weights = append(weights, srv.Weight)
	}
	s.registry.commit(rs, rt.backends)
	if svc.LoadBalancer.Method == "drr" {
		rt.balancer = &leastOutstanding{backends: rt.backends}
	} else {
		rt.balancer = newWRR(rt.backends, weights)
	}
	if svc.LoadBalancer.Sticky {
		rt.cookieName = svc.LoadBalancer.CookieName
		if rt.cookieName == "" {
			rt.cookieName = stickyCookieName(svc.Name)
		}
		rt.byCookie = make(map[string]*backend, len(rt.backends))
		for _, b := range rt.backends {
			// Set once per backend, here rather than for every backend:
			// only sticky routes read it, and none can before this
			// table is published. A backend is shared only with
			// generations of this same route, whose sticky tables set
			// the same value.
			if b.cookie == "" {
				b.cookie = stickyValue(b.url)
			}
			rt.byCookie[b.cookie] = b
		}
	}

	h, applied, err := s.routeHandler(rt)
	if err != nil {
		return nil, nil, nil, err
	}
	rt.handler, rt.stages = h, applied
	// The fast paths speak HTTP/1.1 upstream: HTTP/2 backends (gRPC)
	// take the handler chain.
	rt.fast = applied&^fastStages == 0 && !slices.ContainsFunc(rt.backends, func(b *backend) bool { return isH2(b.scheme) })
	return rt, rs, claims, nil
}
