package edge

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"sync/atomic"
)

// balancer picks a backend for one request. Implementations are built once
// per generation and are safe for concurrent use without locks.
type balancer interface {
	// pick returns an available backend other than skip, or nil.
	pick(skip *backend) *backend
}

// wrr is smooth weighted round robin (the nginx algorithm). The sequence is
// computed once per generation, so a pick is one atomic add and a slice
// index: no lock shared between cores.
type wrr struct {
	seq      []*backend
	backends []*backend
	next     atomic.Uint64
}

// maxSeq bounds the precomputed sequence; larger weight sums are scaled
// down, which keeps ratios to within a fraction of a percent.
const maxSeq = 4096

func newWRR(backends []*backend, weights []int) *wrr {
	w := make([]int, len(weights))
	sum := 0
	for i, x := range weights {
		w[i] = x
		sum += x
	}
	if sum > maxSeq {
		scale := float64(maxSeq) / float64(sum)
		sum = 0
		for i, x := range weights {
			if x > 0 {
				w[i] = max(1, int(math.Round(float64(x)*scale)))
			}
			sum += w[i]
		}
	}
	if g := gcdAll(w); g > 1 {
		sum = 0
		for i := range w {
			w[i] /= g
			sum += w[i]
		}
	}
	seq := make([]*backend, 0, sum)
	current := make([]int, len(w))
	for range sum {
		best := -1
		for i, x := range w {
			if x == 0 {
				continue
			}
			current[i] += x
			if best < 0 || current[i] > current[best] {
				best = i
			}
		}
		current[best] -= sum
		seq = append(seq, backends[best])
	}
	return &wrr{seq: seq, backends: backends}
}

func gcdAll(w []int) int {
	g := 0
	for _, x := range w {
		for x != 0 {
			g, x = x, g%x
		}
	}
	return g
}

func (b *wrr) pick(skip *backend) *backend {
	n := uint64(len(b.seq))
	if n == 0 {
		return nil
	}
	start := b.next.Add(1) - 1
	// A failing backend is skipped in place, so the others keep their
	// relative weights.
	for i := range n {
		c := b.seq[(start+i)%n]
		if c != skip && c.available() {
			return c
		}
	}
	// Passive health took every one out: try them all rather than none.
	for i := range n {
		c := b.seq[(start+i)%n]
		if c != skip && c.usable() {
			return c
		}
	}
	return nil
}

// leastOutstanding is Traefik's "drr" method as users meant it: the backend
// with the fewest requests in flight, relative to its weight. Ties go
// round robin.
type leastOutstanding struct {
	backends []*backend
	next     atomic.Uint64
}

func (b *leastOutstanding) pick(skip *backend) *backend {
	n := uint64(len(b.backends))
	if n == 0 {
		return nil
	}
	start := b.next.Add(1) - 1
	var best *backend
	var bestLoad float64
	for pass := 0; pass < 2 && best == nil; pass++ {
		for i := range n {
			c := b.backends[(start+i)%n]
			// The second pass is for when passive health took every
			// backend out: all are tried rather than none.
			if c == skip || (pass == 0 && !c.available()) || (pass == 1 && !c.usable()) {
				continue
			}
			load := float64(c.inflight.Load()) / float64(c.weight.Load())
			if best == nil || load < bestLoad {
				best, bestLoad = c, load
			}
		}
	}
	return best
}

// stickyValue is the cookie value naming a backend: a hash, so the cookie
// does not reveal internal addresses.
func stickyValue(rawURL string) string {
	sum := sha256.Sum256([]byte(rawURL))
	return hex.EncodeToString(sum[:8])
}

// stickyCookieName derives Traefik 1.7's default cookie name when a route
// asks for stickiness without naming the cookie.
func stickyCookieName(routeName string) string {
	sum := sha256.Sum256([]byte("_TRAEFIK_BACKEND_" + routeName))
	return "_" + hex.EncodeToString(sum[:])[:5]
}
