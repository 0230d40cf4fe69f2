package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rancher-edge/edge/edge"
	"github.com/rancher-edge/edge/route"
)

// Traffic through the edge shows on the routes page (numbers and the
// sparkline) and in /api/routes; a 502 shows in the recent errors without
// the path or query string of the request.
func TestRoutesShowTraffic(t *testing.T) {
	f := newFixture(t)
	f.waitFailing()
	f.serve("whoami.example.com", "/", 4)
	f.serve("whoami.example.com", "/teapot", 1)
	// shop.api has a dead backend; drr sends the next request there
	// until the health check removes it, so force a 502 on a route with
	// only the dead one.
	f.edge.Update(route.Snapshot{Provider: "file", Built: f.now, Services: []route.Service{
		{Name: "static", Source: route.Source{Provider: "file", Service: "static"}, Rule: "Host:static.example.com",
			Servers: []route.Server{{URL: "http://127.0.0.1:1", Weight: 1, Name: "dead-1"}}},
	}})
	f.serve("static.example.com", "/secret/path?token=s3cret-query", 1)
	s := f.server(func(c *Config) {
		c.Sources.RecentErrors = f.edge.RecentErrors
		c.Now = time.Now
	})
	h := s.Handler()

	var page RoutesPage
	if err := json.Unmarshal(get(t, h, "/api/routes").Body.Bytes(), &page); err != nil {
		t.Fatal(err)
	}
	var who *RouteView
	for i := range page.Routes {
		if page.Routes[i].ID == "rancher/web.whoami" {
			who = &page.Routes[i]
		}
	}
	if who == nil {
		t.Fatal("no rancher/web.whoami")
	}
	w1 := who.Traffic.Windows[0]
	if w1.Minutes != 1 || w1.Requests != 5 || w1.Classes["2xx"] != 4 || w1.Classes["4xx"] != 1 || w1.RPS <= 0 ||
		w1.P50 == nil || w1.P99 == nil || w1.P99.Seconds < w1.P50.Seconds {
		t.Errorf("1m window %+v", w1)
	}
	if n := len(who.Traffic.PerMinute); n != 15 || who.Traffic.PerMinute[14] != 5 {
		t.Errorf("per minute %v", who.Traffic.PerMinute)
	}
	// The backend's answers are timed (to their heads): p50 ≤ p95 ≤ p99,
	// none beyond the route's p99, in every window; the drained backend
	// has none.
	for i, bw := range who.Backends[0].Traffic.Windows {
		if bw.Classes["2xx"] != 4 || bw.P50 == nil || bw.P95 == nil || bw.P99 == nil || bw.P50.Seconds <= 0 ||
			bw.P50.Seconds > bw.P95.Seconds || bw.P95.Seconds > bw.P99.Seconds || bw.P99.Seconds > who.Traffic.Windows[i].P99.Seconds {
			t.Errorf("backend %dm window %+v", bw.Minutes, bw)
		}
	}
	if bw := who.Backends[1].Traffic.Windows[0]; bw.Requests != 0 || bw.P50 != nil {
		t.Errorf("drained backend window %+v", bw)
	}
	if len(page.RecentErrors) != 1 {
		t.Fatalf("recent errors %+v", page.RecentErrors)
	}
	e := page.RecentErrors[0]
	if e.Route != "file/static" || e.Status != http.StatusBadGateway || e.Backend != "http://127.0.0.1:1" ||
		e.RouteAnchor != "route-file-static" || !strings.Contains(e.Reason, "did not answer") {
		t.Errorf("recent error %+v", e)
	}

	body := get(t, h, "/routes").Body.String()
	mustContain(t, "routes page", body, `<svg class="spark"`, `aria-label="5 requests and 0 5xx answers in the last 15 minutes"`,
		`id="recent-errors"`, `<a href="#route-file-static"><code>file/static</code></a>`, `<span class="badge error">502</span>`,
		"did not answer", `<td>1 min</td>`, `<td>15 min</td>`)
	for _, bad := range []string{"s3cret-query", "/secret/path", "token="} {
		if strings.Contains(body, bad) || strings.Contains(get(t, h, "/api/routes").Body.String(), bad) {
			t.Errorf("the routes page or API shows %q from a failed request", bad)
		}
	}
	// Each backend's latency: the last minute in its row, every window
	// in the details; numbers for the live backend, dashes for the
	// drained one.
	card := body[strings.Index(body, `data-route="rancher/web.whoami"`):]
	card = card[:strings.Index(card, "</article>")]
	lat := regexp.MustCompile(`<td class="n b-lat" data-label="p50 · p95 · p99 1m">([^<]*)</td>`).FindAllStringSubmatch(card, -1)
	num := regexp.MustCompile(`^[0-9.]+(µs|ms|s) · [0-9.]+(µs|ms|s) · [0-9.]+(µs|ms|s)$`)
	if len(lat) != 2 || !num.MatchString(lat[0][1]) || lat[1][1] != "— · — · —" {
		t.Errorf("backend latency cells %q", lat)
	}
	bw := card[strings.Index(card, `<tbody class="bw" data-backend="`+who.Backends[0].URL+`">`):]
	bw = bw[:strings.Index(bw, "</tbody>")]
	if n := len(regexp.MustCompile(`<td class="n p99">[0-9.]+(µs|ms|s)</td>`).FindAllString(bw, -1)); n != 3 {
		t.Errorf("the live backend's 1, 5 and 15 minute rows show %d p99 figures, want 3:\n%s", n, bw)
	}
	if !strings.Contains(bw, `<tr><th colspan="9" scope="rowgroup">web-whoami-1 <code>`) {
		t.Errorf("backend windows without its name:\n%s", bw)
	}
	if !strings.Contains(body, `<rect class="err"`) {
		t.Error("the failing route's sparkline has no error bar")
	}
	// A search keeps the errors of the routes it shows.
	if err := json.Unmarshal(get(t, h, "/api/routes?q=whoami").Body.Bytes(), &page); err != nil {
		t.Fatal(err)
	}
	if len(page.RecentErrors) != 0 {
		t.Errorf("q=whoami keeps the errors of other routes: %+v", page.RecentErrors)
	}
}

// The search narrows the routes on the server (a GET form that works
// without JavaScript) and the API alike.
func TestRoutesSearch(t *testing.T) {
	f := newFixture(t)
	f.waitFailing()
	h := f.server().Handler()
	count := func(path string) int {
		t.Helper()
		var p RoutesPage
		if err := json.Unmarshal(get(t, h, "/api/"+strings.TrimPrefix(path, "/")).Body.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		html := get(t, h, path).Body.String()
		if n := strings.Count(html, `<article class="card route"`); n != len(p.Routes) {
			t.Errorf("%s: the page shows %d routes, the API %d", path, n, len(p.Routes))
		}
		return len(p.Routes)
	}
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/routes", 6},
		{"/routes?q=whoami", 1},
		{"/routes?q=API.EXAMPLE.IO", 2},           // host, any case: shop.api and shop.legacy
		{"/routes?q=shop+admin", 1},               // every word must match
		{"/routes?q=%2Fv1", 2},                    // a path
		{"/routes?q=10.42.0.12", 1},               // a backend address
		{"/routes?q=shop-api-2", 1},               // a backend name
		{"/routes?q=nothing-like-it", 0},          //
		{"/routes?failing=1", 1},                  // the dead backend
		{"/routes?problems=1", 3},                 // whoami's label warning, the conflict's two
		{"/routes?provider=file", 1},              //
		{"/routes?provider=rancher&q=shop", 3},    //
		{"/routes?provider=rancher&failing=1", 1}, //
	} {
		if got := count(tc.path); got != tc.want {
			t.Errorf("%s: %d routes, want %d", tc.path, got, tc.want)
		}
	}
	body := get(t, h, "/routes?q=whoami&failing=1").Body.String()
	mustContain(t, "search form", body, `<form class="search" id="route-search" method="get" action="/routes"`,
		`value="whoami"`, `name="failing" value="1" checked`, "No route matches", "Show all 6 routes")
	// The form sits outside main, so a refresh does not replace it while
	// someone types.
	if strings.Index(body, `id="route-search"`) > strings.Index(body, `<main`) {
		t.Error("the search form is inside main")
	}
	if frag := get(t, h, "/routes?q=whoami", fragmentHeader, "1").Body.String(); strings.Contains(frag, "route-search") ||
		!strings.Contains(frag, "1 of 6") {
		t.Error("the refreshed fragment is not narrowed, or carries the form")
	}
}

// Services a provider skipped are listed on the routes page under their
// stack, and the search finds them.
func TestRoutesListSkippedServices(t *testing.T) {
	f := newFixture(t)
	h := f.server().Handler()
	body := get(t, h, "/routes").Body.String()
	mustContain(t, "routes", body, `id="skipped"`, `id="skipped-rancher-web"`, "stack <strong>web</strong>",
		"<code>broken</code>", "label value &lt;img src=x onerror=alert(2)&gt; is not a number")
	var p RoutesPage
	if err := json.Unmarshal(get(t, h, "/api/routes?q=broken").Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Skipped) != 1 || p.Skipped[0].Stack != "web" || len(p.Skipped[0].Services) < 1 {
		t.Errorf("skipped %+v", p.Skipped)
	}
	if err := json.Unmarshal(get(t, h, "/api/routes?q=whoami").Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Skipped) != 0 {
		t.Errorf("q=whoami kept skipped services %+v", p.Skipped)
	}
}

func TestCertificatesSortByExpiry(t *testing.T) {
	f := newFixture(t)
	h := f.server().Handler()
	var p CertificatesPage
	if err := json.Unmarshal(get(t, h, "/api/certificates?sort=expiry").Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range p.Certificates {
		ids = append(ids, c.ID)
	}
	// Rows without a certificate, then expired, 10 days left, 335 days.
	want := []string{"pending:failed.example.net", "skipped:*.dyn.example.com", oldID, apiID, wildID}
	if strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Errorf("by expiry: %v, want %v", ids, want)
	}
	body := get(t, h, "/certificates?sort=expiry").Body.String()
	mustContain(t, "certificates", body, `id="sort-expiry" href="/certificates?sort=expiry" aria-current="true"`)
	if strings.Index(body, `data-cert="`+oldID+`"`) > strings.Index(body, `data-cert="`+wildID+`"`) {
		t.Error("the page is not sorted by expiry")
	}
}

// Beyond MetricsMaxRoutes, routes add up into route="_other": the scrape
// stays bounded whatever the table's size.
func TestMetricsBoundedRoutes(t *testing.T) {
	f := newFixture(t)
	f.waitFailing()
	f.serve("whoami.example.com", "/", 3)
	f.serve("static.example.com", "/", 2)
	f.serve("api.example.io", "/v1/x", 2)
	s := f.server(func(c *Config) { c.MetricsMaxRoutes = 2 })
	_, fams := scrape(t, s)
	routes := map[string]bool{}
	for _, m := range fams["edge_request_duration_seconds"].GetMetric() {
		routes[labels(m)["route"]] = true
	}
	if len(routes) != 3 || !routes["_other"] {
		t.Errorf("duration series for routes %v; want 2 and _other", routes)
	}
	var total uint64
	for _, m := range fams["edge_request_duration_seconds"].GetMetric() {
		total += m.GetHistogram().GetSampleCount()
	}
	if total != 7 {
		t.Errorf("the histograms count %d requests, want all 7", total)
	}
	if ms := find(fams, "edge_backend_responses_total", map[string]string{"route": "_other", "backend": "_other", "class": "2xx"}); len(ms) != 1 {
		t.Errorf("no aggregate backend series: %v", ms)
	}
	// Backend latency is bounded the same way: series for the backends
	// of the first two routes, one aggregate beyond.
	var answered uint64
	for _, m := range fams["edge_backend_response_duration_seconds"].GetMetric() {
		r := labels(m)["route"]
		if !routes[r] {
			t.Errorf("backend latency series for route %q, which has no series of its own", r)
		}
		answered += m.GetHistogram().GetSampleCount()
	}
	if ms := find(fams, "edge_backend_response_duration_seconds", map[string]string{"route": "_other", "backend": "_other"}); len(ms) != 1 {
		t.Errorf("no aggregate backend latency series: %v", ms)
	}
	if answered != 7 {
		t.Errorf("the backend histograms count %d answers, want all 7", answered)
	}
}

// The Prometheus histogram and the dashboard's quantiles use the edge's one
// set of buckets (TRAEFIK_METRICS_PROMETHEUS_BUCKETS).
func TestMetricsUseTheEdgesBuckets(t *testing.T) {
	srv, err := edge.New(edge.Config{HTTPAddr: ":0", DurationBuckets: []float64{0.1, 0.3, 1.2, 5}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	live := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer live.Close()
	srv.Update(route.Snapshot{Provider: "file", Services: []route.Service{{Name: "app",
		Source: route.Source{Provider: "file", Service: "app"}, Rule: "Host:app.example.com",
		Servers: []route.Server{{URL: live.URL, Weight: 1}}}}})
	srv.HTTPHandler().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "http://app.example.com/", nil))
	s, err := New(Config{Addr: "127.0.0.1:0", Sources: Sources{Table: srv.Table, DurationBuckets: srv.DurationBuckets}})
	if err != nil {
		t.Fatal(err)
	}
	text, _ := scrape(t, s)
	mustContain(t, "/metrics", text, `edge_request_duration_seconds_bucket{route="file/app",le="0.3"} 1`,
		`edge_request_duration_seconds_bucket{route="file/app",le="5"} 1`,
		`edge_backend_response_duration_seconds_bucket{backend="`+live.URL+`",route="file/app",le="0.3"} 1`,
		`edge_backend_response_duration_seconds_bucket{backend="`+live.URL+`",route="file/app",le="5"} 1`)
	mustNotContain(t, "/metrics", text, `le="0.005"`)
}
