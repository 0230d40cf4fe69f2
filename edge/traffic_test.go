package edge

import (
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// Traffic through the edge shows in its route's and backends' windows, in
// every proxy design and on HTTP/1.1 and HTTP/2; a backend that does not
// answer shows in the recent errors with its address and why, never with
// the request's path or query.
func TestTrafficThroughTheEdge(t *testing.T) {
	inModes(t, func(t *testing.T, mode func(*Config)) {
		ok := newBackend(t, "ok")
		te := startEdge(t, mode)
		te.srv.Update(snapshot(
			svc("app", "Host:app.test.local", ok.URL),
			svc("dead", "Host:dead.test.local", "http://127.0.0.1:1"),
		))
		for _, h2 := range []bool{false, true} {
			c := te.client(h2)
			for range 5 {
				get(t, c, hostURL(te, "app.test.local", "/?token=s3cret"))
			}
			resp, _ := get(t, c, hostURL(te, "dead.test.local", "/private/path?token=s3cret"))
			if resp.StatusCode != http.StatusBadGateway {
				t.Fatalf("dead backend: %d", resp.StatusCode)
			}
		}
		now := time.Now()
		var app, dead *Route
		for _, rt := range te.srv.Table().Routes() {
			switch rt.ID() {
			case "file/app":
				app = rt
			case "file/dead":
				dead = rt
			}
		}
		if app == nil || dead == nil {
			t.Fatal("routes file/app and file/dead not found by ID")
		}
		// The accounting ends just after the answer reaches the client.
		for deadline := time.Now().Add(5 * time.Second); app.Stats().Requests < 10 || dead.Stats().Requests < 2; {
			if time.Now().After(deadline) {
				t.Fatalf("requests never counted: %+v %+v", app.Stats(), dead.Stats())
			}
			time.Sleep(time.Millisecond)
		}
		now = time.Now()
		tr := app.Traffic(now)
		for _, w := range tr.Windows {
			if w.Requests != 10 || w.Classes[0] != 10 || w.RPS <= 0 {
				t.Errorf("app %dm window: %+v", w.Minutes, w)
			}
			if w.P50 <= 0 || w.P50 > w.P99 || w.P99 > 10 {
				t.Errorf("app %dm quantiles: %v %v %v", w.Minutes, w.P50, w.P95, w.P99)
			}
		}
		if tr.PerMinute[14] != 10 || tr.Errors[14] != 0 {
			t.Errorf("app this minute: %d requests, %d errors", tr.PerMinute[14], tr.Errors[14])
		}
		bt := app.BackendTraffic(now)
		if len(bt) != 1 || bt[0].Windows[0].Classes[0] != 10 {
			t.Fatalf("app backend traffic %+v", bt)
		}
		// The backend's answers are timed to their heads: within the
		// route's whole requests.
		for i, w := range bt[0].Windows {
			if w.Timed != 10 || w.P50 <= 0 || w.P50 > w.P95 || w.P95 > w.P99 || w.P99 > tr.Windows[i].P99 {
				t.Errorf("app backend %dm latency: timed %v, %v %v %v (route p99 %v)", w.Minutes, w.Timed, w.P50, w.P95, w.P99, tr.Windows[i].P99)
			}
		}
		if d := app.BackendDurations(); len(d) != 1 || sum(d[0].Buckets) != 10 || d[0].Sum <= 0 {
			t.Errorf("app backend durations %+v", d)
		}
		// A backend that never answered has failures, no latency.
		if w := dead.BackendTraffic(now)[0].Windows[0]; w.Classes[3] != 2 || w.Timed != 0 || w.P50 != 0 {
			t.Errorf("dead backend window %+v", w)
		}
		if d := dead.BackendDurations(); sum(d[0].Buckets) != 0 {
			t.Errorf("dead backend durations %+v", d)
		}
		dt := dead.Traffic(now)
		if dt.Windows[0].Classes[3] != 2 || dt.Errors[14] != 2 {
			t.Errorf("dead route: %+v", dt.Windows[0])
		}
		if c := dead.BackendClasses(); c[0][3] != 2 {
			t.Errorf("dead backend classes %v", c)
		}
		errs := te.srv.RecentErrors()
		if len(errs) != 2 {
			t.Fatalf("%d recent errors, want 2: %+v", len(errs), errs)
		}
		for _, e := range errs {
			if e.Route != "file/dead" || e.Backend != "http://127.0.0.1:1" || e.Status != http.StatusBadGateway ||
				!strings.Contains(e.Reason, "did not answer") || e.Duration <= 0 || time.Since(e.Time) > time.Minute {
				t.Errorf("recent error %+v", e)
			}
		}
		if !errs[0].Time.After(errs[1].Time) && !errs[0].Time.Equal(errs[1].Time) {
			t.Error("recent errors are not newest first")
		}
	})
}

// The windows are the last 1, 5 and 15 minutes: counts move out of them
// as minutes pass, and the slot of a new minute starts empty.
func TestTrafficWindows(t *testing.T) {
	var tr traffic
	tr.init(nil)
	var s routeStats
	s.id = "file/app"
	base := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC).UnixNano()
	at := func(min, sec int) int64 { return base + int64(min)*int64(time.Minute) + int64(sec)*int64(time.Second) }
	// 60 requests of 20 ms in minute 0, 30 of 2 s with a 500 in minute 3,
	// 6 of 200 ms in minute 10.
	for range 60 {
		s.record(&tr, 200, 20*time.Millisecond, at(0, 30))
	}
	for range 30 {
		s.record(&tr, 500, 2*time.Second, at(3, 10))
	}
	for range 6 {
		s.record(&tr, 404, 200*time.Millisecond, at(10, 0))
	}
	rep := s.traffic.Load().win.report(at(10, 30), tr.bounds)
	want := map[int]float64{1: 6, 5: 6, 15: 96}
	for _, w := range rep.Windows {
		if w.Requests != want[w.Minutes] {
			t.Errorf("%dm window: %v requests, want %v", w.Minutes, w.Requests, want[w.Minutes])
		}
	}
	w15 := rep.Windows[2]
	if w15.Classes != [4]float64{60, 0, 6, 30} {
		t.Errorf("15m classes %v", w15.Classes)
	}
	if math.Abs(w15.RPS-96.0/600) > 1e-9 { // the first request was 10 minutes before
		t.Errorf("15m rps %v", w15.RPS)
	}
	// p50 falls in the 10-25 ms bucket, p99 in the 1-2.5 s one.
	if w15.P50 <= 0.01 || w15.P50 > 0.025 || w15.P99 <= 1 || w15.P99 > 2.5 || w15.Beyond != [3]bool{} {
		t.Errorf("15m quantiles %v %v %v beyond=%v", w15.P50, w15.P95, w15.P99, w15.Beyond)
	}
	if rep.PerMinute != [15]uint64{4: 60, 7: 30, 14: 6} || rep.Errors != [15]uint64{7: 30} {
		t.Errorf("per minute %v, errors %v", rep.PerMinute, rep.Errors)
	}
	// Twenty minutes later everything has left the windows; a request in
	// the slot that held minute 0 counts alone.
	s.record(&tr, 200, time.Millisecond, at(16, 0))
	rep = s.traffic.Load().win.report(at(16, 1), tr.bounds)
	if rep.Windows[0].Requests != 1 || rep.Windows[2].Requests < 36 {
		t.Errorf("after the rollover: %+v", rep.Windows)
	}
	rep = s.traffic.Load().win.report(at(40, 0), tr.bounds)
	for _, w := range rep.Windows {
		if w.Requests != 0 || w.RPS != 0 {
			t.Errorf("%dm window 24 minutes later: %+v", w.Minutes, w)
		}
	}
}

// A backend's answers are timed from the attempt's start to the response
// head, in the server's buckets (Traefik's setting honoured); its failures
// to answer count as 5xx without a duration.
func TestBackendLatency(t *testing.T) {
	var tr traffic
	tr.init([]float64{0.01, 0.05, 0.2, 1})
	var s routeStats
	s.id, s.shared = "file/app", &tr
	b := &backend{url: "http://10.0.0.1", owner: &s}
	for range 90 { // 30 ms: the 10-50 ms bucket
		b.start()
		b.responded(200, time.Now().Add(-30*time.Millisecond).UnixNano())
	}
	for range 10 { // 500 ms: the 200 ms-1 s bucket
		b.start()
		b.responded(503, time.Now().Add(-500*time.Millisecond).UnixNano())
	}
	for range 5 {
		b.start()
		b.failed()
	}
	rt := Route{compiledRoute: &compiledRoute{}}
	rt.backends = []*backend{b}
	w := rt.BackendTraffic(time.Now())[0].Windows[0]
	if w.Requests != 105 || w.Timed != 100 || w.Classes != [4]float64{90, 0, 0, 15} {
		t.Errorf("window %+v", w)
	}
	if w.P50 <= 0.01 || w.P50 > 0.05 || w.P99 <= 0.2 || w.P99 > 1 || w.Beyond != [3]bool{} {
		t.Errorf("quantiles %v %v %v beyond=%v", w.P50, w.P95, w.P99, w.Beyond)
	}
	d := rt.BackendDurations()[0]
	if len(d.Bounds) != 4 || d.Bounds[3] != 1 || !slices.Equal(d.Buckets, []uint64{0, 90, 0, 10, 0}) ||
		d.Sum < 90*30*time.Millisecond+10*500*time.Millisecond {
		t.Errorf("durations %+v", d)
	}
}

func sum(n []uint64) (t uint64) {
	for _, v := range n {
		t += v
	}
	return t
}

func TestQuantile(t *testing.T) {
	bounds := []float64{0.1, 0.5, 1}
	for _, tc := range []struct {
		q       float64
		buckets []float64
		want    float64
		beyond  bool
	}{
		{0.5, []float64{10, 0, 0, 0}, 0.05, false},
		{0.5, []float64{0, 10, 0, 0}, 0.3, false},
		{0.99, []float64{99, 0, 0, 1}, 0.1, false},
		{0.99, []float64{90, 0, 0, 10}, 1, true},
		{0.5, []float64{0, 0, 0, 0}, 0, false},
	} {
		got, beyond := quantile(tc.q, tc.buckets, bounds)
		if math.Abs(got-tc.want) > 1e-9 || beyond != tc.beyond {
			t.Errorf("quantile(%v, %v) = %v, %v; want %v, %v", tc.q, tc.buckets, got, beyond, tc.want, tc.beyond)
		}
	}
}

// Recording a request allocates nothing once the route has served one: no
// lock, no map write, fixed arrays. A 5xx takes the errors' lock but
// allocates nothing either.
func TestRecordingAllocatesNothing(t *testing.T) {
	var tr traffic
	tr.init(nil)
	var s routeStats
	s.id = "file/app"
	s.shared = &tr
	b := &backend{url: "http://10.0.0.1", owner: &s}
	start := time.Now()
	s.observe(&tr, 200, start)
	s.observe(&tr, 502, start)
	b.responded(200, b.start())
	b.failed()
	for name, f := range map[string]func(){
		"route 200":       func() { s.observe(&tr, 200, start) },
		"route 502":       func() { s.observe(&tr, 502, start) },
		"backend":         func() { b.responded(200, b.start()) },
		"backend failure": func() { b.start(); b.failed() },
	} {
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s: %v allocations per request", name, n)
		}
	}
}

func TestBucketsValidated(t *testing.T) {
	for _, b := range [][]float64{{0.1, 0.1}, {-1}, {0.5, 0.2}, make([]float64, 31)} {
		if _, err := New(Config{HTTPAddr: ":0", DurationBuckets: b}); err == nil {
			t.Errorf("buckets %v accepted", b)
		}
	}
	s, err := New(Config{HTTPAddr: ":0", DurationBuckets: []float64{0.1, 0.3, 1.2, 5}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.DurationBuckets(); len(got) != 4 || got[3] != 5 {
		t.Errorf("DurationBuckets() = %v", got)
	}
	s.Update(snapshot(svc("app", "Host:app.test.local", newBackend(t, "ok").URL)))
	s.HTTPHandler().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "http://app.test.local/", nil))
	st := s.Table().Routes()[0].Stats()
	if len(st.Bounds) != 4 || len(st.Buckets) != 5 || st.Requests != 1 {
		t.Errorf("stats with Traefik's buckets: %+v", st)
	}
}

// BenchmarkRecord is the cost of recording one finished request.
func BenchmarkRecord(b *testing.B) {
	var tr traffic
	tr.init(nil)
	var s routeStats
	start := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		s.observe(&tr, 200, start)
	}
}

// BenchmarkRecordTraffic is the part this file adds to a request: the
// window's slot, two counters and the cumulative bucket.
func BenchmarkRecordTraffic(b *testing.B) {
	var tr traffic
	tr.init(nil)
	var s routeStats
	now := time.Now().UnixNano()
	b.ReportAllocs()
	for b.Loop() {
		s.record(&tr, 200, 3*time.Millisecond, now)
	}
}

// The sizes the comments and docs state: with the default bounds a route's
// traffic is about 1.3 KiB and a backend's about 1.5 KiB, allocated on
// first use.
func TestTrafficSize(t *testing.T) {
	var tr traffic
	tr.init(nil)
	const n = 1000
	measure := func(f func()) float64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		return float64(after.TotalAlloc-before.TotalAlloc) / n
	}
	routes := make([]routeStats, n)
	backends := make([]backend, n)
	for i := range backends {
		backends[i].owner = &routes[i]
		routes[i].shared = &tr
	}
	now := time.Now().UnixNano()
	perRoute := measure(func() {
		for i := range routes {
			routes[i].record(&tr, 200, time.Millisecond, now)
		}
	})
	perBackend := measure(func() {
		for i := range backends {
			backends[i].note(200, time.Unix(0, now), time.Millisecond)
		}
	})
	t.Logf("%.0f bytes per route, %.0f per backend", perRoute, perBackend)
	if perRoute > 1.35*1024 || perBackend > 1.55*1024 {
		t.Errorf("%.0f bytes per route, %.0f per backend: more than the 1.3 and 1.5 KiB the docs state", perRoute, perBackend)
	}
}

// BenchmarkBackendAttempt is the accounting of one attempt that gets an
// answer: start, responded (now timing the answer into the backend's
// duration buckets) and finished.
func BenchmarkBackendAttempt(b *testing.B) {
	var tr traffic
	tr.init(nil)
	var s routeStats
	s.shared = &tr
	be := &backend{url: "http://10.0.0.1", owner: &s}
	be.healthy.Store(true)
	b.ReportAllocs()
	for b.Loop() {
		be.responded(200, be.start())
		be.finished()
	}
}
