package edge

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// routeStats counts one route's requests. Like backends, it is kept by
// route identity across table generations, so a swap never resets counters
// (and /metrics never sees a counter go backwards).
type routeStats struct {
	id       string // provider/name: Route.ID
	inflight atomic.Int64
	codes    sync.Map // int status code -> *atomic.Uint64
	sumNanos atomic.Uint64
	count    atomic.Uint64
	// traffic holds the duration histogram and the last minutes' counts;
	// nil until the route's first request (traffic.go).
	traffic atomic.Pointer[routeTraffic]
	// lastFailed is the route's backend that failed last, for the
	// recent errors.
	lastFailed atomic.Pointer[backend]
	// passive is the server's passive-health policy; nil when off.
	passive *passivePolicy
	// shared is the server's traffic state: the duration buckets the
	// route's backends time their answers in.
	shared *traffic
}

func (s *routeStats) observe(t *traffic, code int, start time.Time) {
	now := time.Now()
	d := now.Sub(start)
	c, ok := s.codes.Load(code)
	if !ok {
		c, _ = s.codes.LoadOrStore(code, new(atomic.Uint64))
	}
	c.(*atomic.Uint64).Add(1)
	s.record(t, code, d, now.UnixNano())
	s.sumNanos.Add(uint64(d))
	s.count.Add(1)
}

// RouteStats is a point-in-time view of a route's counters.
type RouteStats struct {
	Requests uint64         // finished requests
	InFlight int64          // requests being served now
	Codes    map[int]uint64 // finished requests by status code
	// Bounds are the duration buckets' upper bounds in seconds (the
	// server's DurationBuckets). Buckets counts requests by duration:
	// Buckets[i] are those that took at most Bounds[i] (and more than
	// the bound before); the last entry counts the slower ones. Not
	// cumulative; all zero before the route's first request.
	Bounds      []float64
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
		DurationSum: time.Duration(s.sumNanos.Load()),
	}
	s.codes.Range(func(k, v any) bool {
		out.Codes[k.(int)] = v.(*atomic.Uint64).Load()
		return true
	})
	if rt := s.traffic.Load(); rt != nil {
		out.Bounds = rt.bounds
		out.Buckets = make([]uint64, len(rt.cum))
		for i := range rt.cum {
			out.Buckets[i] = rt.cum[i].Load()
		}
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

	// dl is the writer's own write deadline, nil when it has none (the
	// edge's HTTP/2 server bounds its writes itself); extend keeps it
	// timeout (WriteTimeout) ahead of the last write, as writeDeadline
	// does on the fast path: net/http's server, without a WriteTimeout
	// (which would bound a whole response), and x/net/http2's, which
	// waits for flow-control window without a deadline, would otherwise
	// hold a stalled client's exchange forever.
	dl      writeDeadliner
	timeout time.Duration
	at      time.Time

	// An HTTP/2 answer's writes are watched by stallWatch instead:
	// writing is when the write under way began (unix nanoseconds, 0
	// when none); the rest is stallWatch's, under its mutex.
	writing    atomic.Int64
	watched    bool
	cut        bool
	prev, next *recorder
}

// writeDeadliner is what net/http's HTTP/1 and HTTP/2 response writers
// implement for http.ResponseController.SetWriteDeadline: a deadline on
// the connection, or on the stream (its reset when it passes).
type writeDeadliner interface{ SetWriteDeadline(time.Time) error }

// reset readies a pooled recorder for a request's writer. An HTTP/2
// answer with a deadline of its own goes on stalls' list: it must be
// taken off (stalls.remove) before the handler returns.
func (l *recorder) reset(w http.ResponseWriter, r *http.Request, timeout time.Duration, stalls *stallWatch) {
	l.ResponseWriter, l.status, l.size = w, 0, 0
	l.dl, l.timeout, l.at = nil, timeout, time.Time{}
	l.writing.Store(0)
	l.cut = false
	if d, ok := w.(writeDeadliner); ok {
		l.dl = d
		if r.ProtoMajor == 2 {
			stalls.add(l)
		}
	}
}

// extend moves the write deadline to WriteTimeout from now when less
// than half of it is left: a deadline moves a runtime timer (HTTP/1) or
// makes one (HTTP/2), so not on every write. Only once an answer is
// under way: before, the backend may think for longer, and a switched
// protocol's (WebSocket) tunnel must not inherit a deadline.
func (l *recorder) extend() {
	if l.dl == nil || l.status < 200 || l.watched {
		return
	}
	if now := time.Now(); l.at.Sub(now) < l.timeout/2 {
		l.at = now.Add(l.timeout)
		if l.dl.SetWriteDeadline(l.at) != nil {
			l.dl = nil
		}
	}
}

func (l *recorder) WriteHeader(code int) {
	if l.status == 0 && code >= 200 {
		l.status = code
		l.extend()
	}
	l.ResponseWriter.WriteHeader(code)
}

func (l *recorder) Write(p []byte) (int, error) {
	if l.status == 0 {
		l.status = http.StatusOK
	}
	l.extend()
	if l.watched {
		l.writing.Store(time.Now().UnixNano())
		defer l.writing.Store(0)
	}
	n, err := l.ResponseWriter.Write(p)
	l.size += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush, Hijack and deadlines.
func (l *recorder) Unwrap() http.ResponseWriter { return l.ResponseWriter }

func (l *recorder) Flush() {
	l.extend()
	if l.watched {
		l.writing.Store(time.Now().UnixNano())
		defer l.writing.Store(0)
	}
	if f, ok := l.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// recordStatus sets the status the counters and the access log record
// for a request answered without a response (499), through the
// middlewares' writers down to the recorder.
func recordStatus(w http.ResponseWriter, code int) {
	for {
		switch x := w.(type) {
		case *recorder:
			x.status = code
			return
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			return
		}
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
