package middleware

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/rancher-edge/edge/route"
)

// authCacheSize bounds the number of remembered slow-hash successes per route.
// Each entry is 32 bytes; 4096 covers far more concurrent users than a
// Traefik basic-auth frontend ever has, while capping memory at ~200 KiB.
const authCacheSize = 4096

// authChallenge is the WWW-Authenticate value Traefik 1.7 sends; clients and
// password managers may have remembered credentials under this realm.
const authChallenge = `Basic realm="traefik"`

var errNoNext = errors.New("no next handler")

// BasicAuth requires HTTP basic authentication against htpasswd lines,
// "user:hash", before handing the request to next.
//
// Accepted hashes are bcrypt ($2y$, $2a$, $2b$), Apache MD5 ($apr1$, and the
// plain MD5-crypt $1$ it derives from) and {SHA} (base64 of SHA-1). A hash in
// any other format, or a malformed one, is an error at construction that
// names the user but never repeats the hash. When a user appears twice the
// last line wins, as with Traefik 1.7.
//
// A request without valid credentials gets 401 with
// WWW-Authenticate: Basic realm="traefik" and a short plain body; the answer
// is the same for an unknown user and a wrong password, and an unknown user
// costs as much time as a known one, so neither reveals which users exist.
// On success, cfg.RemoveHeader drops the Authorization header so the backend
// never sees the password, and cfg.HeaderField (when set) carries the user
// name to the backend in that request header, replacing any the client sent.
//
// Checking bcrypt is deliberately slow (tens of milliseconds), which a
// keep-alive client would otherwise pay on every request, so successful
// bcrypt (and the less slow MD5-crypt) checks are remembered in a bounded
// per-handler cache keyed by a salted hash of user and password.
func BasicAuth(cfg route.BasicAuth, next http.Handler) (http.Handler, error) {
	if next == nil {
		return nil, fmt.Errorf("basic auth: %w", errNoNext)
	}
	if len(cfg.Users) == 0 {
		return nil, errors.New("basic auth: no users")
	}
	a := &basicAuth{
		users:        make(map[string]*password, len(cfg.Users)),
		removeHeader: cfg.RemoveHeader,
		next:         next,
	}
	for i, line := range cfg.Users {
		name, hash, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || name == "" {
			// The line may be nothing but a hash, so it is not repeated.
			return nil, fmt.Errorf("basic auth: user entry %d is not user:hash", i+1)
		}
		p, err := parsePassword(strings.TrimSpace(hash))
		if err != nil {
			return nil, fmt.Errorf("basic auth: user %q: %w", name, err)
		}
		a.users[name] = &p
		if a.decoy == nil {
			a.decoy = &p
		}
	}
	if cfg.HeaderField != "" {
		if !validHeaderName(cfg.HeaderField) {
			return nil, fmt.Errorf("basic auth: header field %q is not a valid header name", cfg.HeaderField)
		}
		a.headerField = http.CanonicalHeaderKey(cfg.HeaderField)
	}
	if err := a.cache.init(authCacheSize); err != nil {
		return nil, fmt.Errorf("basic auth: %w", err)
	}
	return a, nil
}

// basicAuth is the compiled form of a [route.BasicAuth]. Everything but the
// cache is immutable after construction.
type basicAuth struct {
	users        map[string]*password
	decoy        *password // checked for unknown users to equalise timing
	removeHeader bool
	headerField  string // canonical; "" for none
	next         http.Handler
	cache        verifiedCache
}

func (a *basicAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || !a.authenticate(user, pass) {
		w.Header().Set("WWW-Authenticate", authChallenge)
		http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
		return
	}
	if a.removeHeader {
		r.Header.Del("Authorization")
	}
	if a.headerField != "" {
		r.Header[a.headerField] = []string{user}
	}
	a.next.ServeHTTP(w, r)
}

// authenticate reports whether pass is user's password.
func (a *basicAuth) authenticate(user, pass string) bool {
	p := a.users[user]
	if p == nil {
		// Spend the time a real check takes, so that a fast 401 does not
		// confirm that the user does not exist.
		a.decoy.check(pass)
		return false
	}
	if !p.slow() {
		return p.check(pass)
	}
	key := a.cache.key(user, pass)
	if a.cache.has(key) {
		return true
	}
	if !p.check(pass) {
		return false
	}
	a.cache.add(key)
	return true
}

// verifiedCache remembers user/password pairs that passed a slow check. It
// stores only salted SHA-256 digests: a memory dump must not hand out
// passwords, and the random salt stops precomputed tables. Safe for
// concurrent use.
type verifiedCache struct {
	salt [32]byte
	max  int

	mu   sync.Mutex
	seen map[[sha256.Size]byte]struct{} // guarded by mu
}

func (c *verifiedCache) init(size int) error {
	if _, err := rand.Read(c.salt[:]); err != nil {
		return fmt.Errorf("seeding credential cache: %w", err)
	}
	c.max = size
	c.seen = make(map[[sha256.Size]byte]struct{})
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
	_, ok := c.seen[k]
	c.mu.Unlock()
	return ok
}

func (c *verifiedCache) add(k [sha256.Size]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.seen) >= c.max {
		// Evict one entry; map iteration order is randomised, which makes
		// this random replacement, good enough for a cache whose misses
		// only cost one slow check.
		for old := range c.seen {
			delete(c.seen, old)
			break
		}
	}
	c.seen[k] = struct{}{}
}
