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
// reads make about 1.3 KiB per route with traffic and 1.5 KiB per backend
// (which also keeps its status classes since its first answer, and the
// last minute's error rate): 10,000 busy routes with 20,000 backends add
// some 43 MiB. A route times its requests
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
	errs     errorWindow // the last minute's error rate, for the dashboard
	bounds   []float64   // the server's, shared
	nanos    []int64     // the same in nanoseconds, shared
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
	bt.errs.add(now, code == 0 || code >= 500)
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
