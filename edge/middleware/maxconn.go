package middleware

import (
	"fmt"
	"net/http"
	"sync"

	"github.com/rancher-edge/edge/route"
)

// MaxConn limits the requests in flight per key, as Traefik 1.7 (oxy's
// connlimit) did: cfg.Amount per key from cfg.ExtractorFunc
// (request.host when empty, Traefik's default). A request over the limit
// is refused at once with 429; it does not wait. Keys are forgotten as
// soon as their last request ends, so memory follows the requests in
// flight.
func MaxConn(cfg route.MaxConn, next http.Handler) (http.Handler, error) {
	if next == nil {
		return nil, fmt.Errorf("maxconn: %w", errNoNext)
	}
	name := cfg.ExtractorFunc
	if name == "" {
		name = "request.host"
	}
	key, err := newExtractor(name)
	if err != nil {
		return nil, fmt.Errorf("maxconn: %w", err)
	}
	if cfg.Amount <= 0 {
		return nil, fmt.Errorf("maxconn: amount %d is not positive", cfg.Amount)
	}
	return &maxConn{key: key, amount: cfg.Amount, next: next, inflight: map[string]int64{}}, nil
}

type maxConn struct {
	key    extractor
	amount int64
	next   http.Handler

	mu       sync.Mutex
	inflight map[string]int64 // guarded by mu; no zero entries
}

func (m *maxConn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	k := m.key(r)
	m.mu.Lock()
	n := m.inflight[k]
	if n >= m.amount {
		m.mu.Unlock()
		http.Error(w, fmt.Sprintf("429 Too Many Requests: at most %d at a time", m.amount), http.StatusTooManyRequests)
		return
	}
	m.inflight[k] = n + 1
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		if m.inflight[k]--; m.inflight[k] == 0 {
			delete(m.inflight, k)
		}
		m.mu.Unlock()
	}()
	m.next.ServeHTTP(w, r)
}
