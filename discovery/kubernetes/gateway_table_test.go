package kubernetes

import (
	"strings"
	"testing"
	"time"

	gw "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/rancher-edge/edge/edge"
	"github.com/rancher-edge/edge/route"
)

// TestGatewayRoutesInTheTable: compiled into the routing table, a
// Gateway's listener 404 and the HTTPRoutes on its hostname are no clash
// (the 404 is what they fall back to), while a Rancher service claiming
// the same host, spelled its own way, is: both are told, and told who
// gets the requests: the older, and a service without a creation time
// counts as older than any.
func TestGatewayRoutesInTheTable(t *testing.T) {
	r := httpRoute("shop", "r", 0, []gw.ParentReference{parent("", "edge", "")}, nil, gw.HTTPRouteRule{BackendRefs: []gw.HTTPBackendRef{backendRef("", "web", 80, -1)}})
	snap, _ := runGateway(t, objs(gwClass(), gateway("shop", "edge", httpListener("http", "a.example.com", 80)), r, web("shop", "web", "10.0.0.1"))...)
	s, err := edge.New(edge.Config{HTTPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	clashes := func(tbl *edge.Table) map[string]string {
		out := map[string]string{}
		for _, p := range tbl.Problems() {
			if strings.Contains(p.Message, "claimed by") {
				out[p.Source.String()] = p.Message
			}
		}
		return out
	}
	if got := clashes(s.Update(snap)); len(got) != 0 {
		t.Errorf("the listener's 404 and its route reported as a clash: %v", got)
	}
	rancher := func(created time.Time) map[string]string {
		return clashes(s.Update(route.Snapshot{Provider: "rancher", Services: []route.Service{{
			Name: "web.shop", Source: route.Source{Provider: "rancher", Stack: "shop", Service: "web"}, Rule: "Host:A.example.com",
			Created: created, Servers: []route.Server{{URL: "http://127.0.0.1:1", Weight: 1}},
		}}}))
	}
	for _, c := range []struct {
		created time.Time
		who     string
	}{
		{time.Now().Add(time.Hour), "kubernetes-gateway:shop/httproute/r#rule-0 gets the requests (the oldest)"},
		{time.Time{}, "rancher:shop/web gets the requests (the oldest: its source gives no creation time"},
	} {
		got := rancher(c.created)
		if len(got) != 2 || !strings.Contains(got["rancher:shop/web"], c.who) || got["rancher:shop/web"] != got["kubernetes-gateway:shop/httproute/r#rule-0"] {
			t.Errorf("Rancher service created %v: clash reports %v, want the Rancher service and the HTTPRoute told %q", c.created, got, c.who)
		}
	}
}
