package kubernetes

import (
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gw "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/rancher-edge/edge/route"
	"github.com/rancher-edge/edge/route/rule"
)

// ReasonConflictsWithIngress is the HTTPRoute condition reason when an
// older Ingress claims the same host and path: the spec has no reason for
// a conflict with another API, and allows implementations their own.
const ReasonConflictsWithIngress gw.RouteConditionReason = "ConflictsWithIngress"

// settleClaims applies, between Ingresses and HTTPRoutes, the policy
// between two Ingresses: when both claim the same host and path, the
// older object wins (the Ingress on a tie), the loser's route is not
// served, and both get a problem. A losing HTTPRoute's parents say so:
// Accepted=False when none of its routes is left, else
// PartiallyInvalid=True, reason [ReasonConflictsWithIngress]. age gives a
// source's creation time. It reports whether it changed anything.
func settleClaims(ing, gwy *route.Snapshot, st *gatewayStatus, age func(route.Source) time.Time) bool {
	byKey := map[string]int{} // claim key → index in ing.Services
	for i, s := range ing.Services {
		for _, k := range rule.Claims(s.Rule) {
			if _, ok := byKey[k]; !ok {
				byKey[k] = i
			}
		}
	}
	if len(byKey) == 0 {
		return false
	}
	dropIng, dropGw := map[int]bool{}, map[int]bool{}
	for j, s := range gwy.Services {
		if !strings.HasPrefix(s.Source.Service, "httproute/") {
			continue // a listener's own 404
		}
		for _, k := range rule.Claims(s.Rule) {
			i, ok := byKey[k]
			if !ok || dropIng[i] {
				continue
			}
			is := ing.Services[i]
			host, _, _ := strings.Cut(k, "|")
			what := fmt.Sprintf("host %q and %s", host, strings.TrimPrefix(k, host+"|"))
			ingName := "Ingress " + is.Source.Stack + "/" + is.Source.Service
			routeName := "HTTPRoute " + s.Source.Stack + "/" + strings.TrimPrefix(s.Source.Service, "httproute/")
			if age(is.Source).After(age(s.Source)) {
				dropIng[i] = true
				ing.Problems = append(ing.Problems, route.Problem{Source: is.Source, Severity: route.Error,
					Message: fmt.Sprintf("%s are also claimed by the older %s: not served here", what, routeName)})
				gwy.Problems = append(gwy.Problems, route.Problem{Source: s.Source, Severity: route.Warning,
					Message: fmt.Sprintf("%s are also claimed by the newer %s, which is not served for them", what, ingName)})
				continue
			}
			dropGw[j] = true
			gwy.Problems = append(gwy.Problems, route.Problem{Source: s.Source, Severity: route.Error,
				Message: fmt.Sprintf("%s are also claimed by the older %s: not served here", what, ingName)})
			ing.Problems = append(ing.Problems, route.Problem{Source: is.Source, Severity: route.Warning,
				Message: fmt.Sprintf("%s are also claimed by the newer %s, which is not served for them", what, routeName)})
			break
		}
	}
	if len(dropIng) == 0 && len(dropGw) == 0 {
		return false
	}
	ing.Services = dropIndexes(ing.Services, dropIng)
	// A route's status: how many of its routes lost, of how many.
	lost, total := map[string]int{}, map[string]int{}
	for j, s := range gwy.Services {
		key := s.Source.Stack + "/" + strings.TrimPrefix(s.Source.Service, "httproute/")
		total[key]++
		if dropGw[j] {
			lost[key]++
		}
	}
	gwy.Services = dropIndexes(gwy.Services, dropGw)
	if st != nil {
		for key, n := range lost {
			msg := "an older Ingress claims the same host and path: " + plural(n, "route") + " of this HTTPRoute not served"
			if parents, ok := st.Routes[key]; ok {
				st.Routes[key] = markLost(parents, ReasonConflictsWithIngress, msg, n == total[key])
			}
		}
	}
	return true
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

func dropIndexes(s []route.Service, drop map[int]bool) []route.Service {
	out := s[:0:0]
	for i, x := range s {
		if !drop[i] {
			out = append(out, x)
		}
	}
	return out
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprint(n) + " " + what + "s"
}
