package edge

import (
	"sync"
	"time"
)

// HTTP/2 stream workers. A goroutine per stream would grow a fresh stack
// for every request (the proxy path needs a few KiB), which the profile
// showed at 5 % of the CPU, so a stream runs on a worker that serves
// stream after stream.
//
// An idle worker waits on a channel of its own, on a stack: the read loop
// hands a new stream to the worker that went idle last, whose stack is
// the warmest, with one buffered send. (A shared channel with a select on
// it, an idle timer and shutdown cost 2.5 % of the CPU in selects under
// h2load, and woke the longest-idle worker.) A timer that ticks every
// idleFor (h2WorkerIdle) while any worker is idle ends those that were
// already idle at the tick before: after 10 to 20 s idle, with no clock
// read per stream. close ends them all.
//
// Goroutines: each worker is counted in wg from its start to its end; the
// reaper's timer runs reap in a goroutine of its own, which takes mu.

// h2WorkerIdle is how long a worker waits for another stream, at
// least, before it ends.
const h2WorkerIdle = 10 * time.Second

// h2Workers is the stack of idle workers.
type h2Workers struct {
	wg sync.WaitGroup // every worker; Server.Close waits for them

	mu      sync.Mutex
	idle    []*h2Worker   // the most recently idle on top
	reaper  *time.Timer   // armed while idle is not empty
	idleFor time.Duration // h2WorkerIdle; tests shorten it
	tick    uint64        // the reaper's ticks so far
	closed  bool
}

// h2Worker is one idle worker's mailbox: a stream to serve, or nil to end.
type h2Worker struct {
	next chan *h2stream // buffered: the sender never waits
	tick uint64         // the reaper's tick when it went idle
}

// serve runs st on an idle worker, or on a new one.
func (ws *h2Workers) serve(st *h2stream) {
	ws.mu.Lock()
	if n := len(ws.idle); n > 0 && !ws.closed {
		w := ws.idle[n-1]
		ws.idle[n-1] = nil
		ws.idle = ws.idle[:n-1]
		ws.mu.Unlock()
		w.next <- st
		return
	}
	ws.mu.Unlock()
	ws.wg.Go(func() { ws.work(st) })
}

// work serves st, then the streams handed to it while it is idle.
func (ws *h2Workers) work(st *h2stream) {
	w := &h2Worker{next: make(chan *h2stream, 1)}
	for st != nil {
		st.run()
		if !ws.park(w) {
			return
		}
		st = <-w.next
	}
}

// park puts w on the idle stack; false means the workers are closed.
func (ws *h2Workers) park(w *h2Worker) bool {
	ws.mu.Lock()
	if ws.closed {
		ws.mu.Unlock()
		return false
	}
	w.tick = ws.tick
	ws.idle = append(ws.idle, w)
	if ws.reaper == nil {
		ws.reaper = time.AfterFunc(ws.idleFor, ws.reap)
	}
	ws.mu.Unlock()
	return true
}

// reap ends the workers already idle at the previous tick, the bottom
// of the stack (ticks only grow upwards), and ticks again while any stay
// idle.
func (ws *h2Workers) reap() {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.closed {
		return
	}
	n := 0
	for n < len(ws.idle) && ws.idle[n].tick < ws.tick {
		ws.idle[n].next <- nil
		n++
	}
	rest := copy(ws.idle, ws.idle[n:])
	clear(ws.idle[rest:])
	ws.idle = ws.idle[:rest]
	ws.tick++
	if rest == 0 {
		ws.reaper = nil
		return
	}
	ws.reaper.Reset(ws.idleFor)
}

// close ends the idle workers, and makes the busy ones end after their
// stream, then waits for them all.
func (ws *h2Workers) close() {
	ws.mu.Lock()
	ws.closed = true
	if ws.reaper != nil {
		ws.reaper.Stop()
		ws.reaper = nil
	}
	for _, w := range ws.idle {
		w.next <- nil
	}
	ws.idle = nil
	ws.mu.Unlock()
	ws.wg.Wait()
}
