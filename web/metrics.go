package web

import (
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rancher-edge/edge/edge"
)

// newRegistry builds a registry of its own (never the global default, so
// two servers in one process do not collide) with the edge collector and
// the Go runtime and process collectors.
func newRegistry(s *Server) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{
		newCollector(s),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return reg, nil
}

func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{
		// A collector problem loses some series, not the whole scrape.
		ErrorHandling: promhttp.ContinueOnError,
		ErrorLog:      promLogger{s},
	})
}

// promLogger sends promhttp's errors to the server's logger.
type promLogger struct{ s *Server }

func (l promLogger) Println(v ...any) {
	parts := make([]string, len(v))
	for i, x := range v {
		if err, ok := x.(error); ok {
			parts[i] = err.Error()
		} else if str, ok := x.(string); ok {
			parts[i] = str
		}
	}
	l.s.log.Warn("metrics: " + strings.Join(parts, " "))
}

// collector builds every edge series from the live state at scrape time.
// Nothing is registered per route or certificate, so a series disappears
// as soon as its route or certificate does (traefik#8606).
type collector struct {
	s *Server

	info, generation, requests, duration, inflight, backendUp *prometheus.Desc
	backendResponses, backendDuration                         *prometheus.Desc
	unrouted, syncs, syncAge, certExpiry, storageUp           *prometheus.Desc
}

func newCollector(s *Server) *collector {
	return &collector{
		s: s,
		info: prometheus.NewDesc("edge_build_info", "The edge's version; always 1.",
			[]string{"version"}, nil),
		generation: prometheus.NewDesc("edge_table_generation", "Routing tables published since start.", nil, nil),
		requests: prometheus.NewDesc("edge_requests_total", "Finished requests by route and status code.",
			[]string{"route", "code"}, nil),
		duration: prometheus.NewDesc("edge_request_duration_seconds", "Request duration by route.",
			[]string{"route"}, nil),
		inflight: prometheus.NewDesc("edge_requests_in_flight", "Requests being served now, by route.",
			[]string{"route"}, nil),
		backendUp: prometheus.NewDesc("edge_backend_up", "1 when the backend may receive requests (passing), 0 when failing or drained.",
			[]string{"route", "backend"}, nil),
		backendResponses: prometheus.NewDesc("edge_backend_responses_total",
			"Answers by backend and status class (2xx with 1xx, 3xx, 4xx, 5xx with failures to answer), retried attempts included.",
			[]string{"route", "backend", "class"}, nil),
		backendDuration: prometheus.NewDesc("edge_backend_response_duration_seconds",
			"Time from sending a request to the backend to its response head, by backend; answers only (failures to answer are in edge_backend_responses_total).",
			[]string{"route", "backend"}, nil),
		unrouted: prometheus.NewDesc("edge_unrouted_requests_total", "Requests that matched no route.", nil, nil),
		syncs: prometheus.NewDesc("edge_discovery_syncs_total",
			"Discovery syncs by provider and result (ok, error): reads that saw new content or failed; an unchanged poll is no sync.",
			[]string{"provider", "result"}, nil),
		syncAge: prometheus.NewDesc("edge_discovery_last_success_age_seconds",
			"Seconds since the provider last read its source successfully; +Inf if it never has.",
			[]string{"provider"}, nil),
		certExpiry: prometheus.NewDesc("edge_certificate_expiry_timestamp_seconds",
			"NotAfter of each certificate served, in seconds since the epoch, including the default certificate.",
			[]string{"id", "names", "source", "default"}, nil),
		storageUp: prometheus.NewDesc("edge_acme_storage_up",
			"1 while the ACME storage (file, etcd or kubernetes) answers, 0 while it is unavailable; orders and renewals wait meanwhile.",
			[]string{"backend"}, nil),
	}
}

// Describe sends every descriptor; the label values are only known at
// scrape time.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.info, c.generation, c.requests, c.duration, c.inflight,
		c.backendUp, c.backendResponses, c.backendDuration, c.unrouted, c.syncs, c.syncAge, c.certExpiry, c.storageUp} {
		ch <- d
	}
}

// Collect reads the sources once and emits every series.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	src := c.s.cfg.Sources
	st := c.s.read()
	ch <- prometheus.MustNewConstMetric(c.info, prometheus.GaugeValue, 1, src.Version)
	if src.Unrouted != nil {
		ch <- prometheus.MustNewConstMetric(c.unrouted, prometheus.CounterValue, float64(src.Unrouted()))
	}
	if st.table != nil {
		ch <- prometheus.MustNewConstMetric(c.generation, prometheus.GaugeValue, float64(st.table.Generation()))
	}
	// Routes beyond the first MetricsMaxRoutes (in match order) add up
	// into route="_other", so a table of 10,000 routes cannot blow up
	// the scrape.
	bounds := c.bounds()
	other := newRouteSeries(bounds)
	seen := make(map[string]bool)
	for _, rt := range st.routes() {
		id := rt.ID()
		if seen[id] {
			continue // a duplicate label set would fail the whole family
		}
		if len(seen) >= c.s.maxRoutes {
			other.add(rt)
			continue
		}
		seen[id] = true
		one := newRouteSeries(bounds)
		one.add(rt)
		c.emitRoute(ch, id, one)
		c.emitBackends(ch, id, rt, bounds)
	}
	if other.routes > 0 {
		c.emitRoute(ch, otherRoutes, other)
		for i, n := range other.backendClasses {
			ch <- prometheus.MustNewConstMetric(c.backendResponses, prometheus.CounterValue, float64(n),
				otherRoutes, otherRoutes, classNames[i])
		}
		ch <- histogram(c.backendDuration, bounds, other.backendDurations, other.backendSum, otherRoutes, otherRoutes)
	}
	provSeen := make(map[string]bool)
	for _, ps := range st.providers {
		if provSeen[ps.Name] {
			continue
		}
		provSeen[ps.Name] = true
		ch <- prometheus.MustNewConstMetric(c.syncs, prometheus.CounterValue, float64(ps.Syncs), ps.Name, "ok")
		ch <- prometheus.MustNewConstMetric(c.syncs, prometheus.CounterValue, float64(ps.Errors), ps.Name, "error")
		age := math.Inf(1)
		if !ps.LastSuccess.IsZero() {
			age = max(st.now.Sub(ps.LastSuccess).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(c.syncAge, prometheus.GaugeValue, age, ps.Name)
	}
	if src.Storage != nil {
		ss := src.Storage()
		up := 0.0
		if ss.State == "ok" {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(c.storageUp, prometheus.GaugeValue, up, ss.Backend)
	}
	certSeen := make(map[string]bool)
	for _, cs := range st.certs {
		// Pending, failed-without-certificate and skipped rows have no
		// expiry to report.
		if cs.NotAfter.IsZero() || certSeen[cs.ID] {
			continue
		}
		certSeen[cs.ID] = true
		ch <- prometheus.MustNewConstMetric(c.certExpiry, prometheus.GaugeValue,
			float64(cs.NotAfter.Unix()), cs.ID, strings.Join(cs.Names, ","), cs.Source, strconv.FormatBool(cs.Default))
	}
}

// otherRoutes is the route (and backend) label of the routes beyond
// Config.MetricsMaxRoutes, added up.
const otherRoutes = "_other"

// routeSeries adds up the counters of one route, or of many.
type routeSeries struct {
	routes         int
	bounds         []float64
	codes          map[int]uint64
	buckets        []uint64 // per bucket, the last for slower requests
	sum            float64
	inflight       int64
	backendClasses [4]uint64
	// backendDurations and backendSum add up the backends' answer
	// durations, like buckets and sum (only _other reports them).
	backendDurations []uint64
	backendSum       float64
}

func newRouteSeries(bounds []float64) *routeSeries {
	return &routeSeries{bounds: bounds, codes: make(map[int]uint64), buckets: make([]uint64, len(bounds)+1),
		backendDurations: make([]uint64, len(bounds)+1)}
}

func (r *routeSeries) add(rt *edge.Route) {
	st := rt.Stats()
	r.routes++
	for code, n := range st.Codes {
		r.codes[code] += n
	}
	if len(st.Buckets) == len(r.buckets) {
		for i, n := range st.Buckets {
			r.buckets[i] += n
		}
	}
	r.sum += st.DurationSum.Seconds()
	r.inflight += st.InFlight
	for _, c := range rt.BackendClasses() {
		for i, n := range c {
			r.backendClasses[i] += n
		}
	}
	for _, d := range rt.BackendDurations() {
		if len(d.Buckets) == len(r.backendDurations) {
			for i, n := range d.Buckets {
				r.backendDurations[i] += n
			}
		}
		r.backendSum += d.Sum.Seconds()
	}
}

func (c *collector) emitRoute(ch chan<- prometheus.Metric, id string, r *routeSeries) {
	for code, n := range r.codes {
		ch <- prometheus.MustNewConstMetric(c.requests, prometheus.CounterValue, float64(n), id, strconv.Itoa(code))
	}
	ch <- histogram(c.duration, r.bounds, r.buckets, r.sum, id)
	ch <- prometheus.MustNewConstMetric(c.inflight, prometheus.GaugeValue, float64(r.inflight), id)
}

// histogram turns the edge's per-bucket counts (the last for slower than
// every bound) into a Prometheus histogram over the server's bounds.
// Prometheus wants cumulative counts; the last entry is only in the total
// count, as the +Inf bucket. counts of another length (a backend that has
// not answered yet) read as zeros.
func histogram(d *prometheus.Desc, bounds []float64, counts []uint64, sum float64, labels ...string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(bounds))
	var cum, total uint64
	for i, b := range bounds {
		if len(counts) == len(bounds)+1 {
			cum += counts[i]
		}
		buckets[b] = cum
	}
	if len(counts) == len(bounds)+1 {
		total = cum + counts[len(bounds)]
	}
	return prometheus.MustNewConstHistogram(d, total, sum, buckets, labels...)
}

// bounds are the edge's duration buckets.
func (c *collector) bounds() []float64 {
	if b := c.s.cfg.Sources.DurationBuckets; b != nil {
		return b()
	}
	return edge.DefaultDurationBuckets
}

func (c *collector) emitBackends(ch chan<- prometheus.Metric, id string, rt *edge.Route, bounds []float64) {
	backends := make(map[string]bool)
	classes := rt.BackendClasses()
	durations := rt.BackendDurations()
	for i, b := range rt.Backends() {
		if backends[b.URL] {
			continue
		}
		backends[b.URL] = true
		up := 0.0
		if b.Health == "passing" {
			up = 1
		}
		url := redactURL(b.URL)
		ch <- prometheus.MustNewConstMetric(c.backendUp, prometheus.GaugeValue, up, id, url)
		for j, n := range classes[i] {
			ch <- prometheus.MustNewConstMetric(c.backendResponses, prometheus.CounterValue, float64(n), id, url, classNames[j])
		}
		ch <- histogram(c.backendDuration, bounds, durations[i].Buckets, durations[i].Sum.Seconds(), id, url)
	}
}
