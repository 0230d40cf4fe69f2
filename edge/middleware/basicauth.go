package middleware

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/rancher-edge/edge/route"
)

// authChallenge is the WWW-Authenticate value Traefik 1.7 sends; clients and
// password managers may have remembered credentials under this realm.
const authChallenge = `Basic realm="traefik"`

var errNoNext = errors.New("no next handler")

// NewBasicAuth requires HTTP basic authentication against htpasswd lines,
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
//
// cfg.UsersFile names a file of more htpasswd lines (Traefik's usersFile), read through opts.ReadFile and
// re-read when its content changes. A users file that cannot be read or
// parsed at construction is an error, so the route is not served
// unprotected; one that later breaks keeps the last good users.
func NewBasicAuth(cfg route.BasicAuth, opts AuthOptions, next http.Handler) (http.Handler, error) {
	if next == nil {
		return nil, fmt.Errorf("basic auth: %w", errNoNext)
	}
	users, err := newLiveUsers("basic auth users file", cfg.Users, cfg.UsersFile, opts, func(lines []string) (*Credentials, error) {
		return NewCredentials(lines, CredentialsOptions{})
	})
	if err != nil {
		return nil, fmt.Errorf("basic auth: %w", err)
	}
	a := &basicAuth{creds: users, removeHeader: cfg.RemoveHeader, challenge: []string{authChallenge}, next: next}
	if cfg.Realm != "" {
		if strings.ContainsAny(cfg.Realm, "\"\\\r\n") {
			return nil, fmt.Errorf("basic auth: realm %q holds a quote, backslash or line break", cfg.Realm)
		}
		a.challenge = []string{`Basic realm="` + cfg.Realm + `"`}
	}
	if cfg.HeaderField != "" {
		if !validHeaderName(cfg.HeaderField) {
			return nil, fmt.Errorf("basic auth: header field %q is not a valid header name", cfg.HeaderField)
		}
		a.headerField = http.CanonicalHeaderKey(cfg.HeaderField)
	}
	return a, nil
}

// basicAuth is the compiled form of a [route.BasicAuth]. Everything but the
// cache is immutable after construction.
type basicAuth struct {
	creds        *liveUsers[Credentials]
	removeHeader bool
	headerField  string   // canonical; "" for none
	challenge    []string // the WWW-Authenticate value, shared
	next         http.Handler
}

func (a *basicAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || !a.creds.get().Check(user, pass) {
		w.Header()["Www-Authenticate"] = a.challenge
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
