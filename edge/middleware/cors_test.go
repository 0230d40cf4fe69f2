package middleware

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rancher-edge/edge/route"
)

// TestCORS: ingress-nginx's enable-cors — a matching origin is echoed
// (a listed one or one under a *.wildcard), "*" answers everyone, a
// preflight is answered 204 without the backend, and the backend's own
// CORS headers are replaced.
func TestCORS(t *testing.T) {
	backend := 0
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		backend++
		w.Header().Set("Access-Control-Allow-Origin", "https://evil.test")
		w.WriteHeader(200)
	})
	cfg := route.CORS{AllowOrigins: []string{"https://origin-site.com:4443", "https://*.foo.bar"}, AllowMethods: "PUT, GET",
		AllowHeaders: "X-A", AllowCredentials: true, MaxAge: 600}
	h, err := CORS(cfg, next)
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, origin string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(method, "http://app.test/", nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		h.ServeHTTP(rec, req)
		return rec
	}
	for origin, want := range map[string]string{
		"https://origin-site.com:4443": "https://origin-site.com:4443",
		"https://a.foo.bar":            "https://a.foo.bar",
		"https://a.b.foo.bar":          "https://evil.test", // one label only: not CORS, the backend's answer
		"https://other.test":           "https://evil.test",
		"":                             "https://evil.test",
	} {
		if got := do("GET", origin).Header().Get("Access-Control-Allow-Origin"); got != want {
			t.Errorf("origin %q: %q, want %q", origin, got, want)
		}
	}
	backend = 0
	rec := do("OPTIONS", "https://a.foo.bar")
	if rec.Code != 204 || backend != 0 || rec.Header().Get("Access-Control-Allow-Methods") != "PUT, GET" ||
		rec.Header().Get("Access-Control-Max-Age") != "600" || rec.Header().Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("preflight: %d backend=%d %v", rec.Code, backend, rec.Header())
	}
	if rec := do("OPTIONS", "https://other.test"); rec.Code != 200 || backend != 1 {
		t.Errorf("OPTIONS from another origin: %d backend=%d", rec.Code, backend)
	}
	star, _ := CORS(route.CORS{AllowOrigins: []string{"*"}}, next)
	rec = httptest.NewRecorder()
	star.ServeHTTP(rec, httptest.NewRequest("GET", "http://app.test/", nil))
	if rec.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("*: %v", rec.Header())
	}
	for _, bad := range []string{"ftp://x", "https://*", "https://a.test/path", "*.foo.bar", "http://", "https:"} {
		if _, err := CORS(route.CORS{AllowOrigins: []string{bad}}, next); err == nil {
			t.Errorf("origin %q accepted", bad)
		}
	}
}

// BenchmarkCORS: a listed origin's answer costs the response-header
// wrapper only; a preflight nothing.
func BenchmarkCORS(b *testing.B) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	h, err := CORS(route.CORS{AllowOrigins: []string{"https://app.example.com"}, AllowMethods: "GET", AllowCredentials: true, MaxAge: 600}, next)
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range []string{"GET", "OPTIONS"} {
		b.Run(m, func(b *testing.B) {
			req := httptest.NewRequest(m, "http://app.test/", nil)
			req.Header.Set("Origin", "https://app.example.com")
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				clear(w.HeaderMap)
				h.ServeHTTP(w, req)
			}
		})
	}
}
