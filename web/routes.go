package web

import (
	"slices"
	"strconv"
	"time"

	"github.com/rancher-edge/edge/edge"
	"github.com/rancher-edge/edge/route"
)

// RoutesPage is the routes page and /api/routes.
type RoutesPage struct {
	Now        time.Time   `json:"now"`
	Generation uint64      `json:"generation"`
	TableBuilt time.Time   `json:"table_built,omitzero"`
	Routes     []RouteView `json:"routes"`
	// Unrouted counts requests that matched no route.
	Unrouted uint64 `json:"unrouted_requests"`
	// RecentErrors are the last 5xx answers on any route (on the routes
	// the query keeps, when there is one), newest first.
	RecentErrors []ErrorView `json:"recent_errors"`
	// Query is the search and filters applied; Total counts the routes
	// before them, Providers lists the providers the filter offers.
	Query     RouteQuery `json:"query"`
	Total     int        `json:"total"`
	Providers []string   `json:"providers"`
	// Skipped are the services providers skipped (bad labels), by stack,
	// with why; the query narrows them too.
	Skipped []SkippedStack `json:"skipped"`
}

// RouteView is one route, in the order routes are matched.
type RouteView struct {
	ID       string     `json:"id"` // provider/name, the metrics label
	Name     string     `json:"name"`
	Anchor   string     `json:"anchor"`
	Rule     string     `json:"rule"`
	Priority int        `json:"priority"`
	Source   SourceView `json:"source"`
	// EntryPoints is empty when the route is on every entry point.
	EntryPoints    []string         `json:"entry_points"`
	PassHostHeader bool             `json:"pass_host_header"`
	Method         string           `json:"method"` // "wrr" or "drr"
	Sticky         bool             `json:"sticky"`
	Middlewares    []MiddlewareView `json:"middlewares"`
	HealthCheck    *HealthCheckView `json:"health_check,omitempty"`

	Requests uint64            `json:"requests"`
	InFlight int64             `json:"in_flight"`
	Codes    map[string]uint64 `json:"codes"` // status code → finished requests
	Traffic  TrafficView       `json:"traffic"`

	Backends []BackendView `json:"backends"`
	Problems []ProblemView `json:"problems"`
}

// MiddlewareView is one middleware in effect, described in words. It never
// carries credentials or header values, which may be secrets.
type MiddlewareView struct {
	Kind   string `json:"kind"` // "whitelist", "redirect", "headers", "auth", "path-rewrite"…
	Detail string `json:"detail"`
}

// HealthCheckView is the active health check of a route.
type HealthCheckView struct {
	Path            string  `json:"path"`
	Port            int     `json:"port,omitempty"`
	IntervalSeconds float64 `json:"interval_seconds"`
	TimeoutSeconds  float64 `json:"timeout_seconds"`
}

// BackendView is one server behind a route.
type BackendView struct {
	Name   string `json:"name"`
	URL    string `json:"url"`
	Weight int    `json:"weight"`
	// Health is "passing" (its health check passes), "unchecked" (the
	// route has no health check: it gets requests), "failing" or
	// "drained" (weight 0), or "ejected": its connections failed
	// several times in a row (passive health, nginx's max_fails) and it
	// gets no requests until EjectedUntil.
	Health      string    `json:"health"`
	HealthSince time.Time `json:"health_since,omitzero"`
	InFlight    int64     `json:"in_flight"`
	Requests    uint64    `json:"requests"`
	Failures    uint64    `json:"failures"`
	// ErrorRate is the fraction of failed requests over the last minute.
	ErrorRate float64 `json:"error_rate"`
	// Traffic is the backend's last 1, 5 and 15 minutes: requests,
	// status classes and the latency of its answers.
	Traffic TrafficView `json:"traffic"`
	// ConsecutiveFailures counts connection failures in a row (passive
	// health); EjectedUntil is set while it keeps the backend out.
	ConsecutiveFailures int       `json:"consecutive_failures"`
	EjectedUntil        time.Time `json:"ejected_until,omitzero"`
}

func (s *Server) routesPage(st state, q RouteQuery) RoutesPage {
	p := RoutesPage{Now: st.now, Routes: []RouteView{}, RecentErrors: []ErrorView{}, Query: q,
		Providers: []string{}, Skipped: skippedStacks(st.problems(), q)}
	if s.cfg.Sources.Unrouted != nil {
		p.Unrouted = s.cfg.Sources.Unrouted()
	}
	if s.cfg.Sources.RecentErrors != nil {
		p.RecentErrors = errorViews(s.cfg.Sources.RecentErrors())
	}
	if st.table == nil {
		return p
	}
	p.Generation, p.TableBuilt = st.table.Generation(), st.table.Built()
	bySource := make(map[route.Source][]ProblemView)
	for _, pr := range st.problems() {
		bySource[pr.Source] = append(bySource[pr.Source], problemView(pr))
	}
	for _, rt := range st.routes() {
		p.Total++
		if !slices.Contains(p.Providers, rt.Service.Source.Provider) {
			p.Providers = append(p.Providers, rt.Service.Source.Provider)
		}
		rv := routeView(rt, st.now)
		if ps := bySource[rt.Service.Source]; ps != nil {
			rv.Problems = ps
		}
		if !q.matches(rv) {
			continue
		}
		p.Routes = append(p.Routes, rv)
	}
	slices.Sort(p.Providers)
	if q.Active() {
		// The errors of the routes shown, whose anchors are on the page.
		shown := make(map[string]bool, len(p.Routes))
		for _, rv := range p.Routes {
			shown[rv.ID] = true
		}
		p.RecentErrors = slices.DeleteFunc(p.RecentErrors, func(e ErrorView) bool { return !shown[e.Route] })
	}
	return p
}

func routeView(rt *edge.Route, now time.Time) RouteView {
	svc := rt.Service
	stats := rt.Stats()
	rv := RouteView{
		ID:             rt.ID(),
		Name:           svc.Name,
		Anchor:         "route-" + slug(rt.ID()),
		Rule:           svc.Rule,
		Priority:       rt.Priority(),
		Source:         sourceView(svc.Source),
		EntryPoints:    append([]string{}, svc.EntryPoints...),
		PassHostHeader: svc.PassHostHeader,
		Method:         rt.Method(),
		Sticky:         svc.LoadBalancer.Sticky,
		Middlewares:    middlewares(rt),
		Requests:       stats.Requests,
		InFlight:       stats.InFlight,
		Codes:          make(map[string]uint64, len(stats.Codes)),
		Traffic:        trafficView(rt.Traffic(now)),
		Backends:       []BackendView{},
		Problems:       []ProblemView{},
	}
	for code, n := range stats.Codes {
		rv.Codes[strconv.Itoa(code)] = n
	}
	if hc := svc.HealthCheck; hc != nil {
		iv, to := hc.Every(), hc.Wait()
		rv.HealthCheck = &HealthCheckView{Path: hc.Path, Port: hc.Port, IntervalSeconds: iv.Seconds(), TimeoutSeconds: to.Seconds()}
	}
	bt := rt.BackendTraffic(now)
	for i, b := range rt.Backends() {
		health := b.Health
		if health == "passing" && svc.HealthCheck == nil {
			health = "unchecked"
		}
		rv.Backends = append(rv.Backends, BackendView{
			Name: b.Name, URL: redactURL(b.URL), Weight: b.Weight, Health: health, HealthSince: b.HealthSince,
			InFlight: b.InFlight, Requests: b.Requests, Failures: b.Failures, ErrorRate: b.ErrorRate,
			Traffic:             trafficView(bt[i]),
			ConsecutiveFailures: b.ConsecutiveFailures, EjectedUntil: b.EjectedUntil,
		})
	}
	return rv
}

// middlewares describes the middlewares in effect on a route, in the
// order requests meet them, from the edge's own list.
func middlewares(rt *edge.Route) []MiddlewareView {
	out := []MiddlewareView{}
	for _, m := range rt.Middlewares() {
		out = append(out, MiddlewareView{Kind: m.Kind, Detail: m.Detail})
	}
	return out
}

// plural counts n of word in English: "1 row", "2 rows", "0 rows". Every
// count a page shows next to a noun goes through it (a test walks the
// templates for counts that do not).
func plural[N int | int64 | uint64](n N, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.FormatInt(int64(n), 10) + " " + word + "s"
}
