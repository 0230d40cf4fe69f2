package edge

import (
	"sync/atomic"
	"time"
)

// Reading live traffic for the dashboard and /metrics: the windows of the
// last 1, 5 and 15 minutes with their quantiles, and the counts since a
// route's or backend's first request. Recording is in traffic.go; reading
// takes no lock and never slows it down.

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
