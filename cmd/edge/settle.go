package main

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rancher-edge/edge/internal/memtrim"
)

// settleWait bounds how long the edge waits, once it listens, for every
// provider's first snapshot before it counts its start-up as over: a
// provider whose source is down retries for as long as it takes.
const settleWait = 10 * time.Second

// startup tells when the edge's start-up is over: it listens, and every
// provider has published once (or settleWait has passed since it
// listened). Then it gives the executable's start-up pages back
// (internal/memtrim): the package initialisers, the settings, the first
// compile have run, and what the request path needs faults back in.
type startup struct {
	pending   atomic.Int64
	published chan struct{} // closed when every provider has published once
	wait      time.Duration
	trim      func() (int64, error)
}

// newStartup expects the first snapshots of that many providers.
func newStartup(providers int) *startup {
	s := &startup{published: make(chan struct{}), wait: settleWait, trim: memtrim.Release}
	if s.pending.Store(int64(providers)); providers == 0 {
		close(s.published)
	}
	return s
}

// firstOf returns the function one provider's publish calls: its first
// call counts, the later ones do nothing.
func (s *startup) firstOf() func() {
	return sync.OnceFunc(func() {
		if s.pending.Add(-1) == 0 {
			close(s.published)
		}
	})
}

// settle waits for ready and the providers, within s.wait of ready, then
// trims. It returns when ctx ends first, trimming nothing.
func (p *parts) settle(ctx context.Context, s *startup, ready <-chan struct{}) {
	select {
	case <-ready:
	case <-ctx.Done():
		return
	}
	t := time.NewTimer(s.wait)
	defer t.Stop()
	select {
	case <-s.published:
	case <-t.C:
	case <-ctx.Done():
		return
	}
	p.trim(s, "start-up")
}

// trim gives the executable's pages back, and says so at debug level.
// serve calls it with "initialisers'" before the providers start, as
// well as settle's "start-up": loading 10,000 routes from a file peaks
// the heap, and the package initialisers' 15–20 MiB of the executable
// would otherwise be resident beside it.
func (p *parts) trim(s *startup, what string) {
	n, err := s.trim()
	switch {
	case errors.Is(err, memtrim.ErrUnsupported):
	case err != nil:
		p.log.Debug(what+" pages of the executable kept", "err", err)
	default:
		p.log.Debug(what+" pages of the executable given back to the kernel", "bytes", n)
	}
}
