package web

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/rancher-edge/edge/edge/middleware"
	"golang.org/x/crypto/bcrypt"
)

// parseUsers reads htpasswd lines. Only bcrypt hashes are accepted: the
// dashboard shows the whole edge, and MD5-crypt or SHA-1 hashes are too
// cheap to guess. Errors name the line and user, never the hash.
// It returns the lines, which [middleware.NewCredentials] checks against.
func parseUsers(raw []byte) ([]string, error) {
	var lines []string
	seen := make(map[string]bool)
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
		if seen[user] {
			return nil, fmt.Errorf("admin: TRAEFIK_ADMIN_USERS line %d: user %q appears twice", n, user)
		}
		seen[user] = true
		lines = append(lines, line)
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
		if r.URL.Path == "/ping" {
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
