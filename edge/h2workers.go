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
// h2load, and woke the longest-idle worker.) Workers idle for idleFor
// (h2WorkerIdle) are ended by a timer that runs while any worker is idle;
// close ends them all.
//
// Goroutines: each worker is counted in wg from its start to its end; the
// reaper's timer runs reap in a goroutine of its own, which takes mu.

// h2WorkerIdle is how long a worker waits for another stream before it
// ends.
const h2WorkerIdle = 10 * time.Second

// h2Workers is the stack of idle workers.
type h2Workers struct {
	wg sync.WaitGroup // every worker; Server.Close waits for them

	mu      sync.Mutex
	idle    []*h2Worker   // the most recently idle on top
	reaper  *time.Timer   // armed while idle is not empty
	idleFor time.Duration // h2WorkerIdle; tests shorten it
	closed  bool
}

// h2Worker is one idle worker's mailbox: a stream to serve, or nil to end.
type h2Worker struct {
	next  chan *h2stream // buffered: the sender never waits
	since time.Time      // when it went idle
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
	// Read under the lock, so that the stack's times only grow upwards:
	// reap takes the oldest from the bottom.
	w.since = time.Now()
	ws.idle = append(ws.idle, w)
	if ws.reaper == nil {
		ws.reaper = time.AfterFunc(ws.idleFor, ws.reap)
	}
	ws.mu.Unlock()
	return true
}

// reap ends the workers idle for idleFor or longer, the bottom of
// the stack, and runs again while any stay idle.
func (ws *h2Workers) reap() {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.closed {
		return
	}
	now := time.Now()
	n := 0
	for n < len(ws.idle) && now.Sub(ws.idle[n].since) >= ws.idleFor {
		ws.idle[n].next <- nil
		n++
	}
	rest := copy(ws.idle, ws.idle[n:])
	clear(ws.idle[rest:])
	ws.idle = ws.idle[:rest]
	if rest == 0 {
		ws.reaper = nil
		return
	}
	// Again when the oldest left will have been idle long enough.
	ws.reaper.Reset(ws.idleFor - now.Sub(ws.idle[0].since))
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
