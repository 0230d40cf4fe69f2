package kubernetes

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gw "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/rancher-edge/edge/route"
)

// TestSettleClaims: an Ingress and an HTTPRoute claiming the same host and
// path: the older wins, the loser is not served, both are told, and a
// losing HTTPRoute's status says so.
func TestSettleClaims(t *testing.T) {
	ingSvc := func(name, rule string) route.Service {
		return route.Service{Name: name, Rule: rule, Source: route.Source{Provider: "kubernetes", Stack: "shop", Service: name}}
	}
	gwSvc := func(route_, rule string) route.Service {
		return route.Service{Name: route_ + rule, Rule: rule, Source: gwSrc("httproute", "shop", route_, "rule-0")}
	}
	ages := map[string]time.Time{"shop/old": t0, "shop/httproute/r": t0.Add(time.Minute), "shop/new": t0.Add(2 * time.Minute)}
	age := func(s route.Source) time.Time { return ages[s.Stack+"/"+s.Service] }

	// The Ingress is older: the HTTPRoute's claimed rule goes, the other
	// stays, and the route is partially invalid.
	ing := route.Snapshot{Services: []route.Service{ingSvc("old", "Host:a.example.com;PathPrefix:/")}}
	gwy := route.Snapshot{Services: []route.Service{gwSvc("r", "Host:a.example.com;PathPrefix:/"), gwSvc("r", "Host:a.example.com;Path:/api,/api/{rest:.*}"),
		{Name: "404", Rule: "PathPrefix:/", Source: gwSrc("gateway", "shop", "edge", "http")}}}
	st := &gatewayStatus{Routes: map[string][]gw.RouteParentStatus{"shop/r": {{Conditions: []metav1.Condition{
		cond("Accepted", true, "Accepted", "", 3), cond("ResolvedRefs", true, "ResolvedRefs", "", 3)}}}}}
	if !settleClaims(&ing, &gwy, st, age) {
		t.Fatal("no claim settled")
	}
	if len(ing.Services) != 1 || len(gwy.Services) != 2 || gwy.Services[0].Rule != "Host:a.example.com;Path:/api,/api/{rest:.*}" {
		t.Errorf("ingress %v, gateway %v", ing.Services, gwy.Services)
	}
	if got := routeConds(*st, "shop/r", "Accepted") + " " + routeConds(*st, "shop/r", "PartiallyInvalid"); got != "True/Accepted True/ConflictsWithIngress" {
		t.Errorf("status %s", got)
	}
	if !hasProblem(gwy, "kubernetes-gateway:shop/httproute/r", route.Error, "claimed by the older Ingress shop/old") ||
		!hasProblem(ing, "kubernetes:shop/old", route.Warning, "claimed by the newer HTTPRoute shop/r") {
		t.Errorf("problems %s %s", problemList(ing), problemList(gwy))
	}

	// The HTTPRoute's only rule loses: Accepted=False.
	gwy = route.Snapshot{Services: []route.Service{gwSvc("r", "Host:a.example.com;PathPrefix:/")}}
	st = &gatewayStatus{Routes: map[string][]gw.RouteParentStatus{"shop/r": {{Conditions: []metav1.Condition{
		cond("Accepted", true, "Accepted", "", 3), cond("ResolvedRefs", true, "ResolvedRefs", "", 3)}}}}}
	ing = route.Snapshot{Services: []route.Service{ingSvc("old", "Host:a.example.com;PathPrefix:/")}}
	settleClaims(&ing, &gwy, st, age)
	if got := routeConds(*st, "shop/r", "Accepted"); len(gwy.Services) != 0 || got != "False/ConflictsWithIngress" {
		t.Errorf("%d routes left, Accepted %s", len(gwy.Services), got)
	}

	// The HTTPRoute is older than the Ingress: the Ingress's rule goes.
	ing = route.Snapshot{Services: []route.Service{ingSvc("new", "Host:a.example.com;PathPrefix:/"), ingSvc("new", "Host:b.example.com;PathPrefix:/")}}
	gwy = route.Snapshot{Services: []route.Service{gwSvc("r", "Host:a.example.com;PathPrefix:/")}}
	st = &gatewayStatus{Routes: map[string][]gw.RouteParentStatus{"shop/r": {{Conditions: []metav1.Condition{cond("Accepted", true, "Accepted", "", 3)}}}}}
	settleClaims(&ing, &gwy, st, age)
	if len(ing.Services) != 1 || ing.Services[0].Rule != "Host:b.example.com;PathPrefix:/" || len(gwy.Services) != 1 || routeConds(*st, "shop/r", "Accepted") != "True/Accepted" {
		t.Errorf("ingress %v, gateway %v, status %v", ing.Services, gwy.Services, st.Routes)
	}
	if !hasProblem(ing, "kubernetes:shop/new", route.Error, "claimed by the older HTTPRoute shop/r") {
		t.Errorf("problems %s", problemList(ing))
	}

	// A header match is another claim: nothing to settle.
	ing = route.Snapshot{Services: []route.Service{ingSvc("old", "Host:a.example.com;PathPrefix:/")}}
	gwy = route.Snapshot{Services: []route.Service{gwSvc("r", "Host:a.example.com;PathPrefix:/;Headers:X-V,2")}}
	if settleClaims(&ing, &gwy, nil, age) {
		t.Error("a header-matched rule settled against a plain one")
	}
}
