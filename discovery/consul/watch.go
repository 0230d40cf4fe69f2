package consul

import (
	"context"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/hashicorp/consul/api"
)

// event is one answer of a watch: a new catalog or a new list of checks,
// or the error that ended a read.
type event struct {
	catalog  map[string][]string // set by the catalog watch
	checks   api.HealthChecks    // set by the health watch
	health   bool                // from the health watch
	filtered bool
	err      error
}

// watch runs one blocking query in a loop until ctx ends and sends every
// answer whose index moved (and every error) to events. Consul's rules for
// blocking queries apply: an index that goes backwards (a restored or
// restarted server) starts over from zero, and errors back off with
// jitter so that many edges do not retry in step.
func (p *Provider) watch(ctx context.Context, health bool, r reader, events chan<- event) {
	var index uint64
	failures := 0
	for ctx.Err() == nil {
		var ev event
		var m meta
		var err error
		if health {
			ev.checks, m, err = r.checks(ctx, index)
		} else {
			ev.catalog, m, err = r.services(ctx, index)
		}
		ev.health, ev.filtered, ev.err = health, m.filtered, err
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			failures++
			index = 0 // read the whole state again once the agent answers
		} else {
			failures = 0
			if m.index == index && index != 0 {
				continue // the wait ended without a change
			}
			index = m.index
			if index == 0 {
				index = 1 // Consul never answers 0; guard against a busy loop
			}
		}
		select {
		case events <- ev:
		case <-ctx.Done():
			return
		}
		if failures > 0 {
			d := p.backoff(failures)
			p.setNext(time.Now().Add(d))
			sleep(ctx, d)
		}
	}
}

// backoff is the wait before retry n (from 1): doubling from Config.Backoff,
// capped at Config.MaxBackoff, less up to a quarter of jitter.
func (p *Provider) backoff(n int) time.Duration {
	d := p.cfg.Backoff
	for i := 1; i < n && d < p.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, p.cfg.MaxBackoff)
	return d - time.Duration(rand.Int64N(int64(d)/4+1))
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// checkDigests sums a hash of each check's routing-relevant fields per
// service, and per node for node checks (serfHealth, node maintenance). A
// sum does not depend on the order of the list. Output and timestamps are
// left out: a TTL heartbeat with new output changes nothing for routing.
func checkDigests(checks api.HealthChecks) (services, nodes map[string]uint64) {
	services, nodes = map[string]uint64{}, map[string]uint64{}
	for _, c := range checks {
		if c == nil {
			continue
		}
		h := fnv.New64a()
		for _, s := range []string{c.Node, c.CheckID, c.ServiceID, c.Status, strconv.Itoa(len(c.ServiceTags))} {
			_, _ = h.Write([]byte(s))
			_, _ = h.Write([]byte{0})
		}
		for _, t := range c.ServiceTags {
			_, _ = h.Write([]byte(t))
			_, _ = h.Write([]byte{0})
		}
		if c.ServiceID == "" {
			nodes[c.Node] += h.Sum64()
		} else {
			services[c.ServiceName] += h.Sum64()
		}
	}
	return services, nodes
}

// changedKeys lists the keys whose values differ between two maps,
// including keys only one of them has.
func changedKeys[V comparable](old, cur map[string]V) []string {
	var out []string
	for k, v := range cur {
		if ov, ok := old[k]; !ok || ov != v {
			out = append(out, k)
		}
	}
	for k := range old {
		if _, ok := cur[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}

func sameTags(a, b []string) bool { return slices.Equal(a, b) }
