package edge

import (
	"cmp"
	"slices"
	"strings"
)

// routeOrder remembers the last compile's order of its routes, so that
// a compile whose routes come in with the same priorities and sources, in
// the same places, takes that order instead of sorting again: an event
// changes one service's servers, not the order of 2,000 routes, and the
// sort, comparing sources as strings, was a tenth of such a compile.
//
// The order depends on nothing else (see sort), so the same keys in the
// same places give the same order. Only the compile, under the server's
// compile lock, uses it.
type routeOrder struct {
	prio []int
	src  []string
	perm []int32
}

// sort returns the permutation that puts routes (sources[i] is
// routes[i]'s) in table order: highest priority first; ties broken by
// source so the order, and therefore which of two equal rules wins, is
// stable across rebuilds; equal sources keep their places (the index
// breaks the tie: a stable sort's extra passes cost more). The result is
// the order's until the next call.
func (o *routeOrder) sort(routes []*Route, sources []string) []int32 {
	if o.same(routes, sources) {
		return o.perm
	}
	perm := make([]int32, len(routes))
	for i := range perm {
		perm[i] = int32(i)
	}
	slices.SortFunc(perm, func(i, j int32) int {
		a, b := routes[i], routes[j]
		if a.priority != b.priority {
			return b.priority - a.priority
		}
		return cmp.Or(strings.Compare(sources[i], sources[j]), cmp.Compare(i, j))
	})
	o.prio = o.prio[:0]
	for _, rt := range routes {
		o.prio = append(o.prio, rt.priority)
	}
	o.src = append(o.src[:0], sources...)
	o.perm = perm
	return perm
}

// same reports whether routes and sources have the last sort's keys, in
// the same places. A source kept from the last compile is the same
// string, which compares without reading its bytes.
func (o *routeOrder) same(routes []*Route, sources []string) bool {
	if o.perm == nil || len(routes) != len(o.prio) {
		return false
	}
	for i, rt := range routes {
		if rt.priority != o.prio[i] || sources[i] != o.src[i] {
			return false
		}
	}
	return true
}
