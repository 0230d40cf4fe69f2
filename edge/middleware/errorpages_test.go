package middleware

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rancher-edge/edge/route"
)

func TestErrorPages(t *testing.T) {
	pages := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/broken.html" {
			http.Error(w, "page backend broken", 500)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, "page %s method=%s if-none-match=%q", r.URL.RequestURI(), r.Method, r.Header.Get("If-None-Match"))
	})
	backends := map[string]http.Handler{"pages": pages}
	lookup := func(name string) http.Handler { return backends[name] }
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := 200
		fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/"), "%d", &code)
		w.Header().Set("X-App", "1")
		w.WriteHeader(code)
		fmt.Fprintf(w, "app %d", code)
		w.(http.Flusher).Flush()
	})
	h, err := ErrorPages([]route.ErrorPage{
		{Name: "a", Status: []string{"500-502"}, Backend: "pages", Query: "/{status}.html?lang=en"},
		{Name: "b", Status: []string{"503"}, Backend: "pages", Query: "broken.html"},
		{Name: "c", Status: []string{"504"}, Backend: "gone", Query: "/x"},
	}, lookup, app)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, body, xApp string
		code             int
	}{
		{"/200", "app 200", "1", 200},
		{"/404", "app 404", "1", 404},
		{"/502", `page /502.html?lang=en method=GET if-none-match=""`, "", 502},
		{"/503", "app 503", "1", 503}, // the page backend failed: the original answer
		{"/504", "app 504", "1", 504}, // no such backend: the original answer
	} {
		r := httptest.NewRequest("POST", tc.path, strings.NewReader("x"))
		r.Header.Set("If-None-Match", `"v1"`)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.code || w.Body.String() != tc.body || w.Header().Get("X-App") != tc.xApp {
			t.Errorf("%s: %d %q X-App=%q, want %d %q %q", tc.path, w.Code, w.Body.String(), w.Header().Get("X-App"), tc.code, tc.body, tc.xApp)
		}
	}
	for _, bad := range [][]string{{"5xx"}, {"600"}, {"503-500"}, nil} {
		if _, err := ErrorPages([]route.ErrorPage{{Name: "x", Status: bad, Backend: "pages"}}, lookup, app); err == nil {
			t.Errorf("status %q accepted", bad)
		}
	}
}
