package edge

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// idleWorkers is how many HTTP/2 stream workers wait for a stream.
func (ws *h2Workers) idleWorkers() int {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return len(ws.idle)
}

// TestH2WorkersEndWhenIdle: the goroutines a burst of concurrent streams
// needed wait for the next streams, then end once idle, and a stream
// after that still gets one.
func TestH2WorkersEndWhenIdle(t *testing.T) {
	te := h2Edge(t, h2Backend(t, nil, nil))
	ws := &te.srv.h2workers
	ws.mu.Lock()
	ws.idleFor = 300 * time.Millisecond
	ws.mu.Unlock()
	c := te.client(true)

	const burst = 12 // each waits 300 ms at the backend: all at once
	var wg sync.WaitGroup
	for range burst {
		wg.Go(func() {
			resp, body := h2Get(t, c, hostURL(te, "app.test.local", "/slow"))
			if resp.StatusCode != 200 || body != "slow done" {
				t.Errorf("/slow: %d %q", resp.StatusCode, body)
			}
		})
	}
	wg.Wait()
	if !eventually(5*time.Second, func() bool { return ws.idleWorkers() == burst }) {
		t.Fatalf("%d idle workers after a burst of %d streams, want %d", ws.idleWorkers(), burst, burst)
	}
	if !eventually(5*time.Second, func() bool { return ws.idleWorkers() == 0 }) {
		t.Fatalf("%d workers still idle 5 s after the burst; idle ones end after 300 to 600 ms", ws.idleWorkers())
	}

	for i := range 3 {
		resp, body := h2Get(t, c, hostURL(te, "app.test.local", fmt.Sprintf("/after%d", i)))
		if resp.StatusCode != 200 || body != fmt.Sprintf("ok /after%d", i) {
			t.Fatalf("after the workers ended: %d %q", resp.StatusCode, body)
		}
	}
}
