package middleware

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// authCacheSize bounds the number of remembered slow-hash successes per set
// of credentials. Each entry is about 40 bytes; 4096 covers far more
// concurrent users than a basic-auth frontend or a dashboard ever has.
const authCacheSize = 4096

// Credentials checks user names and passwords against htpasswd lines,
// "user:hash". The route middleware [NewBasicAuth] and the dashboard share
// it, so the timing and caching rules below exist once.
//
// Accepted hashes are bcrypt ($2y$, $2a$, $2b$), Apache MD5 ($apr1$, and the
// plain MD5-crypt $1$ it derives from) and {SHA} (base64 of SHA-1). When a
// user appears twice the last line wins, as with Traefik 1.7.
//
// An unknown user costs as much time as a known one, so response times do
// not reveal which users exist. Checking bcrypt is deliberately slow (tens
// of milliseconds), which a keep-alive client or a polling dashboard would
// otherwise pay on every request, so successful slow checks are remembered
// in a bounded cache keyed by a salted digest of user and password; the
// cache never holds a password, and failures are never cached, so guessing
// stays bound by the hash. Safe for concurrent use.
type Credentials struct {
	users map[string]*password
	decoy *password // checked for unknown users to equalise timing
	cache verifiedCache
}

// CredentialsOptions tunes [Credentials]. The zero value remembers a
// success until the cache evicts it.
type CredentialsOptions struct {
	// TTL, when positive, forgets a remembered success after that long.
	TTL time.Duration
	// Now is the clock for TTL; nil means time.Now.
	Now func() time.Time
}

// NewCredentials parses htpasswd lines. A line that is not user:hash, or a
// hash in an unknown or malformed format, is an error that names the line
// or the user but never repeats the hash.
func NewCredentials(lines []string, opts CredentialsOptions) (*Credentials, error) {
	if len(lines) == 0 {
		return nil, errors.New("no users")
	}
	c := &Credentials{users: make(map[string]*password, len(lines))}
	for i, line := range lines {
		name, hash, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || name == "" {
			// The line may be nothing but a hash, so it is not repeated.
			return nil, fmt.Errorf("user entry %d is not user:hash", i+1)
		}
		p, err := parsePassword(strings.TrimSpace(hash))
		if err != nil {
			return nil, fmt.Errorf("user %q: %w", name, err)
		}
		c.users[name] = &p
		if c.decoy == nil {
			c.decoy = &p
		}
	}
	if err := c.cache.init(authCacheSize, opts.TTL, opts.Now); err != nil {
		return nil, err
	}
	return c, nil
}

// Check reports whether pass is user's password.
func (c *Credentials) Check(user, pass string) bool {
	p := c.users[user]
	if p == nil {
		// Spend the time a real check takes, so that a fast answer does
		// not confirm that the user does not exist.
		c.decoy.check(pass)
		return false
	}
	if !p.slow() {
		return p.check(pass)
	}
	key := c.cache.key(user, pass)
	if c.cache.has(key) {
		return true
	}
	if !p.check(pass) {
		return false
	}
	c.cache.add(key)
	return true
}

// verifiedCache remembers user/password pairs that passed a slow check. It
// stores only salted SHA-256 digests: a memory dump must not hand out
// passwords, and the random salt stops precomputed tables. Safe for
// concurrent use.
type verifiedCache struct {
	salt [32]byte
	max  int
	ttl  time.Duration
	now  func() time.Time

	mu   sync.Mutex
	seen map[[sha256.Size]byte]time.Time // digest → expiry (zero: none); guarded by mu
}

func (c *verifiedCache) init(size int, ttl time.Duration, now func() time.Time) error {
	if _, err := rand.Read(c.salt[:]); err != nil {
		return fmt.Errorf("seeding credential cache: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	c.max, c.ttl, c.now = size, ttl, now
	c.seen = make(map[[sha256.Size]byte]time.Time)
	return nil
}

// key digests salt, the user name's length, the user name and the password.
// The length prefix keeps ("ab", "c") and ("a", "bc") apart.
func (c *verifiedCache) key(user, pass string) [sha256.Size]byte {
	var stack [256]byte // avoids a heap allocation for ordinary credentials
	b := append(stack[:0], c.salt[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(user)))
	b = append(b, user...)
	b = append(b, pass...)
	sum := sha256.Sum256(b)
	clear(b) // do not leave the password lying on the stack or heap
	return sum
}

func (c *verifiedCache) has(k [sha256.Size]byte) bool {
	c.mu.Lock()
	exp, ok := c.seen[k]
	c.mu.Unlock()
	return ok && (exp.IsZero() || c.now().Before(exp))
}

func (c *verifiedCache) add(k [sha256.Size]byte) {
	var exp time.Time
	if c.ttl > 0 {
		exp = c.now().Add(c.ttl)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.seen[k]; !ok && len(c.seen) >= c.max {
		// Evict one entry; map iteration order is randomised, which makes
		// this random replacement, good enough for a cache whose misses
		// only cost one slow check.
		for old := range c.seen {
			delete(c.seen, old)
			break
		}
	}
	c.seen[k] = exp
}
