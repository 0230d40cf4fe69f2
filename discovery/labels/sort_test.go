package labels

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/rancher-edge/edge/route"
)

// TestSortByNameIsAStableSort: routes come out ordered by name, routes of one
// name in the order they came in, for any arrangement.
func TestSortByNameIsAStableSort(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 40 {
		in := make([]route.Service, n)
		for i := range in {
			in[i] = route.Service{Name: fmt.Sprint("r", r.IntN(n/2+1)), Rule: fmt.Sprint(i)}
		}
		want := slices.Clone(in)
		slices.SortStableFunc(want, func(a, b route.Service) int { return cmp.Compare(a.Name, b.Name) })
		got := SortByName(slices.Clone(in))
		if !slices.EqualFunc(got, want, func(a, b route.Service) bool { return a.Name == b.Name && a.Rule == b.Rule }) {
			t.Fatalf("%d routes: got %v, want %v", n, got, want)
		}
	}
}
