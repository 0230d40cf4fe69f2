package edge

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rancher-edge/edge/route"
)

// TestOlderRouteGetsClaimedRequests: when routes of two providers claim
// the same requests, the older gets them whatever the priorities; a route
// without a creation time (a file's) counts as older than any with one;
// the loser keeps every request it claims alone (another host), and a
// more specific route of the loser's, which claims other requests, still
// takes them by priority. Table.Lost says who lost what, for the
// HTTPRoute status.
func TestOlderRouteGetsClaimedRequests(t *testing.T) {
	inModes(t, func(t *testing.T, mode func(*Config)) {
		te := startEdge(t, mode)
		file, rancher, gateway, api := newBackend(t, "file"), newBackend(t, "rancher"), newBackend(t, "gateway"), newBackend(t, "api")
		c := te.client(false)
		created := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		gwSrc := route.Source{Provider: "kubernetes-gateway", Stack: "shop", Service: "httproute/r", Segment: "rule-0"}
		gw := route.Snapshot{Provider: "kubernetes-gateway", Services: []route.Service{
			{Name: "r", Source: gwSrc, Rule: "Host:shop.test.local,only-gw.test.local;PathPrefix:/", Priority: 1000, Created: created,
				PassHostHeader: true, Servers: []route.Server{{URL: gateway.URL, Weight: 1}}},
			{Name: "r-api", Source: route.Source{Provider: "kubernetes-gateway", Stack: "shop", Service: "httproute/api"},
				Rule: "Host:shop.test.local;PathPrefix:/api", Priority: 1001, Created: created.Add(time.Hour),
				PassHostHeader: true, Servers: []route.Server{{URL: api.URL, Weight: 1}}},
		}}
		rancherSnap := func(age time.Time) route.Snapshot {
			return route.Snapshot{Provider: "rancher", Services: []route.Service{{
				Name: "web.shop", Source: route.Source{Provider: "rancher", Stack: "shop", Service: "web"}, Rule: "Host:SHOP.test.local",
				Created: age, PassHostHeader: true, Servers: []route.Server{{URL: rancher.URL, Weight: 1}},
			}}}
		}
		who := func(host, path string) string {
			t.Helper()
			resp, body := get(t, c, hostURL(te, host, path))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s%s: %d %s", host, path, resp.StatusCode, body)
			}
			return decodeEcho(t, body).Name
		}
		clash := func(tbl *Table) string {
			for _, p := range tbl.Problems() {
				if p.Source == gwSrc && strings.Contains(p.Message, "claimed by") {
					return p.Message
				}
			}
			return ""
		}
		type want struct{ shop, onlyGW, api string }
		check := func(step string, tbl *Table, w want, msg string, lost []route.Lost) {
			t.Helper()
			got := want{who("shop.test.local", "/"), who("only-gw.test.local", "/"), who("shop.test.local", "/api/v1")}
			if got != w {
				t.Errorf("%s: shop.test.local/ → %s, only-gw.test.local/ → %s, shop.test.local/api → %s; want %s, %s, %s",
					step, got.shop, got.onlyGW, got.api, w.shop, w.onlyGW, w.api)
			}
			if m := clash(tbl); !strings.HasSuffix(m, msg) {
				t.Errorf("%s: the HTTPRoute is told %q, want it to end in %q", step, m, msg)
			}
			if !reflect.DeepEqual(tbl.Lost(), lost) {
				t.Errorf("%s: Lost() = %+v, want %+v", step, tbl.Lost(), lost)
			}
		}

		// A file's route has no creation time: it keeps shop.test.local
		// against the HTTPRoute's higher priority.
		te.srv.Update(gw)
		tbl := te.srv.Update(snapshot(svc("shop", "Host:shop.test.local", file.URL)))
		check("file", tbl, want{"file", "gateway", "api"},
			"file:shop gets the requests (the oldest: its source gives no creation time, which counts as older than any)",
			[]route.Lost{{Source: gwSrc, To: []route.Source{{Provider: "file", Service: "shop"}}}})

		// Without the file route, a Rancher service created after the
		// HTTPRoute loses to it: the Rancher service is told and listed.
		te.srv.Update(route.Snapshot{Provider: "file"})
		tbl = te.srv.Update(rancherSnap(created.Add(time.Minute)))
		check("newer rancher", tbl, want{"gateway", "gateway", "api"},
			"kubernetes-gateway:shop/httproute/r#rule-0 gets the requests (the oldest)",
			[]route.Lost{{Source: route.Source{Provider: "rancher", Stack: "shop", Service: "web"}, To: []route.Source{gwSrc}, All: true}})

		// One created before it takes the host back.
		tbl = te.srv.Update(rancherSnap(created.Add(-time.Minute)))
		check("older rancher", tbl, want{"rancher", "gateway", "api"},
			"rancher:shop/web gets the requests (the oldest)",
			[]route.Lost{{Source: gwSrc, To: []route.Source{{Provider: "rancher", Stack: "shop", Service: "web"}}}})

		// Of the same age, priority decides, as before ages counted.
		tbl = te.srv.Update(rancherSnap(created))
		check("same age", tbl, want{"gateway", "gateway", "api"},
			"kubernetes-gateway:shop/httproute/r#rule-0 gets the requests (the first by priority)",
			[]route.Lost{{Source: route.Source{Provider: "rancher", Stack: "shop", Service: "web"}, To: []route.Source{gwSrc}, All: true}})
	})
}

// TestPriorityDecidesWithinOneProvider: two Rancher services claiming the
// same requests are settled by priority, not age, so that a priority
// label still picks the winner on purpose (a blue/green switch); only
// rivals of different providers go by age.
func TestPriorityDecidesWithinOneProvider(t *testing.T) {
	s, err := New(Config{HTTPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	up := []route.Server{{URL: "http://127.0.0.1:1", Weight: 1}}
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tbl := s.Update(route.Snapshot{Provider: "rancher", Services: []route.Service{
		{Name: "blue.shop", Source: route.Source{Provider: "rancher", Stack: "shop", Service: "blue"}, Rule: "Host:shop.example.com", Created: old, Servers: up},
		{Name: "green.shop", Source: route.Source{Provider: "rancher", Stack: "shop", Service: "green"}, Rule: "Host:shop.example.com", Priority: 100, Created: old.Add(time.Hour), Servers: up},
	}})
	var msgs []string
	for _, p := range tbl.Problems() {
		if strings.Contains(p.Message, "claimed by") {
			msgs = append(msgs, p.Message)
		}
	}
	const want = "rancher:shop/green gets the requests (the first by priority)"
	if len(msgs) != 2 || !strings.HasSuffix(msgs[0], want) {
		t.Errorf("clash reports %q, want both to end in %q", msgs, want)
	}
	if got := tbl.Lost(); len(got) != 1 || got[0].Source.Service != "blue" {
		t.Errorf("Lost() = %+v, want the blue service", got)
	}
	r := httptest.NewRequest("GET", "https://shop.example.com/", nil)
	if rt := tbl.lookup(r, "shop.example.com", entryHTTP); rt == nil || rt.Service.Source.Service != "green" {
		t.Errorf("lookup gave %v, want the green service", rt)
	}
}
