package edge

import (
	"net/url"
	"slices"
	"sync/atomic"
	"time"

	"github.com/rancher-edge/edge/route"
	"github.com/rancher-edge/edge/route/rule"
)

// backend is one server of one route. Its counters and health outlive
// table generations: the registry hands the same *backend to every
// generation that routes the same service to the same URL.
//
// A table of 10,000 routes holds 20,000 backends, so the struct is kept
// small (144 bytes, a size class): its recent traffic, error window
// included, is allocated only once it serves; its passive-health policy
// is its route's; its fields are ordered to leave no padding.
type backend struct {
	url    string
	scheme string
	host   string // host:port
	// cookie is the sticky cookie value: a hash, never the address. Only
	// sticky routes need it, so a compile sets it for their backends
	// before publishing the table; empty otherwise.
	cookie string
	// pool is the fast path's idle connections to host: nil until the
	// backend's first request attaches it (upPools.poolOf), retiredPool
	// once no route holds the backend (upPools.retire). A table of 10,000
	// routes names 20,000 backends, most of which never see a request.
	pool atomic.Pointer[hostPool]

	// weight is set when the backend is created or re-used by a compile,
	// before the table that references it is published.
	weight atomic.Int32
	// healthy is the active health check's verdict; true without a check.
	healthy atomic.Bool
	// fails counts connection failures in a row (passive health).
	fails atomic.Int32
	// routes counts the routes' backend lists that hold the backend; only
	// compiles touch it (registry.retain). Beside fails, in what was
	// padding.
	routes int32
	// ejectedUntil, unix nanoseconds, keeps the backend out of rotation
	// while in the future: passive health took it out.
	ejectedUntil atomic.Int64

	inflight    atomic.Int64
	total       atomic.Uint64
	failures    atomic.Uint64 // transport errors and 5xx from the proxy
	healthSince atomic.Int64  // unix nanoseconds of the last health change

	// owner is the route's state, traffic the backend's recent counts
	// (nil until its first answer): traffic.go.
	owner   *routeStats
	traffic atomic.Pointer[backendTraffic]
}

// BackendInfo is a point-in-time view of a backend for the dashboard.
type BackendInfo struct {
	URL         string
	Name        string
	Weight      int
	Health      string // "passing", "failing", "drained", "ejected"
	HealthSince time.Time
	InFlight    int64
	Requests    uint64
	Failures    uint64
	// ErrorRate is the fraction of failed requests over the last minute.
	ErrorRate float64
	// ConsecutiveFailures counts the connection failures in a row;
	// EjectedUntil, when set, is when passive health lets the backend
	// back into rotation.
	ConsecutiveFailures int
	EjectedUntil        time.Time
}

func (b *backend) info(name string) BackendInfo {
	h := "passing"
	now := time.Now()
	var since, until time.Time
	if ns := b.healthSince.Load(); ns != 0 {
		since = time.Unix(0, ns)
	}
	switch {
	case b.weight.Load() == 0:
		h = "drained"
	case !b.healthy.Load():
		h = "failing"
	case b.ejected(now):
		h = "ejected"
		until = time.Unix(0, b.ejectedUntil.Load())
		since = until.Add(-b.owner.passive.failTimeout)
	}
	var rate float64
	if bt := b.traffic.Load(); bt != nil {
		rate = bt.errs.rate(now)
	}
	return BackendInfo{
		URL:         b.url,
		Name:        name,
		Weight:      int(b.weight.Load()),
		Health:      h,
		HealthSince: since,
		InFlight:    b.inflight.Load(),
		Requests:    b.total.Load(),
		Failures:    b.failures.Load(),
		ErrorRate:   rate,

		ConsecutiveFailures: int(b.fails.Load()),
		EjectedUntil:        until,
	}
}

// available reports whether the balancer may pick b: weighted, passing
// its active check, and not taken out by passive health.
func (b *backend) available() bool {
	return b.usable() && (b.ejectedUntil.Load() == 0 || !b.ejected(time.Now()))
}

// usable reports whether b may take requests when passive health has
// taken every backend of a route out: then all are tried rather than
// none (nginx does the same).
func (b *backend) usable() bool {
	return b.weight.Load() > 0 && b.healthy.Load()
}

// passivePolicy is nginx's max_fails/fail_timeout: a backend whose
// connections fail maxFails times in a row (dial errors, timeouts,
// resets; not 4xx or 5xx answers, nor clients that leave) is out of
// rotation for failTimeout, then tried again — one more failure takes it
// out again.
type passivePolicy struct {
	maxFails    int32
	failTimeout time.Duration
}

// passivePolicy is the policy of b's route, nil when passive health is
// off.
func (b *backend) passivePolicy() *passivePolicy {
	if b.owner == nil {
		return nil
	}
	return b.owner.passive
}

// ejected reports whether passive health keeps b out at now; once the
// time is over it lets b back, one failure away from out again.
func (b *backend) ejected(now time.Time) bool {
	until := b.ejectedUntil.Load()
	if until == 0 {
		return false
	}
	if now.UnixNano() < until {
		return true
	}
	if b.ejectedUntil.CompareAndSwap(until, 0) {
		b.fails.Store(b.owner.passive.maxFails - 1)
	}
	return false
}

// The accounting of one attempt, shared by both proxy designs: start when
// the request is sent; then failed (no response), or responded followed by
// finished once the response body has been relayed. start returns the
// attempt's start (unix nanoseconds), which responded times the answer
// from.

func (b *backend) start() int64 {
	b.inflight.Add(1)
	b.total.Add(1)
	return time.Now().UnixNano()
}

// failed ends an attempt whose connection failed (no response): it
// counts towards passive health.
func (b *backend) failed() {
	b.inflight.Add(-1)
	b.failures.Add(1)
	now := time.Now()
	b.note(0, now, -1)
	if p := b.passivePolicy(); p != nil && b.fails.Add(1) >= p.maxFails && b.ejectedUntil.Load() == 0 {
		b.ejectedUntil.Store(now.Add(p.failTimeout).UnixNano())
	}
}

// responded counts the backend's answer (its response head) to the
// attempt that started at sent.
func (b *backend) responded(code int, sent int64) {
	failed := code >= 500
	if failed {
		b.failures.Add(1)
	}
	now := time.Now()
	b.note(code, now, time.Duration(now.UnixNano()-sent))
	if b.fails.Load() != 0 {
		// An answer, whatever its status, ends a run of failures.
		b.fails.Store(0)
	}
}

func (b *backend) finished() { b.inflight.Add(-1) }

func (b *backend) setHealthy(ok bool, now time.Time) bool {
	if b.healthy.Swap(ok) != ok {
		b.healthSince.Store(now.UnixNano())
		return true
	}
	return false
}

// registry keeps the state of each route across generations, by route
// name: its counters and its backends. Only compiles touch it, and they
// hold the server's compile lock (Server.mu): it needs no lock of its own.
type registry struct {
	pools   *upPools       // set by New; backends leaving every route are retired there
	passive *passivePolicy // set by New; nil when passive health is off
	traffic *traffic       // set by New: the server's bucket bounds
	gen     uint64         // the compile in progress, or the last one
	routes  map[string]*routeState
	key     []byte // reuse's lookup buffer
	// order is the last compile's route order, kept for the next.
	order routeOrder
}

// routeState is what a route keeps between generations. Backends are kept
// per route rather than in one registry-wide map so that 10,000 routes do
// not need 20,000 "route URL" key strings and a map entry each.
type routeState struct {
	stats routeStats
	gen   uint64 // the last compile that named the route
	// backends are those of the route as the last compile built it.
	backends []*backend
	// prev are the backends before this compile, and index the previous
	// and new ones by URL for a route with many; both only while the
	// compile that set gen runs.
	prev  []*backend
	index map[string]*backend
	// rule and claims are the route's parsed rule and its claims
	// (rule.Claims), kept while the expression stays the same: a compile
	// after one service changed would otherwise parse every rule again.
	rule   *rule.Rule
	claims []string
	// last is the route the compile that set gen built for the name,
	// while it built exactly one; the next compile shares what it
	// compiled to with a service Equal to last's rather than compiling
	// that again (reuse). source is its Service.Source.String().
	last   *Route
	source string
	// named counts the services the compile that set gen gave the name.
	named int
	// rebuilt is set while the compile in progress builds the route
	// anew: retain moves its backends' counts from prev to backends.
	rebuilt bool
}

// indexFrom is the number of backends above which a route's are looked up
// by map rather than by scanning: a scan per server would make compiling a
// route with thousands of servers quadratic.
const indexFrom = 16

// begin starts the compile of generation gen: retain keeps only what the
// compile names from here on.
func (r *registry) begin(gen uint64) {
	r.gen = gen
}

// parse returns the rule of expr and its claims for the route named name:
// the previous compile's when the route had the same expression, else
// newly parsed. It does not mark the route as named: a rule that does not
// parse leaves the route out of the table.
func (r *registry) parse(name, expr string) (*rule.Rule, []string, error) {
	if rs := r.routes[name]; rs != nil && rs.rule != nil && rs.rule.String() == expr {
		return rs.rule, rs.claims, nil
	}
	ru, err := rule.Parse(expr)
	if err != nil {
		return nil, nil, err
	}
	return ru, rule.Claims(expr), nil
}

// route returns the state of the route named name, creating it.
func (r *registry) route(name string) *routeState {
	rs, ok := r.routes[name]
	if !ok {
		if r.routes == nil {
			r.routes = make(map[string]*routeState)
		}
		rs = new(routeState)
		rs.stats.id = name
		rs.stats.passive = r.passive
		rs.stats.shared = r.traffic
		r.routes[name] = rs
	}
	rs.last, rs.source = nil, "" // set again by built when this is the name's only route
	rs.named++
	if rs.gen != r.gen {
		rs.gen = r.gen
		rs.named = 1
		rs.rebuilt = true
		rs.prev, rs.backends, rs.index = rs.backends, nil, nil
		if len(rs.prev) > indexFrom {
			rs.index = make(map[string]*backend, len(rs.prev))
			for _, b := range rs.prev {
				rs.index[b.url] = b
			}
		}
	}
	return rs
}

// reuse returns a route that shares what the previous compile built for
// svc's name, with that route's state, when svc is Equal to the service it
// was built from; nil otherwise. The two routes share everything —
// backends, balancer, handler chain and the middlewares' state (rate-limit
// buckets, maxconn counts) — but their place in their tables (order,
// yielded), which the compile sets.
func (r *registry) reuse(svc *route.Service) (*Route, *routeState) {
	// The name is looked up from a buffer: converting it in the index
	// expression does not allocate.
	r.key = appendRouteName(r.key[:0], svc)
	rs := r.routes[string(r.key)]
	// A provider that did not change hands the compile the route's own
	// copy of its service (provided): that is equal without a look.
	if rs == nil || rs.last == nil || rs.gen != r.gen-1 || (svc != &rs.last.Service && !rs.last.Service.Equal(svc)) {
		return nil, nil
	}
	rt := &Route{compiledRoute: rs.last.compiledRoute, reused: true}
	rs.gen, rs.named, rs.last = r.gen, 1, rt
	return rt, rs
}

// routeName names svc's route in the registry: "<provider>/<name>".
func routeName(svc *route.Service) string { return string(appendRouteName(nil, svc)) }

func appendRouteName(dst []byte, svc *route.Service) []byte {
	return append(append(append(dst, svc.Source.Provider...), '/'), svc.Name...)
}

// built records rt, newly compiled, as the route of rs for the next
// compile to reuse, when it is the only route of its name. A forward-auth
// server's client certificate and CA are read when the route is compiled:
// such a route is compiled at each change, so that rotated files are read.
func (r *registry) built(rs *routeState, rt *Route, source string) {
	if rs.named == 1 && (rt.Service.ForwardAuth == nil || rt.Service.ForwardAuth.TLS == nil) {
		rs.last, rs.source = rt, source
	}
}

// backend returns the route's backend for rawURL with its weight set:
// the one from the previous generation when there is one, so counters
// and health carry over. pending are the backends the compile has already
// given this route, so a URL listed twice is one backend.
func (r *registry) backend(rs *routeState, pending []*backend, rawURL string, weight int, now time.Time) (*backend, error) {
	if b := rs.find(pending, rawURL); b != nil {
		b.weight.Store(int32(weight))
		return b, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https" && !isH2(u.Scheme)) {
		return nil, &url.Error{Op: "parse", URL: rawURL, Err: errBadServerURL}
	}
	b := &backend{
		url:    rawURL,
		scheme: u.Scheme,
		host:   u.Host,
		owner:  &rs.stats,
	}
	b.weight.Store(int32(weight))
	b.healthy.Store(true)
	b.healthSince.Store(now.UnixNano())
	if rs.index == nil && len(pending) >= indexFrom {
		rs.index = make(map[string]*backend, len(rs.prev)+len(rs.backends)+len(pending)+1)
		for _, list := range [...][]*backend{rs.prev, rs.backends, pending} {
			for _, b := range list {
				rs.index[b.url] = b
			}
		}
	}
	if rs.index != nil {
		rs.index[rawURL] = b
	}
	return b, nil
}

func (rs *routeState) find(pending []*backend, rawURL string) *backend {
	if rs.index != nil {
		return rs.index[rawURL]
	}
	for _, list := range [...][]*backend{pending, rs.backends, rs.prev} {
		for _, b := range list {
			if b.url == rawURL {
				return b
			}
		}
	}
	return nil
}

// commit records the backends a compile gave the route. Two services with
// one name (which providers prevent) share the route's state and add up.
func (r *registry) commit(rs *routeState, backends []*backend) {
	if rs.backends == nil {
		rs.backends = backends
		return
	}
	rs.backends = append(slices.Clip(rs.backends), backends...)
}

// retain ends a compile: it drops the state of every route the compile
// did not name, and retires the backends no route holds any more, which
// closes the upstream pools no backend uses.
//
// A backend counts the routes' lists that hold it (backend.routes). Only
// the routes the compile built anew or dropped change the counts: a
// reused route keeps its backends, so an event's compile does not visit
// the backends of thousands of unchanged routes. A backend created by
// this compile and not kept was never published: it has no pool, and is
// left to the collector.
func (r *registry) retain() {
	var left []*backend
	for name, rs := range r.routes {
		if rs.gen != r.gen {
			for _, b := range rs.backends {
				b.routes--
				left = append(left, b)
			}
			delete(r.routes, name)
			continue
		}
		if rs.rebuilt {
			for _, b := range rs.backends {
				b.routes++
			}
			for _, b := range rs.prev {
				b.routes--
				left = append(left, b)
			}
			rs.rebuilt = false
		}
		rs.prev, rs.index = nil, nil
	}
	r.pools.retire(left)
}

// errorWindow counts requests and failures in six 10-second buckets so the
// dashboard can show a recent error rate without a lock on the request path.
type errorWindow struct {
	buckets [6]struct {
		epoch atomic.Int64
		// counts holds requests in the low 32 bits and failures in the
		// high 32: one atomic add per request, and 16 bytes a bucket
		// rather than 24. A bucket would need 2^32 requests in 10 s to
		// carry into the failures.
		counts atomic.Uint64
	}
}

const windowFailure = 1 << 32

func (w *errorWindow) add(now time.Time, failed bool) {
	epoch := now.Unix() / 10
	b := &w.buckets[epoch%int64(len(w.buckets))]
	if old := b.epoch.Load(); old != epoch && b.epoch.CompareAndSwap(old, epoch) {
		// A racing request may land in the old count; a dashboard rate
		// tolerates that.
		b.counts.Store(0)
	}
	d := uint64(1)
	if failed {
		d |= windowFailure
	}
	b.counts.Add(d)
}

func (w *errorWindow) rate(now time.Time) float64 {
	epoch := now.Unix() / 10
	var req, fail uint64
	for i := range w.buckets {
		b := &w.buckets[i]
		if e := b.epoch.Load(); epoch-e < int64(len(w.buckets)) && e <= epoch {
			c := b.counts.Load()
			req += c & (windowFailure - 1)
			fail += c >> 32
		}
	}
	if req == 0 {
		return 0
	}
	return float64(fail) / float64(req)
}
