package middleware

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rancher-edge/edge/route"
)

// FuzzDigestAuthorization feeds arbitrary Authorization headers to the
// digest authenticator: it must never panic and never let a request
// through without the right answer for a known user.
func FuzzDigestAuthorization(f *testing.F) {
	now := time.Unix(1_700_000_000, 0)
	h, err := DigestAuth(route.DigestAuth{Users: []string{ha1Line("ann", "traefik", "pw")}}, AuthOptions{Now: func() time.Time { return now }},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(299) }))
	if err != nil {
		f.Fatal(err)
	}
	nonce := h.(*digestAuth).nonce()
	f.Add(digestAnswer("ann", "pw", "GET", "/", nonce, "auth"))
	f.Add(digestAnswer("ann", "pw", "GET", "/", nonce, ""))
	f.Add(`Digest username="ann", realm="traefik", nonce="` + nonce + `", uri="/", response="00", qop=auth, nc=1, cnonce="x"`)
	f.Add(`Digest username="a\"nn", realm=traefik,,, nonce=, uri="/`)
	f.Add(`Digest =, ="", a="\`)
	f.Add("Basic YW5uOnB3")
	f.Fuzz(func(t *testing.T, header string) {
		params := parseDigestParams(strings.TrimPrefix(header, "Digest "))
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", header)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code == 299 {
			// Only the right answer opens: recompute it from what was sent.
			want := digestAnswer("ann", "pw", "GET", "/", params["nonce"], params["qop"])
			if params["username"] != "ann" || !strings.Contains(want, `response="`+strings.ToLower(params["response"])+`"`) {
				t.Fatalf("let through with %q", header)
			}
		}
	})
}

// FuzzStatusRanges: error-page status lists never panic, and what is
// accepted lies within 100-599.
func FuzzStatusRanges(f *testing.F) {
	for _, s := range []string{"500-599", "404", "5xx", "-", "1-", "-1", "599-500", "100-599,404"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ranges, err := ParseStatusRanges(strings.Split(s, ","))
		if err != nil {
			return
		}
		for _, r := range ranges {
			if r[0] < 100 || r[1] > 599 || r[0] > r[1] {
				t.Fatalf("%q accepted as %v", s, r)
			}
		}
	})
}
