package edge

import (
	"context"
	"sync"
	"time"
)

// stallWatch bounds the HTTP/2 streams of net/http's design, whose
// answers x/net/http2's server writes with no deadline: a stream held at
// a zero window waits for window forever, and its backend exchange with
// it. A deadline per stream (http.ResponseController.SetWriteDeadline)
// would cost three allocations a request, a timer among them; instead
// each answer being written is listed (recorder.watch), its writes note
// when they start, and one goroutine looks every quarter WriteTimeout for
// a write under way for longer than WriteTimeout: its stream is reset
// (a deadline in the past resets it at once), which fails the write,
// which ends the exchange (ReverseProxy closes the backend's body).
//
// HTTP/1 connections need none of this: a deadline on a connection costs
// no allocation, so recorder.extend moves it as writes go.
type stallWatch struct {
	timeout time.Duration

	mu   sync.Mutex
	head *recorder // the answers being written, linked through recorder.prev/next
}

// add lists l until remove; its writes are then watched.
func (w *stallWatch) add(l *recorder) {
	w.mu.Lock()
	l.watched = true
	l.prev, l.next = nil, w.head
	if w.head != nil {
		w.head.prev = l
	}
	w.head = l
	w.mu.Unlock()
}

func (w *stallWatch) remove(l *recorder) {
	w.mu.Lock()
	if l.prev != nil {
		l.prev.next = l.next
	} else {
		w.head = l.next
	}
	if l.next != nil {
		l.next.prev = l.prev
	}
	l.prev, l.next, l.watched = nil, nil, false
	w.mu.Unlock()
}

// run checks the listed answers every quarter timeout until ctx ends.
func (w *stallWatch) run(ctx context.Context) {
	t := time.NewTicker(w.timeout / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			w.check(now)
		}
	}
}

// check resets the stream of every answer whose current write began more
// than timeout before now. The handler is still running (it removes its
// answer before it returns), so its writer is still valid.
func (w *stallWatch) check(now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for l := w.head; l != nil; l = l.next {
		if since := l.writing.Load(); since != 0 && !l.cut && now.UnixNano()-since > int64(w.timeout) {
			l.cut = true
			l.dl.SetWriteDeadline(time.Unix(1, 0))
		}
	}
}
