package middleware

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rancher-edge/edge/route"
)

// digestRealm is the realm Traefik 1.7's digest authenticator used; only
// users of that realm can authenticate, as there.
const digestRealm = "traefik"

// nonceLife bounds how long a server nonce is accepted. An older one
// answers 401 with stale=true, and clients retry with the fresh nonce
// without asking the user again.
const nonceLife = 5 * time.Minute

// digestUsers maps user names to their HA1, md5(user:realm:password), for
// the realm "traefik".
type digestUsers struct {
	ha1 map[string][md5.Size]byte
}

// parseDigestUsers reads htdigest lines, "user:realm:hash". Lines of other
// realms are kept out: they could never authenticate in Traefik either.
func parseDigestUsers(lines []string) (*digestUsers, error) {
	if len(lines) == 0 {
		return nil, fmt.Errorf("no users")
	}
	u := &digestUsers{ha1: make(map[string][md5.Size]byte, len(lines))}
	for i, line := range lines {
		parts := strings.Split(strings.TrimSpace(line), ":")
		if len(parts) != 3 || parts[0] == "" {
			return nil, fmt.Errorf("user entry %d is not user:realm:hash", i+1)
		}
		var h [md5.Size]byte
		if n, err := hex.Decode(h[:], []byte(parts[2])); err != nil || n != md5.Size {
			return nil, fmt.Errorf("user %q: the hash is not 32 hex digits (htdigest's md5)", parts[0])
		}
		if parts[1] == digestRealm {
			u.ha1[parts[0]] = h
		}
	}
	return u, nil
}

// DigestAuth requires HTTP digest authentication (RFC 7616 with MD5 and
// qop=auth, and the RFC 2069 form without qop, as Traefik 1.7's go-http-auth
// accepted) against htdigest lines of the realm "traefik", from cfg.Users
// and cfg.UsersFile (re-read when it changes).
//
// Nonces are stateless: a timestamp signed with a key of this process.
// A correct answer to a nonce that is not (or no longer) ours — older than
// five minutes, or issued by another replica — gets 401 with a fresh nonce
// and stale=true, and clients retry without asking the user again. Within
// its life a nonce is reused with increasing counts (qop=auth); each count
// opens one request, so a captured answer cannot be replayed (an RFC 2069
// answer, without a count, can be within the nonce's five minutes).
func DigestAuth(cfg route.DigestAuth, opts AuthOptions, next http.Handler) (http.Handler, error) {
	if next == nil {
		return nil, fmt.Errorf("digest auth: %w", errNoNext)
	}
	users, err := newLiveUsers("digest auth users file", cfg.Users, cfg.UsersFile, opts, parseDigestUsers)
	if err != nil {
		return nil, fmt.Errorf("digest auth: %w", err)
	}
	d := &digestAuth{users: users, removeHeader: cfg.RemoveHeader, next: next, now: opts.Now}
	if d.now == nil {
		d.now = time.Now
	}
	if cfg.HeaderField != "" {
		if !validHeaderName(cfg.HeaderField) {
			return nil, fmt.Errorf("digest auth: header field %q is not a valid header name", cfg.HeaderField)
		}
		d.headerField = http.CanonicalHeaderKey(cfg.HeaderField)
	}
	return d, nil
}

type digestAuth struct {
	users        *liveUsers[digestUsers]
	removeHeader bool
	headerField  string
	next         http.Handler
	now          func() time.Time
}

// nonceKey signs nonces and opaque names the process, so that nonces
// survive table generations (a new handler per route each time).
var nonceKey, opaque = func() (k [32]byte, o string) {
	rand.Read(k[:])
	var b [16]byte
	rand.Read(b[:])
	return k, hex.EncodeToString(b[:])
}()

func (d *digestAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, ok, stale := d.check(r)
	if !ok {
		d.challenge(w, stale)
		return
	}
	if d.removeHeader {
		r.Header.Del("Authorization")
	}
	if d.headerField != "" {
		r.Header[d.headerField] = []string{user}
	}
	d.next.ServeHTTP(w, r)
}

func (d *digestAuth) challenge(w http.ResponseWriter, stale bool) {
	v := `Digest realm="` + digestRealm + `", nonce="` + d.nonce() + `", opaque="` +
		opaque + `", algorithm=MD5, qop="auth"`
	if stale {
		v += ", stale=true"
	}
	w.Header().Set("WWW-Authenticate", v)
	http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
}

// nonce is base64url(time ‖ HMAC-SHA256(key, time)[:16]).
func (d *digestAuth) nonce() string {
	var b [8 + 16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(d.now().UnixNano()))
	m := hmac.New(sha256.New, nonceKey[:])
	m.Write(b[:8])
	copy(b[8:], m.Sum(nil))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// nonceState says whether the nonce is ours and whether it is still fresh.
func (d *digestAuth) nonceState(n string) (valid, fresh bool) {
	var b [8 + 16]byte
	if base64.RawURLEncoding.DecodedLen(len(n)) != len(b) {
		return false, false
	}
	if _, err := base64.RawURLEncoding.Decode(b[:], []byte(n)); err != nil {
		return false, false
	}
	m := hmac.New(sha256.New, nonceKey[:])
	m.Write(b[:8])
	if !hmac.Equal(m.Sum(nil)[:16], b[8:]) {
		return false, false
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(b[:8])))
	age := d.now().Sub(issued)
	return true, age >= 0 && age <= nonceLife
}

// check verifies the Authorization header; stale reports a correct answer
// to an expired nonce.
func (d *digestAuth) check(r *http.Request) (user string, ok, stale bool) {
	scheme, rest, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Digest") {
		return "", false, false
	}
	p := parseDigestParams(rest)
	user = p["username"]
	if user == "" || p["realm"] != digestRealm || p["response"] == "" {
		return "", false, false
	}
	if a := p["algorithm"]; a != "" && !strings.EqualFold(a, "MD5") {
		return "", false, false
	}
	// The URI the client signed must be the one it asks for, or a
	// response captured for one path would open another.
	if p["uri"] != r.RequestURI && p["uri"] != r.URL.RequestURI() {
		return "", false, false
	}
	if p["nonce"] == "" {
		return "", false, false
	}
	users := d.users.get()
	ha1, known := users.ha1[user]
	ha2 := md5hex(r.Method + ":" + p["uri"])
	var want string
	switch p["qop"] {
	case "auth":
		if p["nc"] == "" || p["cnonce"] == "" {
			return "", false, false
		}
		want = md5hex(hex.EncodeToString(ha1[:]) + ":" + p["nonce"] + ":" + p["nc"] + ":" + p["cnonce"] + ":auth:" + ha2)
	case "":
		want = md5hex(hex.EncodeToString(ha1[:]) + ":" + p["nonce"] + ":" + ha2)
	default:
		return "", false, false
	}
	// Unknown users are checked against a zero HA1 at the same cost.
	match := subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(p["response"]))) == 1
	if !known || !match {
		return "", false, false
	}
	if valid, fresh := d.nonceState(p["nonce"]); !valid || !fresh {
		return "", false, true
	}
	if p["qop"] == "auth" && !counts.fresh(p["nonce"], p["nc"]) {
		// A replayed answer: the count was used with this nonce.
		return "", false, false
	}
	return user, true, false
}

// nonceCounts remembers which nonce counts (nc) each live nonce has
// used, as go-http-auth did for Traefik, so that a captured answer cannot
// be replayed. A window of 64 below the highest count admits requests
// that overtake each other (parallel requests of a browser) exactly once.
// At most maxNonces nonces are remembered; past that, expired ones go
// first, then arbitrary ones.
type nonceCounts struct {
	mu sync.Mutex
	m  map[string]ncWindow // guarded by mu
}

type ncWindow struct {
	max  uint64
	seen uint64 // bit i: max-i was used
}

const maxNonces = 1 << 16

var counts = &nonceCounts{m: make(map[string]ncWindow)}

func (c *nonceCounts) fresh(nonce, ncHex string) bool {
	nc, err := strconv.ParseUint(ncHex, 16, 64)
	if err != nil || nc == 0 {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	w, ok := c.m[nonce]
	if !ok && len(c.m) >= maxNonces {
		c.evict()
	}
	switch {
	case nc > w.max:
		shift := nc - w.max
		if shift >= 64 {
			w.seen = 0
		} else {
			w.seen <<= shift
		}
		w.seen |= 1
		w.max = nc
	case w.max-nc >= 64:
		return false
	default:
		bit := uint64(1) << (w.max - nc)
		if w.seen&bit != 0 {
			return false
		}
		w.seen |= bit
	}
	c.m[nonce] = w
	return true
}

// evict runs with mu held.
func (c *nonceCounts) evict() {
	var d digestAuth
	d.now = time.Now
	for n := range c.m {
		if _, fresh := d.nonceState(n); !fresh {
			delete(c.m, n)
		}
	}
	for n := range c.m {
		if len(c.m) < maxNonces*7/8 {
			break
		}
		delete(c.m, n)
	}
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// parseDigestParams reads the comma-separated key=value and key="value"
// pairs of a Digest Authorization header (RFC 7616 §3.4, RFC 7230 quoting).
func parseDigestParams(s string) map[string]string {
	out := make(map[string]string, 10)
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return out
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return out
		}
		key := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = strings.TrimLeft(s[eq+1:], " \t")
		var val string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
			}
			val = b.String()
			if i < len(s) {
				i++
			}
			s = s[i:]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			val, s = strings.TrimSpace(s[:end]), s[end:]
		}
		out[key] = val
	}
}
