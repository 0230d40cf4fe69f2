package edge

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestRouteOrderReusesOnlyTheSameKeys sorts random routes again and again,
// changing a priority or a source now and then, and checks that the
// remembered order is always the one a fresh sort gives: reused when
// nothing moved, sorted again when anything did.
func TestRouteOrderReusesOnlyTheSameKeys(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	routes := make([]*Route, 50)
	sources := make([]string, len(routes))
	for i := range routes {
		routes[i] = &Route{compiledRoute: &compiledRoute{priority: r.IntN(5)}}
		sources[i] = fmt.Sprintf("file/s%d", r.IntN(20))
	}
	var o routeOrder
	reused := 0
	for step := range 200 {
		switch r.IntN(4) {
		case 0:
			i := r.IntN(len(routes))
			routes[i] = &Route{compiledRoute: &compiledRoute{priority: r.IntN(5)}}
		case 1:
			sources[r.IntN(len(sources))] = fmt.Sprintf("file/s%d", r.IntN(20))
		}
		last := o.perm
		got := slices.Clone(o.sort(routes, sources))
		if len(last) > 0 && &o.perm[0] == &last[0] {
			reused++
		}
		var fresh routeOrder
		if want := fresh.sort(routes, sources); !slices.Equal(got, want) {
			t.Fatalf("step %d: order %v, a fresh sort gives %v", step, got, want)
		}
	}
	if reused == 0 {
		t.Fatal("the order was never reused")
	}
	t.Logf("%d of 200 sorts reused the last order", reused)
}
