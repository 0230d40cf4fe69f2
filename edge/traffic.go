package edge

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Live traffic: what each route and backend served over the last 1, 5 and
// 15 minutes, and the last errors, for the dashboard and /metrics.
//
// Recording stays off the request path's budget: a request adds to a few
// atomic counters in fixed arrays, with no lock, no map write and no
// allocation. A route's (or backend's) arrays are allocated by its first
// request, so idle routes and backends cost one nil pointer. Routes and
// backends keep the same arrays, with one set of duration bounds: with the
// default 11, 16 one-minute slots of 4 status classes and 12 duration
// buckets (32-bit counters, 1 KiB) plus the cumulative histogram /metrics
// reads make about 1.3 KiB per route with traffic and 1.4 KiB per backend
// (which also keeps its status classes since its first answer): 10,000 busy
// routes with 20,000 backends add some 40 MiB. A route times its requests
// from arrival to the end of the response; a backend times its answers
// from the attempt's start (connection, request sent) to the response
// head, as nginx's $upstream_header_time and HAProxy's Tr do, so a client
// slow to read does not make a backend look slow. A backend's failures to
// answer count as 5xx without a duration.
//
// Only a 5xx answer takes a lock, to write the recent-errors ring.

// DefaultDurationBuckets are the upper bounds, in seconds, of the request
// duration histograms when Config.DurationBuckets is empty (Prometheus'
// default buckets).
var DefaultDurationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// maxDurationBuckets bounds the histogram's size per route.
const maxDurationBuckets = 30

// trafficSlots is the number of one-minute slots a window keeps: the
// current minute and the 15 before it, enough to cover any 15-minute
// window whatever the second.
const trafficSlots = 16

// bucket returns the duration bucket d falls in: the first bound it does
// not exceed, len(nanos) when it exceeds them all.
func bucket(nanos []int64, d time.Duration) int {
	b := 0
	for b < len(nanos) && int64(d) > nanos[b] {
		b++
	}
	return b
}

// classes are the status classes counted: 1xx (upgrades) and 2xx, 3xx,
// 4xx, 5xx (and the edge's own errors).
const classes = 4

// RecentErrorsKept is how many errors RecentErrors remembers.
const RecentErrorsKept = 50

func validateBuckets(b []float64) error {
	if len(b) > maxDurationBuckets {
		return fmt.Errorf("edge: %d duration buckets; at most %d", len(b), maxDurationBuckets)
	}
	for i, v := range b {
		if !(v > 0) || (i > 0 && v <= b[i-1]) {
			return errors.New("edge: duration buckets must be positive and increasing")
		}
	}
	return nil
}

// traffic is the server's part: the bucket bounds every histogram shares
// and the recent errors.
type traffic struct {
	bounds []float64 // seconds, for reports
	nanos  []int64   // the same in nanoseconds, for recording

	mu     sync.Mutex // guards errors and next
	errors [RecentErrorsKept]errorEntry
	next   uint64 // errors written so far
}

func (t *traffic) init(bounds []float64) {
	if len(bounds) == 0 {
		bounds = DefaultDurationBuckets
	}
	t.bounds = slices.Clone(bounds)
	t.nanos = make([]int64, len(bounds))
	for i, b := range bounds {
		t.nanos[i] = int64(b * float64(time.Second))
	}
}

// DurationBuckets returns the histogram bounds in seconds.
func (s *Server) DurationBuckets() []float64 { return slices.Clone(s.traffic.bounds) }

// window is one route's or backend's counts per minute: slot m%16 counts
// unix minute minute[m%16]. A slot is cleared by the first request of a
// new minute; a request racing with the clear may be lost, which a
// dashboard tolerates.
type window struct {
	minute [trafficSlots]atomic.Int64
	// counts holds stride counters per slot: the classes, then one per
	// duration bucket, the last for slower requests.
	counts []atomic.Uint32
	stride int
	born   int64 // unix nanoseconds of the first request
}

func newWindow(stride int, now int64) *window {
	return &window{counts: make([]atomic.Uint32, trafficSlots*stride), stride: stride, born: now}
}

// slot returns the first counter of the current minute's slot.
func (w *window) slot(now int64) int {
	m := now / int64(time.Minute)
	i := int(m % trafficSlots)
	if old := w.minute[i].Load(); old != m && w.minute[i].CompareAndSwap(old, m) {
		for j := i * w.stride; j < (i+1)*w.stride; j++ {
			w.counts[j].Store(0)
		}
	}
	return i * w.stride
}

func class(code int) int {
	return min(max(code/100-2, 0), classes-1)
}

// routeTraffic is what a route allocates on its first request.
type routeTraffic struct {
	win    window
	bounds []float64       // the server's, shared
	cum    []atomic.Uint64 // since the first request, per duration bucket, for /metrics
}

// record counts one finished request on the route.
func (s *routeStats) record(t *traffic, code int, d time.Duration, now int64) {
	rt := s.traffic.Load()
	if rt == nil {
		rt = &routeTraffic{win: *newWindow(classes+len(t.nanos)+1, now), bounds: t.bounds,
			cum: make([]atomic.Uint64, len(t.nanos)+1)}
		if !s.traffic.CompareAndSwap(nil, rt) {
			rt = s.traffic.Load()
		}
	}
	b := bucket(t.nanos, d)
	i := rt.win.slot(now)
	rt.win.counts[i+class(code)].Add(1)
	rt.win.counts[i+classes+b].Add(1)
	rt.cum[b].Add(1)
	if code >= 500 {
		t.failed(s, code, d, now)
	}
}

// backendTraffic is what a backend allocates on its first answer or
// failure: its window (status classes and duration buckets, like a
// route's), its classes and durations since then for /metrics.
type backendTraffic struct {
	win      window
	bounds   []float64 // the server's, shared
	nanos    []int64   // the same in nanoseconds, shared
	cum      [classes]atomic.Uint64
	dur      []atomic.Uint64 // answers per duration bucket
	sumNanos atomic.Uint64   // the answers' durations added up
	// failedAt and failKind describe the backend's last failure, for the
	// recent errors: unix nanoseconds, and failNoAnswer or failAnswered.
	failedAt atomic.Int64
	failKind atomic.Uint32
}

const (
	failNoAnswer uint32 = iota + 1 // refused, reset, timed out
	failAnswered                   // answered 5xx
)

// note counts one attempt's outcome on the backend: code is the status it
// answered, 0 when it did not answer; took is the time to its answer,
// negative when it did not answer.
func (b *backend) note(code int, now time.Time, took time.Duration) {
	ns := now.UnixNano()
	bt := b.traffic.Load()
	if bt == nil {
		bt = b.newTraffic(ns)
		if !b.traffic.CompareAndSwap(nil, bt) {
			bt = b.traffic.Load()
		}
	}
	c := classes - 1
	if code != 0 {
		c = class(code)
	}
	i := bt.win.slot(ns)
	bt.win.counts[i+c].Add(1)
	bt.cum[c].Add(1)
	if took >= 0 {
		d := bucket(bt.nanos, took)
		bt.win.counts[i+classes+d].Add(1)
		bt.dur[d].Add(1)
		bt.sumNanos.Add(uint64(took))
	}
	if c == classes-1 && b.owner != nil {
		kind := failAnswered
		if code == 0 {
			kind = failNoAnswer
		}
		bt.failKind.Store(kind)
		bt.failedAt.Store(ns)
		b.owner.lastFailed.Store(b)
	}
}

// newTraffic allocates the backend's traffic with its route's server's
// duration buckets (the default ones for a backend outside a server, in
// tests).
func (b *backend) newTraffic(now int64) *backendTraffic {
	t := defaultBuckets
	if b.owner != nil && b.owner.shared != nil {
		t = b.owner.shared
	}
	n := len(t.nanos) + 1
	return &backendTraffic{win: *newWindow(classes+n, now), bounds: t.bounds, nanos: t.nanos,
		dur: make([]atomic.Uint64, n)}
}

// defaultBuckets holds the default bounds, for backends without a server.
var defaultBuckets = func() *traffic {
	t := new(traffic)
	t.init(nil)
	return t
}()

// errorEntry is one recent error as stored: pointers to strings that
// outlive it, so that recording allocates nothing.
type errorEntry struct {
	at      int64
	d       time.Duration
	route   *routeStats
	backend *backend
	code    int32
	kind    uint32
}

// failed records a 5xx answer on the route in the recent errors, with the
// backend that failed during the request, if one did.
func (t *traffic) failed(s *routeStats, code int, d time.Duration, now int64) {
	e := errorEntry{at: now, d: d, route: s, code: int32(code)}
	if b := s.lastFailed.Load(); b != nil {
		if bt := b.traffic.Load(); bt != nil && bt.failedAt.Load() >= now-int64(d) {
			e.backend, e.kind = b, bt.failKind.Load()
		}
	}
	t.mu.Lock()
	t.errors[t.next%RecentErrorsKept] = e
	t.next++
	t.mu.Unlock()
}

// ErrorRecord is one recent 5xx answer. It never holds a header value, a
// body, a query string or even a path: only what identifies the failure.
type ErrorRecord struct {
	Time     time.Time
	Route    string // the route's ID
	Backend  string // the backend's URL; empty when none failed during the request
	Status   int
	Duration time.Duration
	Reason   string
}

// RecentErrors returns the last RecentErrorsKept 5xx answers on routes,
// newest first.
func (s *Server) RecentErrors() []ErrorRecord {
	t := &s.traffic
	t.mu.Lock()
	n := min(t.next, RecentErrorsKept)
	entries := make([]errorEntry, 0, n)
	for i := range n {
		entries = append(entries, t.errors[(t.next-1-i)%RecentErrorsKept])
	}
	t.mu.Unlock()
	out := make([]ErrorRecord, 0, len(entries))
	for _, e := range entries {
		r := ErrorRecord{Time: time.Unix(0, e.at), Route: e.route.id, Status: int(e.code), Duration: e.d}
		switch {
		case e.backend != nil && e.kind == failNoAnswer && e.code == 504:
			r.Backend, r.Reason = e.backend.url, "the backend did not answer in time"
		case e.backend != nil && e.kind == failNoAnswer:
			r.Backend, r.Reason = e.backend.url, "the backend did not answer (connection refused, reset or broken)"
		case e.backend != nil:
			r.Backend, r.Reason = e.backend.url, "the backend answered with an error status"
		case e.code == 503:
			r.Reason = "no backend available (all failing, drained or none)"
		case e.code == 504:
			r.Reason = "timed out"
		default:
			r.Reason = "the edge or a middleware answered with an error status"
		}
		out = append(out, r)
	}
	return out
}

// Windows are the minutes Traffic reports on.
var Windows = [...]int{1, 5, 15}

// TrafficWindow is what a route or backend served over one window.
type TrafficWindow struct {
	Minutes int
	// Requests is the number of finished requests in the window; RPS is
	// it per second of the window (or of the time since the first
	// request, when that is shorter).
	Requests float64
	RPS      float64
	// Classes are the responses by status class: 2xx (with 1xx), 3xx,
	// 4xx, 5xx (with a backend's failures to answer).
	Classes [classes]float64
	// Timed is the part of Requests that has a duration: all of a
	// route's, a backend's answers (not its failures to answer).
	Timed float64
	// Quantiles are the p50, p95 and p99 latencies of the timed requests
	// in seconds, interpolated within the duration buckets. A quantile
	// beyond the last bound reports that bound, and its Beyond entry
	// (p50, p95, p99) says so. Zero when Timed is.
	P50, P95, P99 float64
	Beyond        [3]bool
}

// Traffic is a route's or backend's recent traffic.
type Traffic struct {
	Windows []TrafficWindow // 1, 5 and 15 minutes
	// PerMinute are the requests, and Errors the 5xx, of each of the last
	// 15 minutes, oldest first; the last is the current minute so far.
	PerMinute [15]uint64
	Errors    [15]uint64
}

// report reads the window at now; bounds are its duration buckets'.
func (w *window) report(now int64, bounds []float64) Traffic {
	var out Traffic
	m := now / int64(time.Minute)
	frac := float64(now%int64(time.Minute)) / float64(time.Minute)
	// counts of the minute m-k, or nil when the slot holds another minute.
	minute := func(k int64) []atomic.Uint32 {
		i := int((m - k) % trafficSlots)
		if w.minute[i].Load() != m-k {
			return nil
		}
		return w.counts[i*w.stride : (i+1)*w.stride]
	}
	for k := range int64(15) {
		if c := minute(k); c != nil {
			var n uint64
			for j := range classes {
				n += uint64(c[j].Load())
			}
			out.PerMinute[14-k] = n
			out.Errors[14-k] = uint64(c[classes-1].Load())
		}
	}
	for _, mins := range Windows {
		tw := TrafficWindow{Minutes: mins}
		buckets := make([]float64, max(w.stride-classes, 0))
		// The window is the last mins*60 seconds: this minute so far,
		// the mins-1 before it, and the part of the one before those
		// that is still inside.
		for k := int64(0); k <= int64(mins); k++ {
			c := minute(k)
			if c == nil {
				continue
			}
			weight := 1.0
			if k == int64(mins) {
				weight = 1 - frac
			}
			for j := range classes {
				v := weight * float64(c[j].Load())
				tw.Classes[j] += v
				tw.Requests += v
			}
			for j := range buckets {
				v := weight * float64(c[classes+j].Load())
				buckets[j] += v
				tw.Timed += v
			}
		}
		span := min(float64(mins*60), float64(now-w.born)/float64(time.Second))
		if tw.Requests > 0 {
			tw.RPS = tw.Requests / max(span, 1)
		}
		if tw.Timed > 0 {
			tw.P50, tw.Beyond[0] = quantile(0.50, buckets, bounds)
			tw.P95, tw.Beyond[1] = quantile(0.95, buckets, bounds)
			tw.P99, tw.Beyond[2] = quantile(0.99, buckets, bounds)
		}
		out.Windows = append(out.Windows, tw)
	}
	return out
}

// quantile interpolates the q-quantile within the buckets, as Prometheus'
// histogram_quantile does; beyond the last bound it returns that bound and
// true.
func quantile(q float64, buckets, bounds []float64) (float64, bool) {
	var total float64
	for _, v := range buckets {
		total += v
	}
	if total == 0 {
		return 0, false
	}
	rank := q * total
	var cum float64
	for i, v := range buckets {
		if cum+v >= rank && v > 0 {
			if i == len(bounds) {
				return bounds[len(bounds)-1], true
			}
			lo := 0.0
			if i > 0 {
				lo = bounds[i-1]
			}
			return lo + (bounds[i]-lo)*(rank-cum)/v, false
		}
		cum += v
	}
	return bounds[len(bounds)-1], true
}

// ID names the route the way every report does (the dashboard, its API,
// /metrics, the recent errors): provider/name, unique within a table.
func (r *Route) ID() string { return r.stats.id }

// Traffic returns the route's recent traffic at now; zeros before its
// first request.
func (r *Route) Traffic(now time.Time) Traffic {
	rt := r.stats.traffic.Load()
	if rt == nil {
		return emptyTraffic()
	}
	return rt.win.report(now.UnixNano(), rt.bounds)
}

// BackendTraffic returns the recent traffic of each backend, parallel to
// Backends: a backend's failures to answer count as 5xx, its latency is
// the time to its answers' response heads.
func (r *Route) BackendTraffic(now time.Time) []Traffic {
	out := make([]Traffic, len(r.backends))
	for i, b := range r.backends {
		if bt := b.traffic.Load(); bt != nil {
			out[i] = bt.win.report(now.UnixNano(), bt.bounds)
		} else {
			out[i] = emptyTraffic()
		}
	}
	return out
}

// BackendClasses returns each backend's responses by status class since
// its first request, parallel to Backends.
func (r *Route) BackendClasses() [][classes]uint64 {
	out := make([][classes]uint64, len(r.backends))
	for i, b := range r.backends {
		if bt := b.traffic.Load(); bt != nil {
			for j := range classes {
				out[i][j] = bt.cum[j].Load()
			}
		}
	}
	return out
}

// BackendDurations is a backend's answers by duration since its first
// request, for /metrics: Buckets[i] counts those that took at most
// Bounds[i] (and more than the bound before), the last entry the slower
// ones; not cumulative. Sum is their durations added up.
type BackendDurations struct {
	Bounds  []float64
	Buckets []uint64
	Sum     time.Duration
}

// BackendDurations returns each backend's answer durations, parallel to
// Backends; zero (nil Buckets) before its first request.
func (r *Route) BackendDurations() []BackendDurations {
	out := make([]BackendDurations, len(r.backends))
	for i, b := range r.backends {
		bt := b.traffic.Load()
		if bt == nil {
			continue
		}
		d := BackendDurations{Bounds: bt.bounds, Buckets: make([]uint64, len(bt.dur)), Sum: time.Duration(bt.sumNanos.Load())}
		for j := range bt.dur {
			d.Buckets[j] = bt.dur[j].Load()
		}
		out[i] = d
	}
	return out
}

func emptyTraffic() Traffic {
	out := Traffic{}
	for _, m := range Windows {
		out.Windows = append(out.Windows, TrafficWindow{Minutes: m})
	}
	return out
}
