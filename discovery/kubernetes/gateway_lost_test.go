package kubernetes

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gw "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/rancher-edge/edge/route"
)

// TestWantedGatewayStatus: the routing table's losses turn an HTTPRoute
// all of whose rules lost Accepted=False, one with some rules left
// PartiallyInvalid=True, reason ConflictsWithRoute (ConflictsWithIngress
// when only Ingresses won), naming the winners;
// routes of other providers, HTTPRoutes not in the last snapshot and the
// build's own status are left as they are.
func TestWantedGatewayStatus(t *testing.T) {
	accepted := func() []gw.RouteParentStatus {
		return []gw.RouteParentStatus{{Conditions: []metav1.Condition{
			cond(string(gw.RouteConditionAccepted), true, string(gw.RouteReasonAccepted), "", 3),
			cond(string(gw.RouteConditionResolvedRefs), true, string(gw.RouteReasonResolvedRefs), "", 3),
		}}}
	}
	built := &gatewayStatus{Routes: map[string][]gw.RouteParentStatus{
		"shop/all": accepted(), "shop/part": accepted(), "shop/fine": accepted(), "shop/gone": accepted(), "shop/ing": accepted(),
	}}
	src := func(name, rule string) route.Source {
		return route.Source{Provider: gatewayProvider, Stack: "shop", Service: "httproute/" + name, Segment: rule}
	}
	file := route.Source{Provider: "file", Service: "web"}
	ingress := route.Source{Provider: "kubernetes", Stack: "shop", Service: "web"}
	p := &Provider{gwStatus: built, gwSources: map[string]int{"shop/all": 1, "shop/part": 2, "shop/fine": 1, "shop/ing": 1}}
	p.TableLost([]route.Lost{
		{Source: src("all", "rule-0"), To: []route.Source{file}, All: true},
		{Source: src("part", "rule-1"), To: []route.Source{file}, All: true},
		{Source: src("gone", "rule-0"), To: []route.Source{file}, All: true},
		{Source: src("ing", "rule-0"), To: []route.Source{ingress}, All: true},
		{Source: route.Source{Provider: "rancher", Stack: "shop", Service: "web"}, To: []route.Source{file}, All: true},
	})
	got := p.wantedGatewayStatus()
	check := func(key string, want ...condition) {
		t.Helper()
		var have []string
		for _, c := range got.Routes[key][0].Conditions {
			have = append(have, c.Type+"="+string(c.Status)+"/"+c.Reason)
		}
		if len(have) != len(want) {
			t.Errorf("%s: %v, want %v", key, have, want)
			return
		}
		for i, w := range want {
			if have[i] != w.typ+"="+w.status+"/"+w.reason {
				t.Errorf("%s: %v, want %v", key, have, want)
				return
			}
		}
	}
	check("shop/all", condition{"Accepted", "False", "ConflictsWithRoute"}, condition{"ResolvedRefs", "True", "ResolvedRefs"})
	check("shop/part", condition{"Accepted", "True", "Accepted"}, condition{"PartiallyInvalid", "True", "ConflictsWithRoute"},
		condition{"ResolvedRefs", "True", "ResolvedRefs"})
	check("shop/ing", condition{"Accepted", "False", "ConflictsWithIngress"}, condition{"ResolvedRefs", "True", "ResolvedRefs"})
	check("shop/fine", condition{"Accepted", "True", "Accepted"}, condition{"ResolvedRefs", "True", "ResolvedRefs"})
	check("shop/gone", condition{"Accepted", "True", "Accepted"}, condition{"ResolvedRefs", "True", "ResolvedRefs"})
	if msg := got.Routes["shop/all"][0].Conditions[0].Message; msg != "older routes claim the same host and match in the routing table and get those requests: file:web" {
		t.Errorf("message %q", msg)
	}
	// The build's status is shared, not changed.
	if c := built.Routes["shop/all"][0].Conditions[0]; c.Status != metav1.ConditionTrue {
		t.Errorf("the build's own status was changed: %+v", c)
	}
	// No losses: the build's status as it is.
	p.TableLost(nil)
	if p.wantedGatewayStatus() != built {
		t.Error("without losses the status is not the build's")
	}
}

type condition struct{ typ, status, reason string }
