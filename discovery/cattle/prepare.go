package cattle

import (
	"cmp"
	"hash"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/rancher-edge/edge/discovery/labels"
	"github.com/rancher-edge/edge/route"
)

// Key names a service by its stack's name and its own, as its containers
// name it (io.rancher.stack_service.name is "<stack>/<service>").
type Key struct{ Stack, Service string }

// KeyOf reads a container's StackService. Stack names hold no "/".
func KeyOf(stackService string) (Key, bool) {
	st, svc, ok := strings.Cut(stackService, "/")
	return Key{st, svc}, ok
}

// Prepare joins containers to services and applies the filters. It is
// pure; inputs come out ordered by stack and service name.
func Prepare(w World, s Settings) Prepared {
	var p Prepared
	stacks := liveStacks(w.Stacks)
	byService := make(map[string][]Container, len(w.Services))
	for _, c := range w.Containers {
		if c.StackService != "" {
			byService[c.StackService] = append(byService[c.StackService], c)
		}
	}
	p.Counts = Counts{Stacks: len(stacks), Containers: len(w.Containers)}
	h := fnv.New64a()
	for _, svc := range sortServices(slices.Clone(w.Services), stacks) {
		st, ok := stacks[svc.StackID]
		if !ok || !routable(svc) {
			continue
		}
		p.Counts.Services++
		p.add(prepareOne(st, svc, byService[st.Name+"/"+svc.Name], s, h))
	}
	return p
}

// Reprepare returns what Prepare(w, s) returns, from prev, what Prepare
// returned for a world that differs from w only in the services that
// dirty names (their own fields or their containers'): it prepares those
// again and keeps prev's inputs, hashes and problems for every other. An
// event changes one service among thousands, and a whole Prepare was
// most of the time from the event to the routes. The set of stacks and
// the names of the other services must be those prev saw; a caller that
// cannot tell calls Prepare.
func Reprepare(prev Prepared, w World, s Settings, dirty map[Key]bool) Prepared {
	stacks := liveStacks(w.Stacks)
	p := Prepared{Counts: Counts{Stacks: len(stacks), Containers: len(w.Containers)}}
	var fresh []Service
	for _, svc := range w.Services {
		st, ok := stacks[svc.StackID]
		if !ok || !routable(svc) {
			continue
		}
		p.Counts.Services++
		if dirty[Key{st.Name, svc.Name}] {
			fresh = append(fresh, svc)
		}
	}
	containers := make(map[Key][]Container, len(dirty))
	for _, c := range w.Containers {
		if k, ok := KeyOf(c.StackService); ok && dirty[k] {
			containers[k] = append(containers[k], c)
		}
	}
	var made Prepared
	h := fnv.New64a()
	for _, svc := range sortServices(fresh, stacks) {
		st := stacks[svc.StackID]
		made.add(prepareOne(st, svc, containers[Key{st.Name, svc.Name}], s, h))
	}

	p.Inputs = make([]labels.Input, 0, len(prev.Inputs)+len(made.Inputs))
	p.Hashes = make([]uint64, 0, cap(p.Inputs))
	merge(&prev, &made, dirty, func(x *Prepared) int { return len(x.Inputs) },
		func(x *Prepared, i int) Key { return Key{x.Inputs[i].Stack, x.Inputs[i].Service} },
		func(x *Prepared, i int) {
			p.Inputs, p.Hashes = append(p.Inputs, x.Inputs[i]), append(p.Hashes, x.Hashes[i])
		})
	merge(&prev, &made, dirty, func(x *Prepared) int { return len(x.Problems) },
		func(x *Prepared, i int) Key { return Key{x.Problems[i].Source.Stack, x.Problems[i].Source.Service} },
		func(x *Prepared, i int) { p.Problems = append(p.Problems, x.Problems[i]) })
	return p
}

// merge walks the entries of prev and made — inputs or problems, as n,
// key and take see them — both in Prepare's order, and takes them in that
// order, leaving out prev's entries of the dirty services, which made
// holds anew.
func merge(prev, made *Prepared, dirty map[Key]bool, n func(*Prepared) int, key func(*Prepared, int) Key, take func(*Prepared, int)) {
	np, nm := n(prev), n(made)
	for i, j := 0, 0; i < np || j < nm; {
		if i < np && dirty[key(prev, i)] {
			i++
			continue
		}
		if j < nm && (i == np || compareKeys(key(made, j), key(prev, i)) < 0) {
			take(made, j)
			j++
		} else {
			take(prev, i)
			i++
		}
	}
}

func compareKeys(a, b Key) int {
	return cmp.Or(cmp.Compare(a.Stack, b.Stack), cmp.Compare(a.Service, b.Service))
}

// liveStacks indexes the stacks whose services may route, by id.
func liveStacks(all []Stack) map[string]Stack {
	stacks := make(map[string]Stack, len(all))
	for _, st := range all {
		if st.System || gone(st.State) {
			continue // infrastructure stacks (healthcheck, ipsec, …) never route
		}
		stacks[st.ID] = st
	}
	return stacks
}

// routable reports services that may route, in a live stack: those that
// count in the status.
func routable(svc Service) bool {
	return !svc.System && !gone(svc.State) && hasContainers(svc.Kind)
}

// sortServices orders services by stack name, name and id, in place.
func sortServices(services []Service, stacks map[string]Stack) []Service {
	slices.SortFunc(services, func(a, b Service) int {
		return cmp.Or(cmp.Compare(stacks[a.StackID].Name, stacks[b.StackID].Name), cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	return services
}

// oneService is what Prepare makes of one routable service: an input, or a
// problem, or neither.
type oneService struct {
	in      labels.Input
	ok      bool
	hash    uint64
	problem *route.Problem
}

func (p *Prepared) add(one oneService) {
	if one.problem != nil {
		p.Problems = append(p.Problems, *one.problem)
	}
	if one.ok {
		p.Inputs = append(p.Inputs, one.in)
		p.Hashes = append(p.Hashes, one.hash)
	}
}

// prepareOne filters svc, of stack st, and its containers.
func prepareOne(st Stack, svc Service, containers []Container, s Settings, h hash.Hash64) oneService {
	if s.HealthFilter && (!slices.Contains(servingServiceHealth, svc.Health) || !slices.Contains(servingServiceState, svc.State)) {
		if !hasTraefikLabel(svc.Labels) {
			return oneService{}
		}
		return oneService{problem: &route.Problem{
			Source:   route.Source{Provider: s.Provider, Stack: st.Name, Service: svc.Name},
			Severity: route.Error,
			Message:  "skipped: service is " + svc.State + "/" + orNull(svc.Health) + " and the service health filter (TRAEFIK_RANCHER_HEALTHCHECK) is on",
		}}
	}
	in := labels.Input{Stack: st.Name, Service: svc.Name, Labels: svc.Labels, Created: svc.Created}
	if s.StackFirst {
		in.DefaultHost = strings.ToLower(st.Name + "." + svc.Name)
	} else {
		in.DefaultHost = strings.ToLower(svc.Name + "." + st.Name)
	}
	for _, c := range containers {
		if !slices.Contains(servingContainerHealth, c.Health) || !slices.Contains(servingContainerState, c.State) {
			continue
		}
		ip := c.IP
		// Host-network containers share the host's address, which
		// the API publishes on the service (Traefik PR #2101).
		// rancher-metadata gives it as their primary_ip already.
		if c.NetworkMode == "host" {
			ip = ""
			if len(svc.PublicIPs) > 0 {
				ip = svc.PublicIPs[0]
			}
		}
		if ip == "" {
			continue // Traefik ≥ 1.6 drops containers without an address
		}
		in.Servers = append(in.Servers, labels.Address{Addr: ip, Name: c.Name})
	}
	slices.SortFunc(in.Servers, func(a, b labels.Address) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Addr, b.Addr))
	})
	h.Reset()
	labels.Hash(h, in)
	return oneService{in: in, ok: true, hash: h.Sum64()}
}
