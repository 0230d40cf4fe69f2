package edge

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// DurationBuckets are the upper bounds, in seconds, of the request
// duration histogram (Prometheus' default buckets).
var DurationBuckets = [...]float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// routeStats counts one route's requests. Like backends, it is kept by
// route identity across table generations, so a swap never resets counters
// (and /metrics never sees a counter go backwards).
type routeStats struct {
	inflight atomic.Int64
	codes    sync.Map // int status code -> *atomic.Uint64
	buckets  [len(DurationBuckets) + 1]atomic.Uint64
	sumNanos atomic.Uint64
	count    atomic.Uint64
}

func (s *routeStats) observe(code int, d time.Duration) {
	c, ok := s.codes.Load(code)
	if !ok {
		c, _ = s.codes.LoadOrStore(code, new(atomic.Uint64))
	}
	c.(*atomic.Uint64).Add(1)
	sec := d.Seconds()
	i := 0
	for i < len(DurationBuckets) && sec > DurationBuckets[i] {
		i++
	}
	s.buckets[i].Add(1)
	s.sumNanos.Add(uint64(d))
	s.count.Add(1)
}

// RouteStats is a point-in-time view of a route's counters.
type RouteStats struct {
	Requests uint64         // finished requests
	InFlight int64          // requests being served now
	Codes    map[int]uint64 // finished requests by status code
	// Buckets counts requests by duration: Buckets[i] are those that took
	// at most DurationBuckets[i] (and more than the bound before); the last
	// entry counts the slower ones. Not cumulative.
	Buckets     []uint64
	DurationSum time.Duration
}

// Stats returns the route's request counters.
func (r *Route) Stats() RouteStats {
	s := r.stats
	out := RouteStats{
		Requests:    s.count.Load(),
		InFlight:    s.inflight.Load(),
		Codes:       make(map[int]uint64),
		Buckets:     make([]uint64, len(s.buckets)),
		DurationSum: time.Duration(s.sumNanos.Load()),
	}
	s.codes.Range(func(k, v any) bool {
		out.Codes[k.(int)] = v.(*atomic.Uint64).Load()
		return true
	})
	for i := range s.buckets {
		out.Buckets[i] = s.buckets[i].Load()
	}
	return out
}

// Unrouted counts requests that matched no route (404).
func (s *Server) Unrouted() uint64 { return s.unrouted.Load() }

// recorder captures the status and size of a response for metrics and the
// access log. Recorders are pooled: the request path does not allocate one.
type recorder struct {
	http.ResponseWriter
	status int
	size   int64
}

func (l *recorder) WriteHeader(code int) {
	if l.status == 0 && code >= 200 {
		l.status = code
	}
	l.ResponseWriter.WriteHeader(code)
}

func (l *recorder) Write(p []byte) (int, error) {
	if l.status == 0 {
		l.status = http.StatusOK
	}
	n, err := l.ResponseWriter.Write(p)
	l.size += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush, Hijack and deadlines.
func (l *recorder) Unwrap() http.ResponseWriter { return l.ResponseWriter }

func (l *recorder) Flush() {
	if f, ok := l.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (l *recorder) code() int {
	if l.status == 0 {
		// A handler that wrote nothing answered 200; a hijacked
		// connection (WebSocket) is recorded as 101 by the proxy's
		// WriteHeader before the hijack.
		return http.StatusOK
	}
	return l.status
}
