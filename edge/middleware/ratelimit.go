package middleware

import (
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/rancher-edge/edge/route"
)

// rateLimitKeys bounds the clients a rate limiter remembers per route
// (Traefik 1.7's oxy limiter kept 65,536 too). Past it, buckets that have
// refilled completely are forgotten first — they hold no information — and
// then arbitrary ones, so a flood of distinct keys costs bounded memory and
// can at worst hand a forgotten client a fresh burst.
const rateLimitKeys = 1 << 16

const rateShards = 16

// RateLimit limits each client's request rate with token buckets, as
// Traefik 1.7 (oxy's ratelimit) did: per key from cfg.ExtractorFunc, one
// bucket per rate set holding up to Burst tokens and refilled with Average
// tokens per Period. A request takes one token from every bucket or from
// none; without one it is answered 429 with Retry-After.
func RateLimit(cfg route.RateLimit, next http.Handler) (http.Handler, error) {
	return newRateLimit(cfg, time.Now, next)
}

func newRateLimit(cfg route.RateLimit, now func() time.Time, next http.Handler) (*rateLimit, error) {
	if next == nil {
		return nil, fmt.Errorf("rate limit: %w", errNoNext)
	}
	key, err := newExtractor(cfg.ExtractorFunc)
	if err != nil {
		return nil, fmt.Errorf("rate limit: %w", err)
	}
	if len(cfg.RateSets) == 0 {
		return nil, errors.New("rate limit: no rate set")
	}
	rl := &rateLimit{key: key, next: next, now: now, seed: maphash.MakeSeed()}
	for _, rs := range cfg.RateSets {
		if rs.Period <= 0 || rs.Average <= 0 || rs.Burst <= 0 {
			return nil, fmt.Errorf("rate limit: rate set %q needs a positive period, average and burst", rs.Name)
		}
		rl.sets = append(rl.sets, rate{perNano: float64(rs.Average) / float64(rs.Period), burst: float64(rs.Burst)})
	}
	for i := range rl.shards {
		rl.shards[i].m = make(map[string][]bucket)
	}
	return rl, nil
}

type rate struct {
	perNano float64 // tokens added per nanosecond
	burst   float64
}

// bucket is one token bucket: its tokens when last touched.
type bucket struct {
	tokens float64
	last   int64 // unix nanoseconds
}

type rateLimit struct {
	key    extractor
	sets   []rate
	next   http.Handler
	now    func() time.Time
	seed   maphash.Seed
	shards [rateShards]struct {
		mu sync.Mutex
		m  map[string][]bucket // guarded by mu; one bucket per set
	}
}

func (rl *rateLimit) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if wait := rl.take(rl.key(r)); wait > 0 {
		secs := int64(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		http.Error(w, "429 Too Many Requests", http.StatusTooManyRequests)
		return
	}
	rl.next.ServeHTTP(w, r)
}

// take takes a token from each of key's buckets, or returns how long until
// all of them have one.
func (rl *rateLimit) take(key string) time.Duration {
	now := rl.now().UnixNano()
	sh := &rl.shards[maphash.String(rl.seed, key)%rateShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	bs, ok := sh.m[key]
	if !ok {
		if len(sh.m) >= rateLimitKeys/rateShards {
			rl.evict(sh.m, now)
		}
		bs = make([]bucket, len(rl.sets))
		for i, s := range rl.sets {
			bs[i] = bucket{tokens: s.burst, last: now}
		}
		sh.m[key] = bs
	}
	var wait time.Duration
	for i, s := range rl.sets {
		b := &bs[i]
		b.tokens = min(s.burst, b.tokens+float64(now-b.last)*s.perNano)
		b.last = now
		if b.tokens < 1 {
			wait = max(wait, time.Duration((1-b.tokens)/s.perNano))
		}
	}
	if wait > 0 {
		return wait
	}
	for i := range bs {
		bs[i].tokens--
	}
	return 0
}

// evict forgets the buckets that have refilled, then, if none has, an
// eighth of the shard (map order is random).
func (rl *rateLimit) evict(m map[string][]bucket, now int64) {
	n := len(m)
	for k, bs := range m {
		full := true
		for i, s := range rl.sets {
			if bs[i].tokens+float64(now-bs[i].last)*s.perNano < s.burst {
				full = false
				break
			}
		}
		if full {
			delete(m, k)
		}
	}
	if len(m) < n {
		return
	}
	drop := max(1, n/8)
	for k := range m {
		if drop == 0 {
			break
		}
		delete(m, k)
		drop--
	}
}

// keys reports how many clients the limiter remembers, for tests.
func (rl *rateLimit) keys() int {
	n := 0
	for i := range rl.shards {
		rl.shards[i].mu.Lock()
		n += len(rl.shards[i].m)
		rl.shards[i].mu.Unlock()
	}
	return n
}
