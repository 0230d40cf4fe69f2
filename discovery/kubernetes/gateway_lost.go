package kubernetes

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gw "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/rancher-edge/edge/route"
)

// ReasonConflictsWithIngress is the HTTPRoute condition reason when an
// older Ingress claims the same host and path in the routing table: the
// spec has no reason for a conflict with another API, and allows
// implementations their own.
const ReasonConflictsWithIngress gw.RouteConditionReason = "ConflictsWithIngress"

// ReasonConflictsWithRoute is the HTTPRoute condition reason when, in the
// edge's routing table, an older route of another provider (Rancher,
// rancher-metadata, Consul, a file; an Ingress among them) claims the
// same host and match. As
// with [ReasonConflictsWithIngress], the spec has no reason for a
// conflict with routes outside the Gateway API.
const ReasonConflictsWithRoute gw.RouteConditionReason = "ConflictsWithRoute"

// TableLost tells the provider which routes lost claims in the edge's
// routing table (edge.Table.Lost), after every new table. The HTTPRoutes
// among them say so in their status, written by the leader. It is the one
// thing that flows back from the table, and only into status: what the
// provider publishes does not depend on it, so nothing loops.
func (p *Provider) TableLost(lost []route.Lost) {
	var mine []route.Lost
	for _, l := range lost {
		if _, ok := httpRouteOf(l.Source); ok {
			mine = append(mine, l)
		}
	}
	p.mu.Lock()
	changed := !slices.EqualFunc(mine, p.tableLost, func(a, b route.Lost) bool {
		return a.Source == b.Source && a.All == b.All && slices.Equal(a.To, b.To)
	})
	p.tableLost = mine
	poke := p.statusPoke
	p.mu.Unlock()
	if changed && poke != nil {
		poke()
	}
}

// routeSources counts, per HTTPRoute (namespace/name), the sources of the
// routes a Gateway API snapshot holds for it (one per rule): how much of
// it the table's losses can take.
func routeSources(snap route.Snapshot) map[string]int {
	seen := map[route.Source]bool{}
	out := map[string]int{}
	for _, s := range snap.Services {
		key, ok := httpRouteOf(s.Source)
		if !ok || seen[s.Source] {
			continue
		}
		seen[s.Source] = true
		out[key]++
	}
	return out
}

// wantedGatewayStatus is the status the last build computed with the
// routing table's losses applied: an HTTPRoute all of whose rules lost
// is Accepted=False, one with some that lost is PartiallyInvalid, reason
// [ReasonConflictsWithIngress] when only Ingresses won, else
// [ReasonConflictsWithRoute], naming who gets the requests. It shares
// what it does not change with the build's status, which stays as built.
func (p *Provider) wantedGatewayStatus() *gatewayStatus {
	p.mu.Lock()
	st, lost, sources := p.gwStatus, p.tableLost, p.gwSources
	p.mu.Unlock()
	if st == nil || len(lost) == 0 {
		return st
	}
	type agg struct {
		all     int // rules that lost every claim
		to      []string
		ingress bool // every winner is an Ingress
	}
	by := map[string]*agg{}
	for _, l := range lost {
		key, _ := httpRouteOf(l.Source) // TableLost kept only these
		a := by[key]
		if a == nil {
			a = &agg{ingress: true}
			by[key] = a
		}
		if l.All {
			a.all++
		}
		for _, s := range l.To {
			a.ingress = a.ingress && s.Provider == "kubernetes"
			if !slices.Contains(a.to, s.String()) {
				a.to = append(a.to, s.String())
			}
		}
	}
	out := *st
	out.Routes = maps.Clone(st.Routes)
	for key, a := range by {
		parents, ok := out.Routes[key]
		if !ok || sources[key] == 0 {
			continue // not in the last snapshot: the table is a build behind
		}
		slices.Sort(a.to)
		all := a.all == sources[key]
		reason, what := ReasonConflictsWithRoute, "older routes"
		if a.ingress {
			reason, what = ReasonConflictsWithIngress, "older Ingresses"
		}
		msg := fmt.Sprintf("%s claim the same host and match in the routing table and get those requests: %s", what, strings.Join(a.to, ", "))
		if !all {
			msg += "; the rest of this HTTPRoute is served"
		}
		out.Routes[key] = markLost(parents, reason, msg, all)
	}
	return &out
}

// markLost returns parents with the Accepted condition of each parent
// that accepted the route turned False (all: none of its routes is
// served) or PartiallyInvalid=True added (some are not), for reason. It
// copies what it changes: parents may be shared with a status being
// written.
func markLost(parents []gw.RouteParentStatus, reason gw.RouteConditionReason, msg string, all bool) []gw.RouteParentStatus {
	out := slices.Clone(parents)
	for i := range out {
		c := out[i].Conditions
		acc := slices.IndexFunc(c, func(x metav1.Condition) bool { return x.Type == string(gw.RouteConditionAccepted) })
		if acc < 0 || c[acc].Status != metav1.ConditionTrue {
			continue
		}
		gen := c[acc].ObservedGeneration
		c = slices.Clone(c)
		if all {
			c[acc] = cond(string(gw.RouteConditionAccepted), false, string(reason), msg, gen)
		} else if !slices.ContainsFunc(c, func(x metav1.Condition) bool { return x.Type == string(gw.RouteConditionPartiallyInvalid) }) {
			c = slices.Insert(c, acc+1, cond(string(gw.RouteConditionPartiallyInvalid), true, string(reason), msg, gen))
		}
		out[i].Conditions = c
	}
	return out
}
