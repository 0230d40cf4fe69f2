package rancher

import (
	"slices"

	"github.com/go-json-experiment/json"
)

// patch is one resource as a resource.change event carried it. Cattle
// sends the resource's full current state (rancher-api.md §4.2), so the
// provider can replace its copy from the last read and rebuild without
// reading thousands of containers again: a change is live in the time of
// a build, not of a full read.
type patch struct {
	stack     *rawStack
	service   *rawService
	container *rawContainer
}

// decodePatch turns an event's resource into a patch. ok is false when the
// type is not one discovery reads or the resource does not decode; the
// caller then falls back to a full read. The resource decodes as a page's
// resources do (pages.go): the same wire types, decoder and options.
func decodePatch(resourceType string, resource []byte) (p patch, ok bool) {
	if len(resource) == 0 {
		return patch{}, false
	}
	switch resourceType {
	case "stack":
		var w wireStack
		if json.Unmarshal(resource, &w, decodeOpts) != nil || w.ID == "" {
			return patch{}, false
		}
		r := w.raw()
		return patch{stack: &r}, true
	case "container", "instance":
		var w wireContainer
		if json.Unmarshal(resource, &w, decodeOpts) != nil || w.ID == "" {
			return patch{}, false
		}
		r := w.raw()
		return patch{container: &r}, true
	case "service", "loadBalancerService", "externalService", "dnsService", "kubernetesService":
		var w wireService
		if json.Unmarshal(resource, &w, decodeOpts) != nil || w.ID == "" {
			return patch{}, false
		}
		r := w.raw()
		return patch{service: &r}, true
	}
	return patch{}, false
}

// apply returns r with the patches applied in order: a resource replaces
// the one with its id, or is added. r itself is not modified, so a world
// that was published from stays as it was. Removed resources keep their
// "removed" state, which prepare skips, until the next full read drops
// them.
func apply(r raw, ps []patch) raw {
	out := raw{
		Stacks:     slices.Clone(r.Stacks),
		Services:   slices.Clone(r.Services),
		Containers: slices.Clone(r.Containers),
	}
	stacks := index(out.Stacks, func(s rawStack) string { return s.ID })
	services := index(out.Services, func(s rawService) string { return s.ID })
	containers := index(out.Containers, func(c rawContainer) string { return c.ID })
	for _, p := range ps {
		switch {
		case p.stack != nil:
			out.Stacks = upsert(out.Stacks, stacks, p.stack.ID, *p.stack)
		case p.service != nil:
			out.Services = upsert(out.Services, services, p.service.ID, *p.service)
		case p.container != nil:
			out.Containers = upsert(out.Containers, containers, p.container.ID, *p.container)
		}
	}
	return out
}

func index[T any](xs []T, id func(T) string) map[string]int {
	m := make(map[string]int, len(xs))
	for i, x := range xs {
		m[id(x)] = i
	}
	return m
}

func upsert[T any](xs []T, idx map[string]int, id string, x T) []T {
	if i, ok := idx[id]; ok {
		xs[i] = x
		return xs
	}
	idx[id] = len(xs)
	return append(xs, x)
}
