package middleware

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rancher-edge/edge/route"
)

func TestWhiteList(t *testing.T) {
	t.Parallel()
	ranges := []string{"10.0.0.0/8", " 192.168.1.7 ", "2001:db8::/32", "fe80::1", "::ffff:172.16.0.0/108"}
	tests := []struct {
		name   string
		useXFF bool
		remote string
		xff    []string
		want   int
	}{
		{name: "ipv4 in cidr", remote: "10.1.2.3:5555", want: 200},
		{name: "ipv4 bare match", remote: "192.168.1.7:1", want: 200},
		{name: "ipv4 bare neighbour", remote: "192.168.1.8:1", want: 403},
		{name: "ipv4 outside", remote: "11.0.0.1:5555", want: 403},
		{name: "ipv6 in cidr", remote: "[2001:db8:1::5]:443", want: 200},
		{name: "ipv6 outside", remote: "[2001:db9::5]:443", want: 403},
		{name: "ipv6 bare with zone", remote: "[fe80::1%eth0]:443", want: 200},
		{name: "ipv4-mapped client", remote: "[::ffff:10.9.9.9]:80", want: 200},
		{name: "ipv4-mapped range", remote: "172.16.3.4:80", want: 200},
		{name: "remote without port", remote: "10.0.0.1", want: 200},
		{name: "garbage remote", remote: "pipe", want: 403},
		{name: "xff ignored when off", remote: "11.0.0.1:1", xff: []string{"10.0.0.1"}, want: 403},
		{name: "xff match", useXFF: true, remote: "11.0.0.1:1", xff: []string{"8.8.8.8, 10.0.0.1"}, want: 200},
		{name: "xff second header", useXFF: true, remote: "11.0.0.1:1", xff: []string{"8.8.8.8", "2001:db8::9"}, want: 200},
		{name: "xff with port", useXFF: true, remote: "11.0.0.1:1", xff: []string{"10.0.0.1:1234"}, want: 200},
		{name: "xff bracketed ipv6", useXFF: true, remote: "11.0.0.1:1", xff: []string{"[2001:db8::9]"}, want: 200},
		{name: "xff none match", useXFF: true, remote: "11.0.0.1:1", xff: []string{"8.8.8.8, 9.9.9.9"}, want: 403},
		{name: "xff garbage skipped", useXFF: true, remote: "11.0.0.1:1", xff: []string{"unknown, ,10.0.0.1"}, want: 200},
		{name: "remote still counts with xff", useXFF: true, remote: "10.0.0.1:1", xff: []string{"8.8.8.8"}, want: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, err := WhiteList(route.WhiteList{SourceRange: ranges, UseXForwardedFor: tt.useXFF}, http.HandlerFunc(okHandler))
			if err != nil {
				t.Fatalf("WhiteList: %v", err)
			}
			req := httptest.NewRequest(http.MethodGet, "http://a.example.com/", nil)
			req.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("code = %d, want %d", rec.Code, tt.want)
			}
			if tt.want == http.StatusForbidden {
				if got := rec.Body.String(); got != "403 Forbidden\n" {
					t.Errorf("body = %q", got)
				}
				if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, "text/plain") {
					t.Errorf("Content-Type = %q", got)
				}
			}
		})
	}
}

func TestWhiteListConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ranges  []string
		wantErr string
	}{
		{name: "empty list", ranges: nil, wantErr: "no source range"},
		{name: "empty entry", ranges: []string{"10.0.0.0/8", ""}, wantErr: `""`},
		{name: "bad cidr", ranges: []string{"10.0.0.0/33"}, wantErr: "10.0.0.0/33"},
		{name: "hostname", ranges: []string{"example.com"}, wantErr: "example.com"},
		{name: "zone", ranges: []string{"fe80::1%eth0"}, wantErr: "zones"},
		{name: "short mapped range", ranges: []string{"::ffff:0:0/64"}, wantErr: "/96"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := WhiteList(route.WhiteList{SourceRange: tt.ranges}, http.HandlerFunc(okHandler))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestWhiteListRemoteAddrDoesNotAllocate(t *testing.T) {
	h, err := WhiteList(route.WhiteList{SourceRange: []string{"10.0.0.0/8", "2001:db8::/32"}}, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	if err != nil {
		t.Fatal(err)
	}
	for _, remote := range []string{"10.1.2.3:5555", "[2001:db8::1]:443"} {
		req := httptest.NewRequest(http.MethodGet, "http://a.example.com/", nil)
		req.RemoteAddr = remote
		w := discardWriter{h: http.Header{}}
		if n := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, req) }); n != 0 {
			t.Errorf("%s: %v allocations per request, want 0", remote, n)
		}
	}
}

func BenchmarkWhiteList(b *testing.B) {
	ranges := []string{"192.168.0.0/16", "172.16.0.0/12", "2001:db8::/32", "10.0.0.0/8"}
	for _, bc := range []struct {
		name, remote, xff string
	}{
		{name: "RemoteAddr", remote: "10.1.2.3:5555"},
		{name: "XFF", remote: "8.8.8.8:5555", xff: "1.1.1.1, 10.1.2.3"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h, err := WhiteList(route.WhiteList{SourceRange: ranges, UseXForwardedFor: true}, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			if err != nil {
				b.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodGet, "http://a.example.com/", nil)
			req.RemoteAddr = bc.remote
			if bc.xff != "" {
				req.Header.Set("X-Forwarded-For", bc.xff)
			}
			w := discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, req)
			}
		})
	}
}
