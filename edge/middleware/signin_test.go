package middleware

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rancher-edge/edge/route"
)

// TestForwardAuthSignIn: with a sign-in URL (ingress-nginx's auth-signin),
// a 401 from the authentication server sends the client to it with the
// original URL in rd; other denials are relayed as before.
func TestForwardAuthSignIn(t *testing.T) {
	auth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("X-Test") {
		case "ok":
			w.WriteHeader(http.StatusAccepted)
		case "forbidden":
			w.WriteHeader(http.StatusForbidden)
		default:
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer auth.Close()
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	for _, c := range []struct{ signIn, header, want string }{
		{"https://$host/oauth2/start?rd=$escaped_request_uri", "", "https://app.test/oauth2/start?rd=%2Fa%2Fb%3Fq%3D1"},
		{"https://auth.test/start", "", "https://auth.test/start?rd=http%3A%2F%2Fapp.test%2Fa%2Fb%3Fq%3D1"},
		{"https://auth.test/start?x=1", "", "https://auth.test/start?x=1&rd=http%3A%2F%2Fapp.test%2Fa%2Fb%3Fq%3D1"},
	} {
		h, err := ForwardAuth(route.ForwardAuth{Address: auth.URL, SignIn: c.signIn}, ForwardOptions{}, next)
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "http://app.test/a/b?q=1", nil)
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusFound || rec.Header().Get("Location") != c.want {
			t.Errorf("%s: %d %q, want 302 %q", c.signIn, rec.Code, rec.Header().Get("Location"), c.want)
		}
		for hv, want := range map[string]int{"ok": http.StatusTeapot, "forbidden": http.StatusForbidden} {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "http://app.test/", nil)
			req.Header.Set("X-Test", hv)
			h.ServeHTTP(rec, req)
			if rec.Code != want {
				t.Errorf("%s: auth %s gave %d, want %d", c.signIn, hv, rec.Code, want)
			}
		}
	}
	if _, err := ForwardAuth(route.ForwardAuth{Address: auth.URL, SignIn: "/relative"}, ForwardOptions{}, next); err == nil {
		t.Error("a relative sign-in URL is accepted")
	}
}

// TestRedirectCode: a fixed code answers every method with it.
func TestRedirectCode(t *testing.T) {
	h, err := RedirectWithFallback(route.Redirect{Regex: `^.*$`, Replacement: "https://new.test/", Code: 308}, 80, 443, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"GET", "POST"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(m, "http://old.test/x", nil))
		if rec.Code != 308 || rec.Header().Get("Location") != "https://new.test/" {
			t.Errorf("%s: %d %q", m, rec.Code, rec.Header().Get("Location"))
		}
	}
	if _, err := RedirectWithFallback(route.Redirect{Regex: `^.*$`, Replacement: "/", Code: 200}, 80, 443, nil); err == nil {
		t.Error("code 200 accepted")
	}
}
