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

// TestNameOrderSortsAsSortByName sorts nearly the same services again and
// again with one NameOrder, as a provider does on every event, renaming,
// adding or dropping a service now and then, and checks every result
// against a stable sort.
func TestNameOrderSortsAsSortByName(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	in := make([]route.Service, 30)
	for i := range in {
		in[i] = route.Service{Name: fmt.Sprint("r", r.IntN(20)), Rule: fmt.Sprint(i)}
	}
	var o NameOrder
	reused := 0
	for step := range 300 {
		switch r.IntN(6) {
		case 0:
			in[r.IntN(len(in))].Name = fmt.Sprint("r", r.IntN(20))
		case 1:
			in = append(in, route.Service{Name: fmt.Sprint("r", r.IntN(20)), Rule: fmt.Sprint("new", step)})
		case 2:
			i := r.IntN(len(in))
			in = slices.Delete(in, i, i+1)
		}
		want := slices.Clone(in)
		slices.SortStableFunc(want, func(a, b route.Service) int { return cmp.Compare(a.Name, b.Name) })
		kept := o.perm
		got := o.Sort(slices.Clone(in))
		if len(kept) > 0 && len(o.perm) > 0 && &kept[0] == &o.perm[0] {
			reused++
		}
		if !slices.EqualFunc(got, want, func(a, b route.Service) bool { return a.Name == b.Name && a.Rule == b.Rule }) {
			t.Fatalf("step %d: got %v, want %v", step, nameRules(got), nameRules(want))
		}
	}
	if reused == 0 {
		t.Fatal("the order was never reused")
	}
}

func nameRules(svcs []route.Service) []string {
	out := make([]string, len(svcs))
	for i, s := range svcs {
		out[i] = s.Name + "#" + s.Rule
	}
	return out
}
