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
// snapshot with it.
func SortByName(services []route.Service) []route.Service {
	if slices.IsSortedFunc(services, func(a, b route.Service) int { return cmp.Compare(a.Name, b.Name) }) {
		return services
	}
	perm := make([]int32, len(services))
	for i := range perm {
		perm[i] = int32(i)
	}
	slices.SortFunc(perm, func(i, j int32) int {
		return cmp.Or(cmp.Compare(services[i].Name, services[j].Name), cmp.Compare(i, j))
	})
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
	return services
}
