package web

import (
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/rancher-edge/edge/certs"
)

// scrape fetches /metrics over HTTP, checks the exposition is served, and
// returns the gathered families by name.
func scrape(t *testing.T, s *Server) (string, map[string]*dto.MetricFamily) {
	t.Helper()
	rec := get(t, s.Handler(), "/metrics")
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d: %s", rec.Code, rec.Body)
	}
	fams, err := s.reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := make(map[string]*dto.MetricFamily)
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return rec.Body.String(), out
}

func labels(m *dto.Metric) map[string]string {
	out := make(map[string]string)
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// find returns the series of family name whose labels include want.
func find(fams map[string]*dto.MetricFamily, name string, want map[string]string) []*dto.Metric {
	var out []*dto.Metric
	for _, m := range fams[name].GetMetric() {
		ls := labels(m)
		ok := true
		for k, v := range want {
			if ls[k] != v {
				ok = false
			}
		}
		if ok {
			out = append(out, m)
		}
	}
	return out
}

func TestMetrics(t *testing.T) {
	f := newFixture(t)
	f.waitFailing()
	f.serve("whoami.example.com", "/", 3)
	f.serve("whoami.example.com", "/teapot", 2)
	f.serve("nowhere.example.com", "/", 4)
	s := f.server()
	text, fams := scrape(t, s)
	mustContain(t, "/metrics", text, "# TYPE edge_requests_total counter",
		"# TYPE edge_request_duration_seconds histogram", `edge_build_info{version="v1.2.3-test"} 1`,
		"go_goroutines", "process_")

	check := func(name string, want map[string]string, value float64) {
		t.Helper()
		ms := find(fams, name, want)
		if len(ms) != 1 {
			t.Errorf("%s%v: %d series, want 1", name, want, len(ms))
			return
		}
		var got float64
		switch {
		case ms[0].Counter != nil:
			got = ms[0].Counter.GetValue()
		case ms[0].Gauge != nil:
			got = ms[0].Gauge.GetValue()
		}
		if got != value {
			t.Errorf("%s%v = %v, want %v", name, want, got, value)
		}
	}
	check("edge_requests_total", map[string]string{"route": "rancher/web.whoami", "code": "200"}, 3)
	check("edge_requests_total", map[string]string{"route": "rancher/web.whoami", "code": "418"}, 2)
	check("edge_unrouted_requests_total", nil, 4)
	check("edge_requests_in_flight", map[string]string{"route": "rancher/web.whoami"}, 0)
	check("edge_backend_up", map[string]string{"route": "rancher/web.whoami", "backend": "http://10.42.0.12:8080"}, 0)
	check("edge_backend_up", map[string]string{"route": "rancher/shop.api", "backend": "http://127.0.0.1:1"}, 0)
	check("edge_discovery_syncs_total", map[string]string{"provider": "rancher", "result": "ok"}, 14)
	check("edge_discovery_syncs_total", map[string]string{"provider": "rancher", "result": "error"}, 3)
	check("edge_discovery_last_success_age_seconds", map[string]string{"provider": "rancher"}, 60)
	check("edge_discovery_last_success_age_seconds", map[string]string{"provider": "file"}, 3600)
	f.providers[1].LastSuccess = time.Time{}
	_, fams = scrape(t, s)
	if ms := find(fams, "edge_discovery_last_success_age_seconds", map[string]string{"provider": "rancher"}); len(ms) != 1 ||
		!math.IsInf(ms[0].Gauge.GetValue(), 1) {
		t.Errorf("a provider that never synced: %v", ms)
	}
	check("edge_table_generation", nil, 2)

	// The histogram is cumulative, ends with every request, and has the
	// edge's bounds.
	h := find(fams, "edge_request_duration_seconds", map[string]string{"route": "rancher/web.whoami"})[0].GetHistogram()
	if h.GetSampleCount() != 5 || h.GetSampleSum() <= 0 {
		t.Errorf("histogram count %d sum %v", h.GetSampleCount(), h.GetSampleSum())
	}
	var prev uint64
	for _, b := range h.GetBucket() {
		if b.GetCumulativeCount() < prev {
			t.Errorf("bucket %v: %d < %d: not cumulative", b.GetUpperBound(), b.GetCumulativeCount(), prev)
		}
		prev = b.GetCumulativeCount()
	}
	if len(h.GetBucket()) != 11 || prev > 5 {
		t.Errorf("%d buckets, last %d", len(h.GetBucket()), prev)
	}

	// Each backend has its own histogram of answer durations, over the
	// same bounds: the live one answered the five requests, the drained
	// one none.
	for _, m := range find(fams, "edge_backend_response_duration_seconds", map[string]string{"route": "rancher/web.whoami"}) {
		bh, want := m.GetHistogram(), uint64(5)
		if labels(m)["backend"] == "http://10.42.0.12:8080" {
			want = 0
		}
		if bh.GetSampleCount() != want || (want > 0) != (bh.GetSampleSum() > 0) || len(bh.GetBucket()) != 11 {
			t.Errorf("backend %s histogram: count %d sum %v, %d buckets; want count %d", labels(m)["backend"],
				bh.GetSampleCount(), bh.GetSampleSum(), len(bh.GetBucket()), want)
		}
		if last := bh.GetBucket()[10].GetCumulativeCount(); last > bh.GetSampleCount() {
			t.Errorf("backend %s: last bucket %d > count", labels(m)["backend"], last)
		}
	}
	if n := len(find(fams, "edge_backend_response_duration_seconds", map[string]string{"route": "rancher/web.whoami"})); n != 2 {
		t.Errorf("%d backend duration series for rancher/web.whoami, want 2", n)
	}

	// One expiry series per certificate that has one, the default
	// included; none for pending, failed-without-certificate or skipped rows.
	expiry := fams["edge_certificate_expiry_timestamp_seconds"].GetMetric()
	var ids []string
	for _, m := range expiry {
		ids = append(ids, labels(m)["id"])
	}
	slices.Sort(ids)
	if want := []string{oldID, apiID, wildID}; !slices.Equal(ids, sortStrings(want)) {
		t.Errorf("expiry series for %v, want %v", ids, want)
	}
	def := find(fams, "edge_certificate_expiry_timestamp_seconds", map[string]string{"default": "true"})
	if len(def) != 1 || labels(def[0])["names"] != "*.example.com,example.com" || labels(def[0])["source"] != "file" {
		t.Errorf("default certificate series: %v", def)
	} else if got := def[0].GetGauge().GetValue(); got != float64(f.now.Add(335*24*time.Hour).Unix()) {
		t.Errorf("default certificate expiry %v", got)
	}
}

// After a renewal the old certificate's series is gone and the new one's
// is there: series are built at scrape time, not registered (traefik#8606).
func TestMetricsNoStaleCertificateSeries(t *testing.T) {
	f := newFixture(t)
	s := f.server()
	_, fams := scrape(t, s)
	if len(find(fams, "edge_certificate_expiry_timestamp_seconds", map[string]string{"id": apiID})) != 1 {
		t.Fatal("no series for the certificate before renewal")
	}

	rows := slices.Clone(f.certs)
	for i, c := range rows {
		if c.ID == apiID {
			c.ID, c.SHA256, c.Serial = apiNewID, apiNewID, "5c6d"
			c.NotBefore, c.NotAfter = f.now, f.now.Add(90*24*time.Hour)
			c.State, c.LastRenewal = certs.StateValid, f.now
			rows[i] = c
		}
	}
	rows = slices.DeleteFunc(rows, func(c certs.Status) bool { return c.ID == oldID }) // removed from config
	f.setCerts(rows)

	text, fams := scrape(t, s)
	if strings.Contains(text, apiID) || strings.Contains(text, oldID) {
		t.Error("a replaced or removed certificate still has a series")
	}
	expiry := fams["edge_certificate_expiry_timestamp_seconds"].GetMetric()
	if len(expiry) != 2 {
		t.Errorf("%d expiry series, want 2 (the wildcard and the renewed certificate)", len(expiry))
	}
	renewed := find(fams, "edge_certificate_expiry_timestamp_seconds", map[string]string{"id": apiNewID, "names": "api.example.io", "source": "acme"})
	if len(renewed) != 1 || renewed[0].GetGauge().GetValue() != float64(f.now.Add(90*24*time.Hour).Unix()) {
		t.Errorf("renewed certificate series: %v", renewed)
	}
}

func sortStrings(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestMetricsStorageState(t *testing.T) {
	f := newFixture(t)
	state := "ok"
	s := f.server(func(c *Config) {
		c.Sources.Storage = func() StorageStatus { return StorageStatus{Backend: "etcd", State: state} }
	})
	for _, tc := range []struct {
		state string
		want  float64
	}{{"ok", 1}, {"unavailable", 0}} {
		state = tc.state
		_, fams := scrape(t, s)
		ms := find(fams, "edge_acme_storage_up", map[string]string{"backend": "etcd"})
		if len(ms) != 1 || ms[0].Gauge.GetValue() != tc.want {
			t.Errorf("storage %s: edge_acme_storage_up = %v, want %v", tc.state, ms, tc.want)
		}
	}
	_, fams := scrape(t, f.server())
	if ms := find(fams, "edge_acme_storage_up", nil); len(ms) != 0 {
		t.Errorf("a storage series without ACME: %v", ms)
	}
}
