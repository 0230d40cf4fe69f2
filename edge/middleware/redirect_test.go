package middleware

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rancher-edge/edge/route"
)

// okHandler answers 200 "backend" so tests can tell a pass-through from a
// middleware's own answer.
func okHandler(w http.ResponseWriter, _ *http.Request) {
	_, _ = w.Write([]byte("backend"))
}

func TestRedirectEntryPoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		cfg          route.Redirect
		httpPort     int
		httpsPort    int
		method       string
		target       string
		tls          bool
		header       map[string]string
		wantCode     int
		wantLocation string
	}{
		{
			name: "to https keeps host path and query", cfg: route.Redirect{EntryPoint: "https"},
			httpPort: 80, httpsPort: 443, method: http.MethodGet, target: "http://a.example.com/p/q?x=1&y=%2F",
			wantCode: http.StatusFound, wantLocation: "https://a.example.com/p/q?x=1&y=%2F",
		},
		{
			name: "drops the request port", cfg: route.Redirect{EntryPoint: "https"},
			httpPort: 80, httpsPort: 443, method: http.MethodGet, target: "http://a.example.com:8080/",
			wantCode: http.StatusFound, wantLocation: "https://a.example.com/",
		},
		{
			name: "non-standard https port", cfg: route.Redirect{EntryPoint: "HTTPS"},
			httpPort: 8080, httpsPort: 8443, method: http.MethodGet, target: "http://a.example.com:8080/x",
			wantCode: http.StatusFound, wantLocation: "https://a.example.com:8443/x",
		},
		{
			name: "ipv6 literal host", cfg: route.Redirect{EntryPoint: "https"},
			httpPort: 80, httpsPort: 8443, method: http.MethodGet, target: "http://[2001:db8::1]:80/",
			wantCode: http.StatusFound, wantLocation: "https://[2001:db8::1]:8443/",
		},
		{
			name: "permanent GET is 301", cfg: route.Redirect{EntryPoint: "https", Permanent: true},
			httpPort: 80, httpsPort: 443, method: http.MethodGet, target: "http://a.example.com/",
			wantCode: http.StatusMovedPermanently, wantLocation: "https://a.example.com/",
		},
		{
			name: "permanent HEAD is 301", cfg: route.Redirect{EntryPoint: "https", Permanent: true},
			httpPort: 80, httpsPort: 443, method: http.MethodHead, target: "http://a.example.com/",
			wantCode: http.StatusMovedPermanently, wantLocation: "https://a.example.com/",
		},
		{
			name: "permanent POST is 308", cfg: route.Redirect{EntryPoint: "https", Permanent: true},
			httpPort: 80, httpsPort: 443, method: http.MethodPost, target: "http://a.example.com/",
			wantCode: http.StatusPermanentRedirect, wantLocation: "https://a.example.com/",
		},
		{
			name: "temporary POST is 307", cfg: route.Redirect{EntryPoint: "https"},
			httpPort: 80, httpsPort: 443, method: http.MethodPost, target: "http://a.example.com/",
			wantCode: http.StatusTemporaryRedirect, wantLocation: "https://a.example.com/",
		},
		{
			name: "to http with non-standard port", cfg: route.Redirect{EntryPoint: "http"},
			httpPort: 8080, httpsPort: 443, method: http.MethodGet, target: "https://a.example.com/z", tls: true,
			wantCode: http.StatusFound, wantLocation: "http://a.example.com:8080/z",
		},
		{
			name: "already https falls through", cfg: route.Redirect{EntryPoint: "https"},
			httpPort: 80, httpsPort: 443, method: http.MethodGet, target: "https://a.example.com/", tls: true,
			wantCode: http.StatusOK,
		},
		{
			name: "trusted X-Forwarded-Proto counts as https", cfg: route.Redirect{EntryPoint: "https"},
			httpPort: 80, httpsPort: 443, method: http.MethodGet, target: "http://a.example.com/",
			header: map[string]string{"X-Forwarded-Proto": "https"}, wantCode: http.StatusOK,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, err := RedirectWithFallback(tt.cfg, tt.httpPort, tt.httpsPort, http.HandlerFunc(okHandler))
			if err != nil {
				t.Fatalf("RedirectWithFallback: %v", err)
			}
			req := httptest.NewRequest(tt.method, tt.target, nil)
			if !tt.tls {
				req.TLS = nil
			} else if req.TLS == nil {
				req.TLS = &tls.ConnectionState{}
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantCode {
				t.Fatalf("code = %d, want %d", rec.Code, tt.wantCode)
			}
			if got := rec.Header().Get("Location"); got != tt.wantLocation {
				t.Errorf("Location = %q, want %q", got, tt.wantLocation)
			}
		})
	}
}

func TestRedirectRegex(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		cfg          route.Redirect
		target       string
		tls          bool
		wantCode     int
		wantLocation string
	}{
		{
			name:   "groups",
			cfg:    route.Redirect{Regex: `^http://localhost/(.*)`, Replacement: "http://mydomain/$1"},
			target: "http://localhost/foo/bar?q=1", wantCode: http.StatusFound,
			wantLocation: "http://mydomain/foo/bar?q=1",
		},
		{
			name:   "named group and port",
			cfg:    route.Redirect{Regex: `^https?://(?P<host>[^:/]+):8080/(.*)`, Replacement: "https://${host}/$2", Permanent: true},
			target: "http://shop.example.com:8080/cart", wantCode: http.StatusMovedPermanently,
			wantLocation: "https://shop.example.com/cart",
		},
		{
			name:   "tls scheme is part of the url",
			cfg:    route.Redirect{Regex: `^https://www\.(.*)`, Replacement: "https://$1"},
			target: "https://www.example.com/a", tls: true, wantCode: http.StatusFound,
			wantLocation: "https://example.com/a",
		},
		{
			name:   "no match falls through",
			cfg:    route.Redirect{Regex: `^http://other/(.*)`, Replacement: "http://x/$1"},
			target: "http://localhost/foo", wantCode: http.StatusOK,
		},
		{
			name:   "unchanged url falls through",
			cfg:    route.Redirect{Regex: `^(http://localhost/.*)`, Replacement: "$1"},
			target: "http://localhost/foo", wantCode: http.StatusOK,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, err := RedirectWithFallback(tt.cfg, 80, 443, http.HandlerFunc(okHandler))
			if err != nil {
				t.Fatalf("RedirectWithFallback: %v", err)
			}
			req := httptest.NewRequest(http.MethodGet, tt.target, nil)
			if !tt.tls {
				req.TLS = nil
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantCode {
				t.Fatalf("code = %d, want %d", rec.Code, tt.wantCode)
			}
			if got := rec.Header().Get("Location"); got != tt.wantLocation {
				t.Errorf("Location = %q, want %q", got, tt.wantLocation)
			}
		})
	}
}

func TestRedirectWithoutFallbackAnswers404(t *testing.T) {
	t.Parallel()
	h, err := RedirectWithFallback(route.Redirect{Regex: `^http://other/`, Replacement: "http://x/"}, 80, 443, nil)
	if err != nil {
		t.Fatalf("Redirect: %v", err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://localhost/", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("code = %d, want 404", rec.Code)
	}
}

func TestRedirectConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		cfg       route.Redirect
		httpsPort int
		wantErr   string
	}{
		{name: "empty", cfg: route.Redirect{}, httpsPort: 443, wantErr: "entry point or a regex"},
		{name: "regex without replacement", cfg: route.Redirect{Regex: "^x"}, httpsPort: 443, wantErr: "both"},
		{name: "bad regex", cfg: route.Redirect{Regex: "(", Replacement: "x"}, httpsPort: 443, wantErr: "regex"},
		{name: "unknown entry point", cfg: route.Redirect{EntryPoint: "admin"}, httpsPort: 443, wantErr: "admin"},
		{name: "bad port", cfg: route.Redirect{EntryPoint: "https"}, httpsPort: 0, wantErr: "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := RedirectWithFallback(tt.cfg, 80, tt.httpsPort, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestHostWithoutPort(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"example.com", "example.com"},
		{"example.com:8080", "example.com"},
		{"[::1]:80", "[::1]"},
		{"[::1]", "[::1]"},
		{"10.0.0.1:80", "10.0.0.1"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := hostWithoutPort(tt.in); got != tt.want {
				t.Errorf("hostWithoutPort(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
