package gcpace

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Policy is how far the heap may grow past the live heap.
type Policy struct {
	// Headroom is the growth allowed past the live heap, in bytes, once
	// the live heap is larger than it. Zero turns pacing off.
	Headroom uint64
	// Floor is the lowest GC percent set; zero means 50. It bounds the
	// collector's extra work for a live heap much larger than Headroom.
	Floor int
}

// Percent is the GC percent for a live heap of live bytes: Go's default
// 100 while live ≤ Headroom, else the percent that makes the goal
// live + Headroom, but not below Floor.
func (p Policy) Percent(live uint64) int {
	if p.Headroom == 0 || live <= p.Headroom {
		return 100
	}
	floor := p.Floor
	if floor <= 0 {
		floor = 50
	}
	return max(int(p.Headroom*100/live), floor)
}

// liveMetric is the heap marked live by the last collection.
const liveMetric = "/gc/heap/live:bytes"

// Pacer paces the collector; Start makes one.
type Pacer struct {
	p Policy

	mu      sync.Mutex // serialises after with Stop; guards the rest
	stopped bool
	last    int // the percent last set
	sample  []metrics.Sample
}

// Start paces the collector by p from the next collection on, until Stop.
// Only one Pacer may run at a time in a process.
func Start(p Policy) *Pacer {
	pc := &Pacer{p: p, last: 100, sample: []metrics.Sample{{Name: liveMetric}}}
	pc.arm()
	return pc
}

// Stop ends the pacing and restores Go's default percent.
func (pc *Pacer) Stop() {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if !pc.stopped {
		pc.stopped = true
		debug.SetGCPercent(100)
	}
}

// arm re-arms a cleanup on a fresh object: the object is unreachable as
// soon as it is made, so the next collection finds it and the runtime's
// cleanup goroutine calls after.
func (pc *Pacer) arm() {
	runtime.AddCleanup(new(sentinel), func(pc *Pacer) { pc.after() }, pc)
}

// sentinel is large enough to be a heap object of its own: the runtime
// batches tiny allocations, and a cleanup on one of those could wait for
// its neighbours.
type sentinel [16]byte

// after runs once per collection, in the runtime's cleanup goroutine.
func (pc *Pacer) after() {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.stopped {
		return
	}
	metrics.Read(pc.sample)
	if v := pc.sample[0].Value; v.Kind() == metrics.KindUint64 {
		if pct := pc.p.Percent(v.Uint64()); pct != pc.last {
			debug.SetGCPercent(pct)
			pc.last = pct
		}
	}
	pc.arm()
}
