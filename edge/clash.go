package edge

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/rancher-edge/edge/route"
)

// Clashes: two routes of different sources whose rules claim the same
// requests ([rule.Claims]: the same host and request match, however each
// provider spells it) on one listener. Both stay in the table and both
// are told. Between providers the requests go to the older route, by the
// creation time its source gives (route.Service.Created), as between two
// Kubernetes Ingresses. A route whose source gives none (files,
// rancher-metadata, Consul) counts as older than any that does: it was
// configured outside the cluster and keeps its requests until it is
// removed. Routes of the same age (both without a time, or created in
// the same instant), and rivals of one provider (two Rancher services,
// where a priority label may pick the winner on purpose), are decided by
// the table's order: priority, then source. This file is the one place
// that policy lives.

// claimIndex holds the routes of a table by what their rules claim on
// each listener. Nearly every claim has one route: those take no slice.
type claimIndex struct {
	one  map[claimKey]*Route   // the first route of each claim
	more map[claimKey][]*Route // all the routes of a claim with rivals
}

type claimKey struct {
	entry uint8  // the listener
	claim string // rule.Claims
}

func (c *claimIndex) add(k claimKey, rt *Route) {
	first, ok := c.one[k]
	if !ok {
		c.one[k] = rt
		return
	}
	if c.more == nil {
		c.more = make(map[claimKey][]*Route)
	}
	rts := c.more[k]
	if rts == nil {
		rts = []*Route{first}
	}
	c.more[k] = append(rts, rt)
}

// yield is a claim a route lost to an older rival that comes after it in
// the table's order: lookup passes the route over for the requests its
// winner matches on that listener.
type yield struct {
	entry  uint8
	host   string // the claim's exact host; empty for any host or a pattern
	winner *Route
}

// yields reports whether rt, which matches r, must leave it to the older
// route that won the claim.
func (rt *Route) yields(r *http.Request, host string, entry uint8) bool {
	for i := range rt.yielded {
		y := &rt.yielded[i]
		if y.entry&entry != 0 && (y.host == "" || y.host == host) && y.winner.rule.Match(r, host) {
			return true
		}
	}
	return false
}

// older orders rivals: the oldest first (no creation time before any),
// then the table's order.
func older(a, b *Route) int {
	return cmp.Or(a.Service.Created.Compare(b.Service.Created), byOrder(a, b))
}

func byOrder(a, b *Route) int { return cmp.Compare(a.order, b.order) }

// settle decides every clash in byClaim (routes of several sources
// claiming the same requests on one listener), arranges for the winners
// to get the requests and returns one problem per route and set of
// rivals. It fills t.lost. It runs after the
// table's order is set.
func (t *Table) settle(byClaim *claimIndex) []route.Problem {
	type loss struct {
		n  int
		to []route.Source
	}
	losses := map[route.Source]*loss{}
	var out []route.Problem
	seen := map[string]bool{}
	for key, rts := range byClaim.more {
		names := make([]string, len(rts))
		providers := false // rivals from more than one provider
		for i, rt := range rts {
			names[i] = rt.Service.Source.String()
			providers = providers || rt.Service.Source.Provider != rts[0].Service.Source.Provider
		}
		slices.Sort(names)
		names = slices.Compact(names)
		if len(names) < 2 {
			continue // one service's own segments, which its provider settles
		}
		// Between providers the oldest wins; within one, the table's
		// order (an explicit priority label keeps its meaning there).
		rank := byOrder
		if providers {
			rank = older
		}
		win := slices.MinFunc(rts, rank)
		entry := key.entry
		host, match, _ := strings.Cut(key.claim, "|")
		exact := host
		if host == "" || strings.HasPrefix(host, "*.") || strings.HasPrefix(host, "regexp:") {
			exact = ""
		}
		why := "the first by priority"
		for _, rt := range rts {
			if providers && !rt.Service.Created.Equal(win.Service.Created) {
				why = "the oldest"
				if win.Service.Created.IsZero() {
					why = "the oldest: its source gives no creation time, which counts as older than any"
				}
				break
			}
		}
		winner := win.Service.Source
		for _, rt := range rts {
			if rt.Service.Source == winner {
				continue
			}
			if rt.order < win.order && !slices.ContainsFunc(rt.yielded, func(y yield) bool { return y.entry == entry && y.host == exact && y.winner == win }) {
				rt.yielded = append(rt.yielded, yield{entry: entry, host: exact, winner: win})
			}
			l := losses[rt.Service.Source]
			if l == nil {
				l = &loss{}
				losses[rt.Service.Source] = l
			}
			l.n++
			if !slices.Contains(l.to, winner) {
				l.to = append(l.to, winner)
			}
		}
		what := "any host"
		if host != "" {
			what = "host " + host
		}
		msg := fmt.Sprintf("%s, %s is claimed by %s; %s gets the requests (%s)",
			what, match, strings.Join(names, ", "), winner.String(), why)
		for _, rt := range rts {
			id := rt.Service.Source.String() + "\x00" + msg
			if seen[id] {
				continue
			}
			seen[id] = true
			out = append(out, route.Problem{Source: rt.Service.Source, Severity: route.Warning, Message: msg})
		}
	}
	// Per losing source (a provider may build several routes of one
	// source, as for an HTTPRoute rule's matches): its claims over the
	// listeners, to tell whether it lost them all.
	claims := map[route.Source]int{}
	if len(losses) > 0 {
		for key, first := range byClaim.one {
			rts := byClaim.more[key]
			if rts == nil {
				rts = []*Route{first}
			}
			for _, rt := range rts {
				if losses[rt.Service.Source] != nil {
					claims[rt.Service.Source]++
				}
			}
		}
	}
	for src, l := range losses {
		slices.SortFunc(l.to, func(a, b route.Source) int { return strings.Compare(a.String(), b.String()) })
		t.lost = append(t.lost, route.Lost{Source: src, To: l.to, All: l.n == claims[src]})
	}
	// Map order is random; the table's problems and losses are not.
	slices.SortFunc(t.lost, func(a, b route.Lost) int { return strings.Compare(a.Source.String(), b.Source.String()) })
	slices.SortFunc(out, func(a, b route.Problem) int {
		return cmp.Or(strings.Compare(a.Source.String(), b.Source.String()), strings.Compare(a.Message, b.Message))
	})
	return out
}

// Lost lists the routes that lost requests their rules claim to older
// routes of other sources, by source: the Kubernetes provider writes it
// into the status of the HTTPRoutes that lost.
func (t *Table) Lost() []route.Lost { return t.lost }
