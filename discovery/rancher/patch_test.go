package rancher

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/rancher-edge/edge/discovery/cattle"
)

// randomWorld is a small world in which names collide often: 3 stacks
// (one of them a system stack), 8 services, 20 containers.
func randomWorld(r *rand.Rand) raw {
	w := env(nil)
	for i := range 8 {
		s := randomService(r, fmt.Sprintf("1s%d", i))
		w.Services = append(w.Services, s)
	}
	for i := range 20 {
		w.Containers = append(w.Containers, randomContainer(r, fmt.Sprintf("1i%d", i)))
	}
	return w
}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

func randomService(r *rand.Rand, id string) rawService {
	s := svc(id, pick(r, "1st1", "1st5", "1st6", "1st9"), pick(r, "api", "www", "db", "Cache"),
		"traefik.port", pick(r, "80", "8080", "x"))
	s.State = pick(r, "active", "active", "removed", "upgrading", "inactive")
	s.Health = pick(r, "healthy", "healthy", "unhealthy", "")
	s.Kind = pick(r, "service", "service", "externalService")
	if r.IntN(4) == 0 {
		s.Labels["traefik.frontend.rule"] = "Host:" + id + ".example.com"
	}
	return s
}

func randomContainer(r *rand.Rand, id string) rawContainer {
	c := ctr(id, pick(r, "web/api", "web/www", "Shop/api", "Shop/db", "healthcheck/api", "nowhere", ""),
		pick(r, "10.42.0.1", "10.42.0.2", "10.42.0.3", ""), pick(r, "running", "running", "stopped"), pick(r, "healthy", "", "unhealthy"))
	c.ID = id
	return c
}

func randomPatch(r *rand.Rand, w raw) patch {
	switch r.IntN(10) {
	case 0:
		st := pick(r, w.Stacks...)
		st.State = pick(r, "active", "removed")
		return patch{stack: &st}
	case 1, 2, 3:
		var s rawService
		if r.IntN(3) == 0 {
			s = randomService(r, fmt.Sprintf("1s%d", r.IntN(12))) // maybe new, maybe renamed
		} else {
			s = pick(r, w.Services...)
			s.State = pick(r, "active", "removed", "upgrading")
			s.Health = pick(r, "healthy", "unhealthy")
			s.Labels = map[string]string{"traefik.port": pick(r, "80", "81", "x")}
		}
		return patch{service: &s}
	default:
		var c rawContainer
		if r.IntN(4) == 0 {
			c = randomContainer(r, fmt.Sprintf("1i%d", r.IntN(25))) // maybe new, maybe moved
		} else {
			c = pick(r, w.Containers...)
			c.Health = pick(r, "healthy", "unhealthy", "")
			c.State = pick(r, "running", "stopped")
		}
		return patch{container: &c}
	}
}

// TestEventsPrepareAsAWholeReadDoes: what the provider makes of events —
// the services they touch prepared again, the others kept — is what
// preparing the whole patched world makes, in random worlds and random
// batches of events, with the service health filter on and off.
func TestEventsPrepareAsAWholeReadDoes(t *testing.T) {
	t.Parallel()
	for seed := range uint64(400) {
		r := rand.New(rand.NewPCG(seed, 21))
		cfg := defaults()
		cfg.HealthFilter = seed%2 == 0
		set := cfg.settings()
		w := world{raw: randomWorld(r)}
		prep := prepare(w.raw, set)
		for step := range 6 {
			ps := make([]patch, 1+r.IntN(3))
			for i := range ps {
				ps[i] = randomPatch(r, w.raw)
			}
			dirty, all := w.apply(ps)
			want := prepare(w.raw, set)
			got := want
			if !all {
				got = cattle.Reprepare(prep, w.raw, set, dirty)
			}
			if !samePrepared(got, want) {
				t.Fatalf("seed %d step %d: events %s prepared\n%+v\nwant\n%+v", seed, step, describePatches(ps), got, want)
			}
			prep = got
		}
	}
}

func samePrepared(a, b prepared) bool {
	if len(a.Inputs) != len(b.Inputs) || len(a.Problems) != len(b.Problems) || a.Counts != b.Counts || a.Fingerprint() != b.Fingerprint() {
		return false
	}
	for i := range a.Inputs {
		if !reflect.DeepEqual(a.Inputs[i], b.Inputs[i]) || a.Hashes[i] != b.Hashes[i] {
			return false
		}
	}
	for i := range a.Problems {
		if a.Problems[i] != b.Problems[i] {
			return false
		}
	}
	return true
}

func describePatches(ps []patch) string {
	var out string
	for _, p := range ps {
		switch {
		case p.stack != nil:
			out += fmt.Sprintf(" stack%+v", *p.stack)
		case p.service != nil:
			out += fmt.Sprintf(" service%+v", *p.service)
		case p.container != nil:
			out += fmt.Sprintf(" container%+v", *p.container)
		}
	}
	return out
}
