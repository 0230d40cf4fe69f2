package edge

import (
	"strings"
	"testing"

	"github.com/rancher-edge/edge/route"
)

// Rules that differ only in spaces or in the case of a host name claim the
// same requests: the compiler reports the clash once per service, with the
// same words (the dashboard lists it once), across providers. Paths keep
// their case.
func TestRuleClashIgnoresSpacesAndHostCase(t *testing.T) {
	s := tableServer(t)
	s.Update(snapshot(svc("a", "Host:shop.example.com", "http://127.0.0.1:1"),
		svc("p1", "Host:x.example.com;Path:/A", "http://127.0.0.1:1")))
	tbl := s.Update(route.Snapshot{Provider: "rancher", Services: []route.Service{
		{Name: "b.shop", Source: route.Source{Provider: "rancher", Stack: "shop", Service: "b"},
			Rule: "Host: Shop.Example.com", Servers: []route.Server{{URL: "http://127.0.0.1:1", Weight: 1}}},
		{Name: "p2.x", Source: route.Source{Provider: "rancher", Stack: "x", Service: "p2"},
			Rule: "Host:x.example.com;Path:/a", Servers: []route.Server{{URL: "http://127.0.0.1:1", Weight: 1}}},
	}})
	var msgs []string
	for _, p := range tbl.Problems() {
		if strings.Contains(p.Message, "claimed by") {
			msgs = append(msgs, p.Source.String()+": "+p.Message)
		}
	}
	if len(msgs) != 2 || !strings.Contains(msgs[0], "host shop.example.com, PathPrefix:/ is claimed by file:a, rancher:shop/b;") || msgs[0][strings.Index(msgs[0], "host"):] != msgs[1][strings.Index(msgs[1], "host"):] {
		t.Errorf("clash reports:\n%s", strings.Join(msgs, "\n"))
	}
}

// Rules spelled differently by different providers clash when they claim
// the same host and request match ("Host:a" is "Host:a;PathPrefix:/"), and
// the report names the route that gets the requests; routes that never
// meet on one listener do not clash.
func TestRuleClashAcrossSpellings(t *testing.T) {
	s := tableServer(t)
	up := []route.Server{{URL: "http://127.0.0.1:1", Weight: 1}}
	s.Update(route.Snapshot{Provider: "rancher", Services: []route.Service{
		{Name: "web.shop", Source: route.Source{Provider: "rancher", Stack: "shop", Service: "web"}, Rule: "Host:shop.example.com", Servers: up},
		{Name: "api.shop", Source: route.Source{Provider: "rancher", Stack: "shop", Service: "api"}, Rule: "Host:api.example.com;PathPrefix:/v1", EntryPoints: []string{"http"}, Servers: up},
	}})
	tbl := s.Update(route.Snapshot{Provider: "kubernetes-gateway", Services: []route.Service{
		{Name: "r", Source: route.Source{Provider: "kubernetes-gateway", Stack: "shop", Service: "httproute/r"}, Rule: "Host:Shop.example.com,other.example.com;PathPrefix:/", Priority: 1000, Servers: up},
		// HTTPS only, beside a route on the plain listener only: they
		// never meet.
		{Name: "secure", Source: route.Source{Provider: "kubernetes-gateway", Stack: "shop", Service: "httproute/secure"}, Rule: "Host:api.example.com;PathPrefix:/v1",
			EntryPoints: []string{"https"}, Servers: up},
	}})
	got := map[string]string{}
	for _, p := range tbl.Problems() {
		if strings.Contains(p.Message, "claimed by") {
			if prev, ok := got[p.Source.String()]; ok {
				t.Errorf("%s told twice: %q and %q", p.Source, prev, p.Message)
			}
			got[p.Source.String()] = p.Message
		}
	}
	want := "host shop.example.com, PathPrefix:/ is claimed by kubernetes-gateway:shop/httproute/r, rancher:shop/web; kubernetes-gateway:shop/httproute/r gets the requests (the first by priority)"
	if len(got) != 2 || got["rancher:shop/web"] != want || got["kubernetes-gateway:shop/httproute/r"] != want {
		t.Errorf("clash reports %q, want both told %q", got, want)
	}
}
