package middleware

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rancher-edge/edge/route"
)

func ha1Line(user, realm, pass string) string {
	sum := md5.Sum([]byte(user + ":" + realm + ":" + pass))
	return user + ":" + realm + ":" + hex.EncodeToString(sum[:])
}

// digestAnswer computes a client's Authorization header (RFC 7616, MD5).
func digestAnswer(user, pass, method, uri, nonce, qop string) string {
	ha1 := md5hex(user + ":traefik:" + pass)
	ha2 := md5hex(method + ":" + uri)
	if qop == "" {
		return fmt.Sprintf(`Digest username="%s", realm="traefik", nonce="%s", uri="%s", response="%s"`,
			user, nonce, uri, md5hex(ha1+":"+nonce+":"+ha2))
	}
	resp := md5hex(ha1 + ":" + nonce + ":00000001:abc:auth:" + ha2)
	return fmt.Sprintf(`Digest username="%s", realm="traefik", nonce="%s", uri="%s", algorithm=MD5, qop=auth, nc=00000001, cnonce="abc", response="%s"`,
		user, nonce, uri, resp)
}

func TestDigestAuth(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "user=%s auth=%s", r.Header.Get("X-User"), r.Header.Get("Authorization"))
	})
	h, err := DigestAuth(route.DigestAuth{Users: []string{ha1Line("ann", "traefik", "pw"), ha1Line("bob", "other", "pw")},
		RemoveHeader: true, HeaderField: "X-User"}, AuthOptions{Now: clock}, next)
	if err != nil {
		t.Fatal(err)
	}
	nonce := h.(*digestAuth).nonce()
	old := h.(*digestAuth)
	oldNow := now
	now = now.Add(-nonceLife - time.Second)
	staleNonce := old.nonce()
	now = oldNow

	for _, tc := range []struct {
		name, method, uri, auth string
		code                    int
		stale                   bool
	}{
		{"qop auth", "GET", "/a?b=1", digestAnswer("ann", "pw", "GET", "/a?b=1", nonce, "auth"), 200, false},
		{"rfc 2069", "GET", "/a", digestAnswer("ann", "pw", "GET", "/a", nonce, ""), 200, false},
		{"wrong password", "GET", "/a", digestAnswer("ann", "no", "GET", "/a", nonce, "auth"), 401, false},
		{"unknown user", "GET", "/a", digestAnswer("zed", "pw", "GET", "/a", nonce, "auth"), 401, false},
		{"other realm", "GET", "/a", digestAnswer("bob", "pw", "GET", "/a", nonce, "auth"), 401, false},
		{"answer for another uri", "GET", "/admin", digestAnswer("ann", "pw", "GET", "/a", nonce, "auth"), 401, false},
		{"answer for another method", "POST", "/a", digestAnswer("ann", "pw", "GET", "/a", nonce, "auth"), 401, false},
		{"expired nonce is stale", "GET", "/a", digestAnswer("ann", "pw", "GET", "/a", staleNonce, "auth"), 401, true},
		{"foreign nonce is stale", "GET", "/a", digestAnswer("ann", "pw", "GET", "/a", "bm90LW91cnM", "auth"), 401, true},
		{"basic instead", "GET", "/a", "Basic YW5uOnB3", 401, false},
		{"none", "GET", "/a", "", 401, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.uri, nil)
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d", w.Code, tc.code)
			}
			ch := w.Header().Get("WWW-Authenticate")
			if tc.code == 401 && (!strings.HasPrefix(ch, `Digest realm="traefik", nonce="`) || strings.Contains(ch, "stale=true") != tc.stale) {
				t.Errorf("challenge %q, stale want %v", ch, tc.stale)
			}
			if tc.code == 200 && w.Body.String() != "user=ann auth=" {
				t.Errorf("backend saw %q", w.Body.String())
			}
		})
	}
}

func TestDigestAuthConfigErrors(t *testing.T) {
	next := http.NotFoundHandler()
	for _, users := range [][]string{nil, {"ann:traefik"}, {"ann:traefik:nothex"}} {
		if _, err := DigestAuth(route.DigestAuth{Users: users}, AuthOptions{}, next); err == nil {
			t.Errorf("users %q accepted", users)
		}
	}
	if _, err := DigestAuth(route.DigestAuth{UsersFile: "x"}, AuthOptions{}, next); err == nil {
		t.Error("a users file without a reader was accepted (the route would be served open)")
	}
}

// TestUsersFileReload: the users file is looked at again once a second at
// most, a change is used, and a broken file keeps the last good users.
func TestUsersFileReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "users")
	os.WriteFile(path, []byte(ha1Line("ann", "traefik", "one")), 0o600)
	now := time.Unix(1_700_000_000, 0)
	reads := 0
	opts := AuthOptions{Now: func() time.Time { return now }, ReadFile: func(ref string) ([]byte, error) {
		reads++
		return os.ReadFile(filepath.Join(dir, ref))
	}}
	h, err := DigestAuth(route.DigestAuth{UsersFile: "users"}, opts, http.NotFoundHandler())
	if err != nil {
		t.Fatal(err)
	}
	d := h.(*digestAuth)
	has := func(pass string) bool {
		want := ha1Line("ann", "traefik", pass)
		got := d.users.get().ha1["ann"]
		return strings.HasSuffix(want, hex.EncodeToString(got[:]))
	}
	if !has("one") {
		t.Fatal("initial users not loaded")
	}
	os.WriteFile(path, []byte(ha1Line("ann", "traefik", "two")), 0o600)
	if !has("one") || reads != 1 {
		t.Fatalf("re-read before a second passed (reads %d)", reads)
	}
	now = now.Add(usersRecheck)
	if !has("two") {
		t.Fatal("changed file not used")
	}
	os.WriteFile(path, []byte("garbage"), 0o600)
	now = now.Add(usersRecheck)
	if !has("two") {
		t.Fatal("a broken file replaced the last good users")
	}
	os.Remove(path)
	now = now.Add(usersRecheck)
	if !has("two") {
		t.Fatal("a vanished file replaced the last good users")
	}
}

// TestDigestReplay: an answer (nonce and count) opens one request only;
// counts that overtake each other are each accepted once.
func TestDigestReplay(t *testing.T) {
	h, err := DigestAuth(route.DigestAuth{Users: []string{ha1Line("ann", "traefik", "pw")}}, AuthOptions{},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	if err != nil {
		t.Fatal(err)
	}
	nonce := h.(*digestAuth).nonce()
	answer := func(nc string) string {
		ha1, ha2 := md5hex("ann:traefik:pw"), md5hex("GET:/")
		return fmt.Sprintf(`Digest username="ann", realm="traefik", nonce="%s", uri="/", qop=auth, nc=%s, cnonce="c", response="%s"`,
			nonce, nc, md5hex(ha1+":"+nonce+":"+nc+":c:auth:"+ha2))
	}
	for _, tc := range []struct {
		nc   string
		code int
	}{{"00000001", 200}, {"00000001", 401}, {"00000003", 200}, {"00000002", 200}, {"00000002", 401}, {"00000003", 401}, {"00000040", 200}, {"00000004", 200}, {"00000050", 200}, {"00000005", 401}, {"00000000", 401}} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", answer(tc.nc))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.code {
			t.Errorf("nc %s: %d, want %d", tc.nc, w.Code, tc.code)
		}
	}
}
