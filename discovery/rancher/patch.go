package rancher

import (
	"github.com/go-json-experiment/json"

	"github.com/rancher-edge/edge/discovery/cattle"
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

// world is one read of the environment with the events since applied.
// The Run loop owns it, and patches it in place: an event costs what it
// changes, not a copy of 6,000 containers.
type world struct {
	raw
	// The position of each resource by id, built by the first patch: a
	// patch replaces a resource in place or appends one, so positions
	// hold for the world's life.
	stacks, services, containers map[string]int
}

// apply applies the patches in order: a resource replaces the one with
// its id, or is added. Removed resources keep their "removed" state,
// which prepare skips, until the next full read drops them.
//
// It also says which services' routes the patches may change: dirty names
// them, for cattle.Reprepare, unless all is set — a stack changed, or a
// service was added or changed its name or stack — when only a whole
// prepare will do.
func (w *world) apply(ps []patch) (dirty map[cattle.Key]bool, all bool) {
	if w.containers == nil {
		w.stacks = index(w.Stacks, func(s rawStack) string { return s.ID })
		w.services = index(w.Services, func(s rawService) string { return s.ID })
		w.containers = index(w.Containers, func(c rawContainer) string { return c.ID })
	}
	dirty = make(map[cattle.Key]bool, 2*len(ps))
	touch := func(stackService string) {
		if k, ok := cattle.KeyOf(stackService); ok {
			dirty[k] = true
		}
	}
	for _, p := range ps {
		switch {
		case p.stack != nil:
			all = true
			w.Stacks = upsert(w.Stacks, w.stacks, p.stack.ID, *p.stack)
		case p.service != nil:
			i, ok := w.services[p.service.ID]
			if !ok || w.Services[i].StackID != p.service.StackID || w.Services[i].Name != p.service.Name {
				all = true
			}
			var stack string
			if j, ok := w.stacks[p.service.StackID]; ok {
				stack = w.Stacks[j].Name
			}
			dirty[cattle.Key{Stack: stack, Service: p.service.Name}] = true
			w.Services = upsert(w.Services, w.services, p.service.ID, *p.service)
		case p.container != nil:
			if i, ok := w.containers[p.container.ID]; ok {
				touch(w.Containers[i].StackService)
			}
			touch(p.container.StackService)
			w.Containers = upsert(w.Containers, w.containers, p.container.ID, *p.container)
		}
	}
	return dirty, all
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
