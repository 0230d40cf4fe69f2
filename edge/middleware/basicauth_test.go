package middleware

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/rancher-edge/edge/route"
)

// bcryptLine returns an htpasswd line with a fresh low-cost bcrypt hash,
// rewritten to the $2y$ prefix Apache's htpasswd -B writes.
func bcryptLine(t testing.TB, user, pw string) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatalf("bcrypt: %v", err)
	}
	return user + ":$2y$" + strings.TrimPrefix(string(hash), "$2a$")
}

// echoAuth reports what the backend saw of the authentication headers.
func echoAuth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Saw-Authorization", r.Header.Get("Authorization"))
	w.Header().Set("Saw-User", r.Header.Get("X-Auth-User"))
	_, _ = w.Write([]byte("backend"))
}

func TestBasicAuth(t *testing.T) {
	t.Parallel()
	users := []string{
		bcryptLine(t, "bob", "bobpw"),
		"alice:$apr1$saltsalt$NBMPZFGR7yazCdGvlWJji1", // password "test"
		"carol:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=",     // password "test"
		"  dave:$1$saltsalt$tTWg0JeO/sYmHvtKmZE8c.  ", // password "test", padded
	}
	tests := []struct {
		name     string
		cfg      route.BasicAuth
		user, pw string
		noAuth   bool
		wantCode int
		wantAuth bool   // backend still sees Authorization
		wantUser string // backend's X-Auth-User
	}{
		{name: "bcrypt ok", cfg: route.BasicAuth{Users: users}, user: "bob", pw: "bobpw", wantCode: 200, wantAuth: true},
		{name: "apr1 ok", cfg: route.BasicAuth{Users: users}, user: "alice", pw: "test", wantCode: 200, wantAuth: true},
		{name: "sha ok", cfg: route.BasicAuth{Users: users}, user: "carol", pw: "test", wantCode: 200, wantAuth: true},
		{name: "md5 crypt ok", cfg: route.BasicAuth{Users: users}, user: "dave", pw: "test", wantCode: 200, wantAuth: true},
		{name: "bcrypt wrong password", cfg: route.BasicAuth{Users: users}, user: "bob", pw: "nope", wantCode: 401},
		{name: "apr1 wrong password", cfg: route.BasicAuth{Users: users}, user: "alice", pw: "tesT", wantCode: 401},
		{name: "sha wrong password", cfg: route.BasicAuth{Users: users}, user: "carol", pw: "", wantCode: 401},
		{name: "unknown user", cfg: route.BasicAuth{Users: users}, user: "mallory", pw: "test", wantCode: 401},
		{name: "no credentials", cfg: route.BasicAuth{Users: users}, noAuth: true, wantCode: 401},
		{
			name: "remove header", cfg: route.BasicAuth{Users: users, RemoveHeader: true},
			user: "alice", pw: "test", wantCode: 200, wantAuth: false,
		},
		{
			name: "header field", cfg: route.BasicAuth{Users: users, HeaderField: "x-auth-user"},
			user: "carol", pw: "test", wantCode: 200, wantAuth: true, wantUser: "carol",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, err := NewBasicAuth(tt.cfg, AuthOptions{}, http.HandlerFunc(echoAuth))
			if err != nil {
				t.Fatalf("BasicAuth: %v", err)
			}
			req := httptest.NewRequest(http.MethodGet, "http://a.example.com/", nil)
			if !tt.noAuth {
				req.SetBasicAuth(tt.user, tt.pw)
			}
			// A client must not be able to choose the user name itself.
			req.Header.Set("X-Auth-User", "forged")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantCode {
				t.Fatalf("code = %d, want %d", rec.Code, tt.wantCode)
			}
			if tt.wantCode == http.StatusUnauthorized {
				if got := rec.Header().Get("WWW-Authenticate"); got != `Basic realm="traefik"` {
					t.Errorf("WWW-Authenticate = %q", got)
				}
				if got := rec.Body.String(); got != "401 Unauthorized\n" {
					t.Errorf("body = %q", got)
				}
				return
			}
			if got := rec.Header().Get("Saw-Authorization") != ""; got != tt.wantAuth {
				t.Errorf("backend saw Authorization = %v, want %v", got, tt.wantAuth)
			}
			if tt.wantUser != "" {
				if got := rec.Header().Get("Saw-User"); got != tt.wantUser {
					t.Errorf("backend saw user %q, want %q", got, tt.wantUser)
				}
			}
		})
	}
}

func TestBasicAuthConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		cfg       route.BasicAuth
		wantErr   string
		forbidden string // must not appear in the error
	}{
		{name: "no users", cfg: route.BasicAuth{}, wantErr: "no users"},
		{name: "no separator", cfg: route.BasicAuth{Users: []string{"$apr1$x$y"}}, wantErr: "entry 1", forbidden: "$apr1$x$y"},
		{name: "empty user", cfg: route.BasicAuth{Users: []string{":{SHA}x"}}, wantErr: "entry 1"},
		{
			name: "unknown hash names the user only", cfg: route.BasicAuth{Users: []string{"eve:hunter2"}},
			wantErr: `user "eve": unsupported`, forbidden: "hunter2",
		},
		{
			name: "malformed hash names the user only", cfg: route.BasicAuth{Users: []string{"eve:{SHA}aHVudGVyMg=="}},
			wantErr: `user "eve": malformed`, forbidden: "aHVudGVyMg",
		},
		{
			name: "bad header field", cfg: route.BasicAuth{Users: []string{"a:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M="}, HeaderField: "X User"},
			wantErr: "header field",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewBasicAuth(tt.cfg, AuthOptions{}, http.HandlerFunc(okHandler))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
			if tt.forbidden != "" && strings.Contains(err.Error(), tt.forbidden) {
				t.Errorf("err %q leaks %q", err, tt.forbidden)
			}
		})
	}
}

func TestBasicAuthCachesBcrypt(t *testing.T) {
	t.Parallel()
	h, err := NewBasicAuth(route.BasicAuth{Users: []string{bcryptLine(t, "bob", "bobpw")}}, AuthOptions{}, http.HandlerFunc(okHandler))
	if err != nil {
		t.Fatalf("BasicAuth: %v", err)
	}
	a := h.(*basicAuth)
	if !a.creds.get().Check("bob", "bobpw") {
		t.Fatal("first authenticate failed")
	}
	if !a.creds.get().cache.has(a.creds.get().cache.key("bob", "bobpw")) {
		t.Fatal("success was not cached")
	}
	if a.creds.get().cache.has(a.creds.get().cache.key("bob", "other")) || a.creds.get().cache.has(a.creds.get().cache.key("bo", "bbobpw")) {
		t.Error("cache answers for credentials it never saw")
	}
	if a.creds.get().Check("bob", "wrong") {
		t.Error("wrong password accepted")
	}
	if n := len(a.creds.get().cache.seen); n != 1 {
		t.Errorf("cache holds %d entries, want 1", n)
	}
}

func TestVerifiedCacheIsBounded(t *testing.T) {
	t.Parallel()
	var c verifiedCache
	if err := c.init(8, 0, nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 100 {
				c.add(c.key("u", strings.Repeat("p", i*100+j)))
			}
		})
	}
	wg.Wait()
	if n := len(c.seen); n != 8 {
		t.Errorf("cache holds %d entries, want 8", n)
	}
}

func BenchmarkBasicAuthBcryptCached(b *testing.B) {
	h, err := NewBasicAuth(route.BasicAuth{Users: []string{bcryptLine(b, "bob", "bobpw")}}, AuthOptions{}, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "http://a.example.com/", nil)
	req.SetBasicAuth("bob", "bobpw")
	w := discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
}

// discardWriter is the cheapest possible ResponseWriter, so benchmarks count
// only the middleware's own allocations.
type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}
