package cattle

import (
	"encoding/binary"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/rancher-edge/edge/discovery/labels"
	"github.com/rancher-edge/edge/route"
)

// Prepared is a world joined and filtered into labels.Build inputs, before
// the routes are built: enough to fingerprint.
type Prepared struct {
	Inputs []labels.Input
	// Hashes[i] is the labels.Hash of Inputs[i]: the fingerprint is made
	// of them, and Assemble rebuilds only inputs whose hash changed.
	Hashes   []uint64
	Problems []route.Problem // services skipped before labels.Build
	Counts   Counts
}

// Counts are what a read saw, for the provider's status.
type Counts struct{ Stacks, Services, Containers int }

// Container and service states and health values that serve traffic,
// exactly Traefik 1.7's containerFilter and serviceFilter
// (traefik-rancher.md §1.4–1.5).
var (
	servingContainerHealth = []string{"", "healthy", "updating-healthy"}
	servingContainerState  = []string{"", "running", "updating-running", "upgraded"}
	servingServiceHealth   = []string{"", "healthy", "updating-healthy"}
	servingServiceState    = []string{"", "active", "updating-active", "upgraded", "upgrading"}
)

// gone reports states of resources on their way out; Cattle lists removed
// resources until they are purged.
func gone(state string) bool {
	switch state {
	case "removed", "removing", "purging", "purged":
		return true
	}
	return false
}

// hasContainers reports service kinds that run containers of their own:
// external and DNS services have none to route to.
func hasContainers(kind string) bool {
	return kind == "" || kind == "service" || kind == "loadBalancerService"
}

func hasTraefikLabel(ls map[string]string) bool {
	for k := range ls {
		if strings.HasPrefix(k, "traefik.") {
			return true
		}
	}
	return false
}

func orNull(s string) string {
	if s == "" {
		return "null"
	}
	return s
}

// Fingerprint hashes everything the routes are built from. Settings are
// fixed for a provider's lifetime and left out; so is the read's order,
// which Prepare has normalised.
func (p Prepared) Fingerprint() uint64 {
	h := fnv.New64a()
	var b [8]byte
	for _, x := range p.Hashes {
		binary.LittleEndian.PutUint64(b[:], x)
		_, _ = h.Write(b[:])
	}
	for _, pr := range p.Problems {
		_, _ = h.Write([]byte(pr.String()))
		_, _ = h.Write([]byte{0})
	}
	if sum := h.Sum64(); sum != 0 {
		return sum
	}
	return 1 // zero means unknown in route.Snapshot
}

// Memo is what one Assemble built for each input, by stack and service,
// so that the next rebuilds only the services whose input changed: an
// event changes one service among thousands, and labels.Build was most
// of a rebuild's time. A Memo is never modified once returned, so the
// routes it shares with a published snapshot stay as they were; the zero
// Memo holds nothing.
type Memo struct {
	built map[Key]memoEntry
	order labels.NameOrder // the last call's order of its routes
}

type memoEntry struct {
	hash     uint64 // the input's labels.Hash
	services []route.Service
	problems []route.Problem
}

// Assemble builds the routes of prepared inputs through labels.Build and
// reports services built twice under one name (labels.Dedupe); rule
// clashes are the edge compiler's to report, across providers. An input
// whose hash is the one it had in prev is not built again: its routes
// and problems are prev's. The returned Memo holds this call's inputs
// only, for the next call.
func Assemble(p Prepared, s Settings, prev Memo) ([]route.Service, []route.Problem, Memo) {
	next := Memo{built: make(map[Key]memoEntry, len(p.Inputs)), order: prev.order}
	// Sized for one route per input, the common case, so the snapshot
	// keeps no growth slack alive.
	services := make([]route.Service, 0, len(p.Inputs))
	problems := slices.Clone(p.Problems)
	for i, in := range p.Inputs {
		k := Key{in.Stack, in.Service}
		e, ok := prev.built[k]
		if !ok || e.hash != p.Hashes[i] {
			e.hash = p.Hashes[i]
			e.services, e.problems = labels.Build(in, s.Labels)
		}
		next.built[k] = e
		services = append(services, e.services...)
		problems = append(problems, e.problems...)
	}
	services, dups := labels.Dedupe(services)
	problems = append(problems, dups...)
	return next.order.Sort(services), problems, next
}

// Build turns one read into a snapshot; Built is left for the caller.
func Build(w World, s Settings) (route.Snapshot, []route.Problem) {
	p := Prepare(w, s)
	services, problems, _ := Assemble(p, s, Memo{})
	return route.Snapshot{Provider: s.Provider, Services: services, Problems: problems, Fingerprint: p.Fingerprint()}, problems
}
