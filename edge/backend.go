package edge

import (
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// backend is one server of one route. Its counters and health outlive
// table generations: the registry hands the same *backend to every
// generation that routes the same service to the same URL.
type backend struct {
	key    string // route name + " " + URL
	url    string
	scheme string
	host   string    // host:port
	cookie string    // sticky cookie value: a hash, never the address
	pool   *hostPool // the fast path's idle connections to host

	// weight is set when the backend is created or re-used by a compile,
	// before the table that references it is published.
	weight atomic.Int32

	inflight atomic.Int64
	total    atomic.Uint64
	failures atomic.Uint64 // transport errors and 5xx from the proxy

	// healthy is the active health check's verdict; true without a check.
	healthy     atomic.Bool
	healthSince atomic.Int64 // unix nanoseconds of the last health change
	lastCheck   atomic.Int64

	window errorWindow
}

// BackendInfo is a point-in-time view of a backend for the dashboard.
type BackendInfo struct {
	URL         string
	Name        string
	Weight      int
	Health      string // "passing", "failing", "drained"
	HealthSince time.Time
	InFlight    int64
	Requests    uint64
	Failures    uint64
	// ErrorRate is the fraction of failed requests over the last minute.
	ErrorRate float64
}

func (b *backend) info(name string) BackendInfo {
	h := "passing"
	switch {
	case b.weight.Load() == 0:
		h = "drained"
	case !b.healthy.Load():
		h = "failing"
	}
	var since time.Time
	if ns := b.healthSince.Load(); ns != 0 {
		since = time.Unix(0, ns)
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
		ErrorRate:   b.window.rate(time.Now()),
	}
}

// available reports whether the balancer may pick b.
func (b *backend) available() bool {
	return b.weight.Load() > 0 && b.healthy.Load()
}

// The accounting of one attempt, shared by both proxy designs: start when
// the request is sent; then failed (no response), or responded followed by
// finished once the response body has been relayed.

func (b *backend) start() {
	b.inflight.Add(1)
	b.total.Add(1)
}

func (b *backend) failed() {
	b.inflight.Add(-1)
	b.failures.Add(1)
	b.window.add(time.Now(), true)
}

func (b *backend) responded(code int) {
	failed := code >= 500
	if failed {
		b.failures.Add(1)
	}
	b.window.add(time.Now(), failed)
}

func (b *backend) finished() { b.inflight.Add(-1) }

func (b *backend) setHealthy(ok bool, now time.Time) bool {
	b.lastCheck.Store(now.UnixNano())
	if b.healthy.Swap(ok) != ok {
		b.healthSince.Store(now.UnixNano())
		return true
	}
	return false
}

// registry keeps backends by key across generations. Only compiles touch
// it, under the server's compile lock.
type registry struct {
	pools    *upPools // set by New; every backend gets its address's pool
	mu       sync.Mutex
	backends map[string]*backend
	stats    map[string]*routeStats
}

// routeStats returns the counters of the route named name.
func (r *registry) routeStats(name string) *routeStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.stats[name]; ok {
		return s
	}
	if r.stats == nil {
		r.stats = make(map[string]*routeStats)
	}
	s := new(routeStats)
	r.stats[name] = s
	return s
}

func (r *registry) get(routeName, rawURL string, weight int, now time.Time) (*backend, error) {
	key := routeName + " " + rawURL
	r.mu.Lock()
	defer r.mu.Unlock()
	if b, ok := r.backends[key]; ok {
		b.weight.Store(int32(weight))
		return b, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, &url.Error{Op: "parse", URL: rawURL, Err: errBadServerURL}
	}
	b := &backend{
		key:    key,
		url:    rawURL,
		scheme: u.Scheme,
		host:   u.Host,
		cookie: stickyValue(rawURL),
		pool:   r.pools.forBackend(u.Scheme, u.Host),
	}
	b.weight.Store(int32(weight))
	b.healthy.Store(true)
	b.healthSince.Store(now.UnixNano())
	if r.backends == nil {
		r.backends = make(map[string]*backend)
	}
	r.backends[key] = b
	return b, nil
}

// retain drops every backend whose key is not in keep.
func (r *registry) retain(keep map[string]struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k := range r.backends {
		if _, ok := keep[k]; !ok {
			delete(r.backends, k)
		}
	}
	for k := range r.stats {
		if _, ok := keep[k]; !ok {
			delete(r.stats, k)
		}
	}
	live := make(map[*hostPool]struct{}, len(r.backends))
	for _, b := range r.backends {
		live[b.pool] = struct{}{}
	}
	r.pools.retain(live)
}

// errorWindow counts requests and failures in six 10-second buckets so the
// dashboard can show a recent error rate without a lock on the request path.
type errorWindow struct {
	buckets [6]struct {
		epoch    atomic.Int64
		requests atomic.Uint64
		failures atomic.Uint64
	}
}

func (w *errorWindow) add(now time.Time, failed bool) {
	epoch := now.Unix() / 10
	b := &w.buckets[epoch%int64(len(w.buckets))]
	if old := b.epoch.Load(); old != epoch && b.epoch.CompareAndSwap(old, epoch) {
		// A racing request may land in the old count; a dashboard rate
		// tolerates that.
		b.requests.Store(0)
		b.failures.Store(0)
	}
	b.requests.Add(1)
	if failed {
		b.failures.Add(1)
	}
}

func (w *errorWindow) rate(now time.Time) float64 {
	epoch := now.Unix() / 10
	var req, fail uint64
	for i := range w.buckets {
		b := &w.buckets[i]
		if e := b.epoch.Load(); epoch-e < int64(len(w.buckets)) && e <= epoch {
			req += b.requests.Load()
			fail += b.failures.Load()
		}
	}
	if req == 0 {
		return 0
	}
	return float64(fail) / float64(req)
}
