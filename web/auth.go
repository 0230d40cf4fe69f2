package web

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/rancher-edge/edge/edge/middleware"
)

// parseUsers reads htpasswd lines, one per line or comma-separated (no
// htpasswd hash holds a comma). The hash forms are those Traefik 1.x
// accepted and htpasswd produces: bcrypt (recommended), apr1 and {SHA};
// the stack that switches images keeps its users. Each line is checked
// with the same parser the routes' basic auth uses. Errors name the line
// and user, never the hash. It returns the lines, which
// [middleware.NewCredentials] checks against.
func parseUsers(raw []byte) ([]string, error) {
	var lines []string
	seen := make(map[string]bool)
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		for _, line := range strings.Split(sc.Text(), ",") {
			n++
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			user, hash, ok := strings.Cut(line, ":")
			if !ok || user == "" || hash == "" {
				return nil, fmt.Errorf("admin: TRAEFIK_ADMIN_USERS entry %d is not user:hash", n)
			}
			if _, err := middleware.NewCredentials([]string{line}, middleware.CredentialsOptions{}); err != nil {
				return nil, fmt.Errorf("admin: TRAEFIK_ADMIN_USERS entry %d (user %q): not a bcrypt, apr1 or {SHA} hash; create one with `htpasswd -nbB user password`", n, user)
			}
			if seen[user] {
				return nil, fmt.Errorf("admin: TRAEFIK_ADMIN_USERS entry %d: user %q appears twice", n, user)
			}
			seen[user] = true
			lines = append(lines, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("admin: reading TRAEFIK_ADMIN_USERS: %w", err)
	}
	return lines, nil
}

// authCacheTTL is how long a verified password is remembered. The pages
// poll every few seconds and bcrypt costs tens of milliseconds per check;
// a short memory keeps the dashboard cheap without keeping a password
// valid long after it was removed from the file (a restart clears it too).
const authCacheTTL = time.Minute

// basicAuth guards the dashboard with the same credential checker as the
// routes' basic auth (timing-equalised, successes cached without the
// password), under the dashboard's own realm.
type basicAuth struct {
	creds *middleware.Credentials
}

func newBasicAuth(users []string, now func() time.Time) (*basicAuth, error) {
	creds, err := middleware.NewCredentials(users, middleware.CredentialsOptions{TTL: authCacheTTL, Now: now})
	if err != nil {
		return nil, fmt.Errorf("admin: TRAEFIK_ADMIN_USERS: %w", err)
	}
	return &basicAuth{creds: creds}, nil
}

// middleware requires valid credentials for every request but /ping.
func (a *basicAuth) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == pingPath {
			next.ServeHTTP(w, r)
			return
		}
		user, pass, ok := r.BasicAuth()
		if !ok || !a.creds.Check(user, pass) {
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

// pingPath is the liveness probe: it reveals nothing, so it is served to
// everyone who reaches the admin port, without authentication.
const pingPath = "/ping"

// gate keeps the dashboard to loopback when it has no users: the admin
// port listens on every interface so that a health check from another
// address reaches /ping (Rancher's catalog checks the admin port from the
// host's agent), and everything else needs a connection to a loopback
// address. public says which other paths are served to everyone.
func gate(loopbackOnly bool, public map[string]bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if public[r.URL.Path] || !loopbackOnly || localIsLoopback(r) {
			next.ServeHTTP(w, r)
			return
		}
		http.Error(w, "the dashboard is served on loopback only: set TRAEFIK_ADMIN_USERS to reach it from elsewhere", http.StatusForbidden)
	})
}

// localIsLoopback reports whether the request came in on a loopback
// address, which only the machine itself can reach.
func localIsLoopback(r *http.Request) bool {
	a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}
