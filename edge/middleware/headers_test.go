package middleware

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rancher-edge/edge/route"
)

// serveHeaders runs one request through Headers(cfg) in front of backend.
func serveHeaders(t *testing.T, cfg route.Headers, backend http.HandlerFunc, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	h, err := Headers(cfg, backend)
	if err != nil {
		t.Fatalf("Headers: %v", err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func newReq(method, target string, secure bool) *http.Request {
	req := httptest.NewRequest(method, target, nil)
	req.TLS = nil
	if secure {
		req.TLS = &tls.ConnectionState{}
	}
	return req
}

func TestHeadersSecurityResponseHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		cfg    route.Headers
		secure bool
		want   map[string]string // "" means absent
	}{
		{name: "frame deny", cfg: route.Headers{FrameDeny: true}, want: map[string]string{"X-Frame-Options": "DENY"}},
		{
			name: "custom frame options win", cfg: route.Headers{FrameDeny: true, CustomFrameOptionsValue: "SAMEORIGIN"},
			want: map[string]string{"X-Frame-Options": "SAMEORIGIN"},
		},
		{name: "nosniff", cfg: route.Headers{ContentTypeNosniff: true}, want: map[string]string{"X-Content-Type-Options": "nosniff"}},
		{name: "xss filter", cfg: route.Headers{BrowserXSSFilter: true}, want: map[string]string{"X-XSS-Protection": "1; mode=block"}},
		{
			name: "custom xss value", cfg: route.Headers{BrowserXSSFilter: true, CustomBrowserXSSValue: "0"},
			want: map[string]string{"X-XSS-Protection": "0"},
		},
		{
			name: "csp", cfg: route.Headers{ContentSecurityPolicy: "default-src 'self'"},
			want: map[string]string{"Content-Security-Policy": "default-src 'self'"},
		},
		{name: "referrer", cfg: route.Headers{ReferrerPolicy: "no-referrer"}, want: map[string]string{"Referrer-Policy": "no-referrer"}},
		{
			name: "hpkp on https", cfg: route.Headers{PublicKey: `pin-sha256="x"; max-age=5`}, secure: true,
			want: map[string]string{"Public-Key-Pins": `pin-sha256="x"; max-age=5`},
		},
		{name: "no hpkp on http", cfg: route.Headers{PublicKey: `pin-sha256="x"`}, want: map[string]string{"Public-Key-Pins": ""}},
		{
			name: "hsts full", cfg: route.Headers{STSSeconds: 63072000, STSIncludeSubdomains: true, STSPreload: true}, secure: true,
			want: map[string]string{"Strict-Transport-Security": "max-age=63072000; includeSubDomains; preload"},
		},
		{
			name: "hsts plain", cfg: route.Headers{STSSeconds: 300}, secure: true,
			want: map[string]string{"Strict-Transport-Security": "max-age=300"},
		},
		{name: "no hsts on http", cfg: route.Headers{STSSeconds: 300}, want: map[string]string{"Strict-Transport-Security": ""}},
		{
			name: "forced hsts on http", cfg: route.Headers{STSSeconds: 300, ForceSTSHeader: true},
			want: map[string]string{"Strict-Transport-Security": "max-age=300"},
		},
		{
			name: "development disables hsts and hpkp", cfg: route.Headers{STSSeconds: 300, PublicKey: "k", FrameDeny: true, IsDevelopment: true}, secure: true,
			want: map[string]string{"Strict-Transport-Security": "", "Public-Key-Pins": "", "X-Frame-Options": "DENY"},
		},
		{
			name: "custom response headers set, override and remove",
			cfg: route.Headers{
				FrameDeny:             true,
				CustomResponseHeaders: map[string]string{"x-frame-options": "SAMEORIGIN", "X-Custom": "v", "Server": ""},
			},
			want: map[string]string{"X-Frame-Options": "SAMEORIGIN", "X-Custom": "v", "Server": ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The backend sets conflicting headers and calls WriteHeader
			// itself: the labels must still win.
			backend := func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("X-Frame-Options", "ALLOWALL")
				w.Header().Set("Server", "backend/1.0")
				w.Header().Set("Strict-Transport-Security", "max-age=1")
				w.WriteHeader(http.StatusAccepted)
				_, _ = w.Write([]byte("body"))
			}
			target := "http://a.example.com/"
			rec := serveHeaders(t, tt.cfg, backend, newReq(http.MethodGet, target, tt.secure))
			if rec.Code != http.StatusAccepted {
				t.Fatalf("code = %d, want 202", rec.Code)
			}
			for k, want := range tt.want {
				got := rec.Header().Get(k)
				if k == "Strict-Transport-Security" && want == "" {
					// The backend's own HSTS passes through untouched.
					want = "max-age=1"
				}
				if got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestHeadersHTTPSDetection(t *testing.T) {
	t.Parallel()
	cfg := route.Headers{STSSeconds: 60, SSLProxyHeaders: map[string]string{"X-Forwarded-Ssl": "on"}}
	tests := []struct {
		name   string
		secure bool
		header map[string]string
		want   bool
	}{
		{name: "tls", secure: true, want: true},
		{name: "plain", want: false},
		{name: "trusted X-Forwarded-Proto", header: map[string]string{"X-Forwarded-Proto": "https"}, want: true},
		{name: "X-Forwarded-Proto http", header: map[string]string{"X-Forwarded-Proto": "http"}, want: false},
		{name: "ssl proxy header", header: map[string]string{"X-Forwarded-Ssl": "on"}, want: true},
		{name: "ssl proxy header other value", header: map[string]string{"X-Forwarded-Ssl": "off"}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := newReq(http.MethodGet, "http://a.example.com/", tt.secure)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := serveHeaders(t, cfg, okHandler, req)
			if got := rec.Header().Get("Strict-Transport-Security") != ""; got != tt.want {
				t.Errorf("HSTS sent = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHeadersRequestChecks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		cfg          route.Headers
		method       string
		target       string
		secure       bool
		header       map[string]string
		wantCode     int
		wantLocation string
	}{
		{name: "allowed host", cfg: route.Headers{AllowedHosts: []string{"a.example.com"}}, target: "http://A.example.com/", wantCode: 200},
		{name: "allowed host with port", cfg: route.Headers{AllowedHosts: []string{"a.example.com"}}, target: "http://a.example.com:8080/", wantCode: 200},
		{name: "bad host", cfg: route.Headers{AllowedHosts: []string{"a.example.com"}}, target: "http://b.example.com/", wantCode: 400},
		{
			name: "hosts proxy header", cfg: route.Headers{AllowedHosts: []string{"a.example.com"}, HostsProxyHeaders: []string{"X-Forwarded-Host"}},
			target: "http://internal/", header: map[string]string{"X-Forwarded-Host": "a.example.com"}, wantCode: 200,
		},
		{
			name: "development skips host check", cfg: route.Headers{AllowedHosts: []string{"a.example.com"}, IsDevelopment: true},
			target: "http://b.example.com/", wantCode: 200,
		},
		{
			name: "ssl redirect", cfg: route.Headers{SSLRedirect: true}, target: "http://a.example.com:8080/p?q=1",
			wantCode: 301, wantLocation: "https://a.example.com/p?q=1",
		},
		{
			name: "ssl redirect post", cfg: route.Headers{SSLRedirect: true}, method: http.MethodPost, target: "http://a.example.com/p",
			wantCode: 308, wantLocation: "https://a.example.com/p",
		},
		{
			name: "ssl temporary redirect", cfg: route.Headers{SSLRedirect: true, SSLTemporaryRedirect: true}, target: "http://a.example.com/p",
			wantCode: 307, wantLocation: "https://a.example.com/p",
		},
		{
			name: "ssl redirect to ssl host", cfg: route.Headers{SSLRedirect: true, SSLHost: "secure.example.com:8443"}, target: "http://a.example.com/p",
			wantCode: 301, wantLocation: "https://secure.example.com:8443/p",
		},
		{name: "no ssl redirect on https", cfg: route.Headers{SSLRedirect: true}, target: "https://a.example.com/p", secure: true, wantCode: 200},
		{
			name: "no ssl redirect behind proxy header", cfg: route.Headers{SSLRedirect: true, SSLProxyHeaders: map[string]string{"X-Forwarded-Ssl": "on"}},
			target: "http://a.example.com/p", header: map[string]string{"X-Forwarded-Ssl": "on"}, wantCode: 200,
		},
		{name: "development skips ssl redirect", cfg: route.Headers{SSLRedirect: true, IsDevelopment: true}, target: "http://a.example.com/", wantCode: 200},
		{
			name: "ssl force host on https", cfg: route.Headers{SSLForceHost: true, SSLHost: "www.example.com"}, target: "https://example.com/x",
			secure: true, wantCode: 301, wantLocation: "https://www.example.com/x",
		},
		{
			name: "ssl force host already there", cfg: route.Headers{SSLForceHost: true, SSLHost: "www.example.com"}, target: "https://WWW.example.com:443/x",
			secure: true, wantCode: 200,
		},
		{name: "ssl force host without ssl host", cfg: route.Headers{SSLForceHost: true}, target: "https://a.example.com/", secure: true, wantCode: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			req := newReq(method, tt.target, tt.secure)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := serveHeaders(t, tt.cfg, okHandler, req)
			if rec.Code != tt.wantCode {
				t.Fatalf("code = %d, want %d (body %q)", rec.Code, tt.wantCode, rec.Body)
			}
			if got := rec.Header().Get("Location"); got != tt.wantLocation {
				t.Errorf("Location = %q, want %q", got, tt.wantLocation)
			}
		})
	}
}

func TestHeadersCustomRequestHeaders(t *testing.T) {
	t.Parallel()
	cfg := route.Headers{CustomRequestHeaders: map[string]string{"x-env": "prod", "X-Debug": "", "X-Multi": "a, b"}}
	var seen http.Header
	backend := func(w http.ResponseWriter, r *http.Request) { seen = r.Header.Clone() }
	req := newReq(http.MethodGet, "http://a.example.com/", false)
	req.Header.Set("X-Debug", "1")
	req.Header.Set("X-Env", "dev")
	serveHeaders(t, cfg, backend, req)
	if got := seen.Values("X-Env"); len(got) != 1 || got[0] != "prod" {
		t.Errorf("X-Env = %q, want [prod]", got)
	}
	if got := seen.Get("X-Multi"); got != "a, b" {
		t.Errorf("X-Multi = %q", got)
	}
	if _, ok := seen["X-Debug"]; ok {
		t.Error("X-Debug was not removed")
	}
	// Appending to a shared value must not leak into the next request.
	req.Header.Add("X-Env", "extra")
	req2 := newReq(http.MethodGet, "http://a.example.com/", false)
	serveHeaders(t, cfg, backend, req2)
	if got := seen.Values("X-Env"); len(got) != 1 {
		t.Errorf("second request X-Env = %q, want one value", got)
	}
}

func TestHeadersConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     route.Headers
		wantErr string
	}{
		{name: "bad request header name", cfg: route.Headers{CustomRequestHeaders: map[string]string{"X Bad": "v"}}, wantErr: "X Bad"},
		{name: "response value with newline", cfg: route.Headers{CustomResponseHeaders: map[string]string{"X-A": "v\r\nSet-Cookie: x"}}, wantErr: "control"},
		{name: "csp with newline", cfg: route.Headers{ContentSecurityPolicy: "a\nb"}, wantErr: "Content-Security-Policy"},
		{name: "negative sts", cfg: route.Headers{STSSeconds: -1}, wantErr: "negative"},
		{name: "ssl host with path", cfg: route.Headers{SSLHost: "a.example.com/x"}, wantErr: "SSL host"},
		{name: "ssl host with user", cfg: route.Headers{SSLHost: "u@a.example.com"}, wantErr: "SSL host"},
		{name: "empty ssl proxy value", cfg: route.Headers{SSLProxyHeaders: map[string]string{"X-Forwarded-Proto": ""}}, wantErr: "needs"},
		{name: "bad hosts proxy header", cfg: route.Headers{HostsProxyHeaders: []string{"X:Host"}}, wantErr: "hosts proxy header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Headers(tt.cfg, http.HandlerFunc(okHandler))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func BenchmarkHeaders(b *testing.B) {
	cfg := route.Headers{
		CustomRequestHeaders:  map[string]string{"X-Env": "prod"},
		CustomResponseHeaders: map[string]string{"X-Served-By": "edge", "Server": ""},
		AllowedHosts:          []string{"a.example.com"},
		SSLRedirect:           true,
		STSSeconds:            63072000,
		STSIncludeSubdomains:  true,
		FrameDeny:             true,
		ContentTypeNosniff:    true,
		BrowserXSSFilter:      true,
		ReferrerPolicy:        "no-referrer",
	}
	backend := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	h, err := Headers(cfg, backend)
	if err != nil {
		b.Fatal(err)
	}
	req := newReq(http.MethodGet, "https://a.example.com/", true)
	w := discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
}

// TestHeadersAdd: AddRequestHeaders and AddResponseHeaders append after
// what the client and the backend sent (Gateway API's add), next to set
// and remove; a shared value never leaks into the next request.
func TestHeadersAdd(t *testing.T) {
	t.Parallel()
	cfg := route.Headers{
		CustomRequestHeaders:  map[string]string{"X-Set": "set"},
		AddRequestHeaders:     map[string]string{"X-Add": "added", "X-New": "new"},
		CustomResponseHeaders: map[string]string{"X-Gone": ""},
		AddResponseHeaders:    map[string]string{"X-Resp": "edge"},
	}
	var seen http.Header
	backend := func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Clone()
		w.Header().Set("X-Resp", "backend")
		w.Header().Set("X-Gone", "1")
		w.WriteHeader(http.StatusOK)
	}
	for range 2 {
		req := newReq(http.MethodGet, "http://a.example.com/", false)
		req.Header.Set("X-Add", "client")
		req.Header.Set("X-Set", "client")
		rec := serveHeaders(t, cfg, backend, req)
		if got := seen.Values("X-Add"); len(got) != 2 || got[0] != "client" || got[1] != "added" {
			t.Errorf("X-Add = %q, want [client added]", got)
		}
		if got := seen.Values("X-New"); len(got) != 1 || got[0] != "new" {
			t.Errorf("X-New = %q, want [new]", got)
		}
		if got := seen.Values("X-Set"); len(got) != 1 || got[0] != "set" {
			t.Errorf("X-Set = %q, want [set]", got)
		}
		if got := rec.Header().Values("X-Resp"); len(got) != 2 || got[0] != "backend" || got[1] != "edge" {
			t.Errorf("response X-Resp = %q, want [backend edge]", got)
		}
		if _, ok := rec.Header()["X-Gone"]; ok {
			t.Error("X-Gone was not removed")
		}
	}
	if _, err := Headers(route.Headers{AddRequestHeaders: map[string]string{"X-Empty": ""}}, http.NotFoundHandler()); err == nil {
		t.Error("an empty value to add was accepted")
	}
}
