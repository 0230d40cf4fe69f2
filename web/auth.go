package web

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// parseUsers reads htpasswd lines. Only bcrypt hashes are accepted: the
// dashboard shows the whole edge, and MD5-crypt or SHA-1 hashes are too
// cheap to guess. Errors name the line and user, never the hash.
func parseUsers(raw []byte) (map[string][]byte, error) {
	users := make(map[string][]byte)
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" || hash == "" {
			return nil, fmt.Errorf("admin: TRAEFIK_ADMIN_USERS line %d is not user:hash", n)
		}
		if !strings.HasPrefix(hash, "$2y$") && !strings.HasPrefix(hash, "$2a$") && !strings.HasPrefix(hash, "$2b$") {
			return nil, fmt.Errorf("admin: TRAEFIK_ADMIN_USERS line %d (user %q): not a bcrypt hash; create one with `htpasswd -nbB user password`", n, user)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return nil, fmt.Errorf("admin: TRAEFIK_ADMIN_USERS line %d (user %q): malformed bcrypt hash", n, user)
		}
		if _, dup := users[user]; dup {
			return nil, fmt.Errorf("admin: TRAEFIK_ADMIN_USERS line %d: user %q appears twice", n, user)
		}
		users[user] = []byte(hash)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("admin: reading TRAEFIK_ADMIN_USERS: %w", err)
	}
	return users, nil
}

// authCacheTTL is how long a verified password is remembered. The pages
// poll every few seconds and bcrypt costs tens of milliseconds per check;
// a short memory keeps the dashboard cheap without keeping a password
// valid long after it was removed from the file (a restart clears it too).
const authCacheTTL = time.Minute

// authCacheMax bounds the cache; when full it is cleared rather than
// evicting carefully, since a few users poll at most.
const authCacheMax = 256

// basicAuth checks credentials against bcrypt hashes. Successful checks are
// cached under an HMAC of user and password with a per-process random key,
// so the cache never holds a password, and a failed check is never cached,
// so guessing stays bcrypt-bound.
type basicAuth struct {
	users map[string][]byte
	key   [32]byte
	now   func() time.Time
	// dummy is a hash of a random password at the users' highest cost,
	// compared against for unknown users. It is made on first use: a
	// bcrypt hash is slow to make on purpose.
	dummy     []byte
	dummyOnce sync.Once

	mu    sync.Mutex
	valid map[[32]byte]time.Time // HMAC(user, password) → expiry
}

func newBasicAuth(users map[string][]byte, now func() time.Time) *basicAuth {
	a := &basicAuth{users: users, now: now, valid: make(map[[32]byte]time.Time)}
	rand.Read(a.key[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return a
}

// dummyHash returns a hash as slow to check as the slowest user's.
func (a *basicAuth) dummyHash() []byte {
	a.dummyOnce.Do(func() {
		cost := 0
		for _, h := range a.users {
			if c, err := bcrypt.Cost(h); err == nil && c > cost {
				cost = c
			}
		}
		if cost == 0 {
			cost = bcrypt.DefaultCost
		}
		a.dummy, _ = bcrypt.GenerateFromPassword([]byte(rand.Text()), cost)
	})
	return a.dummy
}

// check reports whether user and password are valid.
func (a *basicAuth) check(user, password string) bool {
	m := hmac.New(sha256.New, a.key[:])
	m.Write([]byte(user))
	m.Write([]byte{0})
	m.Write([]byte(password))
	var sum [32]byte
	copy(sum[:], m.Sum(nil))
	now := a.now()

	a.mu.Lock()
	exp, ok := a.valid[sum]
	a.mu.Unlock()
	if ok && now.Before(exp) {
		return true
	}

	hash, known := a.users[user]
	if !known {
		// Spend the same time as for a known user, so response times do
		// not reveal which user names exist.
		hash = a.dummyHash()
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || !known {
		return false
	}
	a.mu.Lock()
	if len(a.valid) >= authCacheMax {
		clear(a.valid)
	}
	a.valid[sum] = now.Add(authCacheTTL)
	a.mu.Unlock()
	return true
}

// middleware requires valid credentials for every request but /ping.
func (a *basicAuth) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ping" {
			next.ServeHTTP(w, r)
			return
		}
		user, pass, ok := r.BasicAuth()
		if !ok || !a.check(user, pass) {
			w.Header().Set("WWW-Authenticate", `Basic realm="edge dashboard", charset="UTF-8"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// securityHeaders sets the headers every response carries. The CSP allows
// only same-origin resources and no inline script or style attribute, which
// the templates never use.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}
