package labels

import (
	"cmp"
	"slices"

	"github.com/rancher-edge/edge/route"
)

// SortByName orders services, which the caller owns, by name in place,
// keeping the order of equal names. It sorts indexes, not the services (a
// route.Service is hundreds of bytes), then moves each service once,
// cycle by cycle, rather than into a second array: a snapshot of 2,000
// routes is a megabyte. Ties are broken by index, which keeps equal names
// in order without a stable sort's extra passes. Every provider orders its
// snapshot with it, or with a NameOrder.
func SortByName(services []route.Service) []route.Service {
	var o NameOrder
	return o.Sort(services)
}

// NameOrder is SortByName for a caller that sorts nearly the same
// services again and again, as a provider does on every event: it keeps
// the last order it found, and takes it again while the names come in the
// same, in the same places. A name the caller kept from the last build is
// the same string, which compares without reading its bytes.
//
// The zero NameOrder has sorted nothing. Sort never changes what it kept
// in place (it replaces it), so a copy of a NameOrder may be kept by a
// memo the next call starts from.
type NameOrder struct {
	names []string // the names as they came in to the last sort
	perm  []int32  // where each of them went
}

// Sort orders services by name in place, as SortByName does.
func (o *NameOrder) Sort(services []route.Service) []route.Service {
	if slices.IsSortedFunc(services, func(a, b route.Service) int { return cmp.Compare(a.Name, b.Name) }) {
		return services
	}
	var perm []int32
	if o.same(services) {
		perm = slices.Clone(o.perm)
	} else {
		perm = make([]int32, len(services))
		for i := range perm {
			perm[i] = int32(i)
		}
		slices.SortFunc(perm, func(i, j int32) int {
			return cmp.Or(cmp.Compare(services[i].Name, services[j].Name), cmp.Compare(i, j))
		})
		names := make([]string, len(services))
		for i := range services {
			names[i] = services[i].Name
		}
		o.names, o.perm = names, slices.Clone(perm)
	}
	permute(services, perm)
	return services
}

func (o *NameOrder) same(services []route.Service) bool {
	if len(services) != len(o.names) {
		return false
	}
	for i := range services {
		if services[i].Name != o.names[i] {
			return false
		}
	}
	return true
}

// permute moves services[perm[i]] to place i, each service once, cycle by
// cycle; it uses up perm.
func permute(services []route.Service, perm []int32) {
	// services[i] is to become services[perm[i]]; a done place is -1.
	for i := range perm {
		if perm[i] < 0 || perm[i] == int32(i) {
			continue
		}
		held := services[i]
		j := int32(i)
		for {
			k := perm[j]
			perm[j] = -1
			if k == int32(i) {
				services[j] = held
				break
			}
			services[j] = services[k]
			j = k
		}
	}
}
