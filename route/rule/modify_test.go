package rule

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
)

func TestModify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		rule       string
		url        string // path and query; host is irrelevant
		wantOK     bool
		wantPath   string
		wantRaw    string // URL.RawPath after Modify
		wantURI    string // RequestURI; wantPath when empty
		wantPrefix []string
		wantRepl   []string
	}{
		{name: "no modifiers", rule: "PathPrefix:/api", url: "/api/x?q=1",
			wantOK: true, wantPath: "/api/x", wantURI: "/api/x?q=1"},

		// Literal strips.
		{name: "prefixstrip longest", rule: "PathPrefixStrip:/api,/api/v1", url: "/api/v1/users",
			wantOK: true, wantPath: "/users", wantPrefix: []string{"/api/v1"}},
		{name: "prefixstrip shorter", rule: "PathPrefixStrip:/api,/api/v1", url: "/api/v2/users",
			wantOK: true, wantPath: "/v2/users", wantPrefix: []string{"/api"}},
		{name: "prefixstrip to root", rule: "PathPrefixStrip:/api", url: "/api",
			wantOK: true, wantPath: "/", wantPrefix: []string{"/api"}},
		{name: "prefixstrip leading slash", rule: "PathPrefixStrip:/api", url: "/apis?x=1",
			wantOK: true, wantPath: "/s", wantURI: "/s?x=1", wantPrefix: []string{"/api"}},
		{name: "prefixstrip trailing slash kept", rule: "PathPrefixStrip:/api/", url: "/api/x",
			wantOK: true, wantPath: "/x", wantPrefix: []string{"/api/"}},
		{name: "prefixstrip no match 404", rule: "PathPrefixStrip:/api", url: "/other",
			wantOK: false},
		{name: "pathstrip", rule: "PathStrip:/a", url: "/a",
			wantOK: true, wantPath: "/", wantPrefix: []string{"/a"}},
		{name: "pathstrip longest", rule: "PathStrip:/a,/a/b", url: "/a/b",
			wantOK: true, wantPath: "/", wantPrefix: []string{"/a/b"}},
		{name: "last strip wins", rule: "PathStrip:/b;PathPrefixStrip:/b/c", url: "/b/c/d",
			wantOK: true, wantPath: "/d", wantPrefix: []string{"/b/c"}},
		{name: "last strip wins reversed", rule: "PathPrefixStrip:/b/c;PathStrip:/b", url: "/b/c/d",
			wantOK: true, wantPath: "/c/d", wantPrefix: []string{"/b"}},

		// Regexp strips.
		{name: "pathstripregex", rule: "PathStripRegex:/a/{id:[0-9]+}", url: "/a/12",
			wantOK: true, wantPath: "/", wantPrefix: []string{"/a/12"}},
		{name: "prefixstripregex", rule: "PathPrefixStripRegex:/a/{id:[0-9]+}", url: "/a/12/x",
			wantOK: true, wantPath: "/x", wantPrefix: []string{"/a/12"}},
		{name: "prefixstripregex longest template", rule: "PathPrefixStripRegex:/a/{id:[0-9]+},/a/{id:[0-9]+}/b", url: "/a/1/b/c",
			wantOK: true, wantPath: "/c", wantPrefix: []string{"/a/1/b"}},
		{name: "prefixstripregex no match 404", rule: "PathPrefixStripRegex:/a/{id:[0-9]+}", url: "/b",
			wantOK: false},

		// AddPrefix, ReplacePath, ReplacePathRegex.
		{name: "addprefix", rule: "AddPrefix:/p", url: "/x?q=1",
			wantOK: true, wantPath: "/p/x", wantURI: "/p/x?q=1"},
		{name: "addprefix last wins", rule: "AddPrefix:/p,/q", url: "/x",
			wantOK: true, wantPath: "/q/x"},
		{name: "replacepath", rule: "ReplacePath:/new", url: "/old?x=1",
			wantOK: true, wantPath: "/new", wantURI: "/new?x=1", wantRepl: []string{"/old"}},
		{name: "replacepathregex", rule: "ReplacePathRegex:^/api/v2/(.*) /api/$1", url: "/api/v2/users",
			wantOK: true, wantPath: "/api/users", wantRepl: []string{"/api/v2/users"}},
		{name: "replacepathregex no match", rule: "ReplacePathRegex:^/api/v2/(.*) /api/$1", url: "/other",
			wantOK: true, wantPath: "/other"},
		{name: "replacepathregex all occurrences", rule: "ReplacePathRegex:a b", url: "/aXa",
			wantOK: true, wantPath: "/bXb", wantRepl: []string{"/aXa"}},

		// Traefik 1.7's real order: regexp strip, strip, add, replace regexp, replace.
		{name: "order strips then add", rule: "AddPrefix:/p;PathPrefixStrip:/s;PathPrefixStripRegex:/{v:v[0-9]}", url: "/v1/s/x",
			wantOK: true, wantPath: "/p/x", wantPrefix: []string{"/v1", "/s"}},
		{name: "order everything", rule: "ReplacePath:/r;AddPrefix:/p;PathPrefixStrip:/s;PathPrefixStripRegex:/{v:v[0-9]}", url: "/v1/s/x",
			wantOK: true, wantPath: "/r", wantPrefix: []string{"/v1", "/s"}, wantRepl: []string{"/p/x"}},
		{name: "order add before replace regexp", rule: "ReplacePathRegex:^/p/(.*) /q/$1;AddPrefix:/p", url: "/x",
			wantOK: true, wantPath: "/q/x", wantRepl: []string{"/p/x"}},
		{name: "order replace regexp before replace", rule: "ReplacePath:/final;ReplacePathRegex:^/(.*) /re/$1", url: "/x",
			wantOK: true, wantPath: "/final", wantRepl: []string{"/x", "/re/x"}},
		{name: "order regexp strip breaks literal strip", rule: "PathPrefixStripRegex:/a/{id};PathPrefixStrip:/a", url: "/a/1/b",
			wantOK: false},

		// RawPath stays consistent with Path.
		{name: "strip keeps encoded slash", rule: "PathPrefixStrip:/api", url: "/api/a%2Fb",
			wantOK: true, wantPath: "/a/b", wantRaw: "/a%2Fb", wantURI: "/a%2Fb", wantPrefix: []string{"/api"}},
		{name: "strip escaped prefix", rule: "PathPrefixStrip:/my api", url: "/my%20api/a%2Fb",
			wantOK: true, wantPath: "/a/b", wantRaw: "/a%2Fb", wantURI: "/a%2Fb", wantPrefix: []string{"/my api"}},
		{name: "regexp strip keeps encoded slash", rule: "PathPrefixStripRegex:/{v:v[0-9]}", url: "/v1/a%2Fb",
			wantOK: true, wantPath: "/a/b", wantRaw: "/a%2Fb", wantURI: "/a%2Fb", wantPrefix: []string{"/v1"}},
		{name: "addprefix keeps encoded slash", rule: "AddPrefix:/p q", url: "/a%2Fb",
			wantOK: true, wantPath: "/p q/a/b", wantRaw: "/p%20q/a%2Fb", wantURI: "/p%20q/a%2Fb"},
		{name: "replacepath clears raw", rule: "ReplacePath:/new", url: "/a%2Fb",
			wantOK: true, wantPath: "/new", wantRepl: []string{"/a/b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := newRequest(http.MethodGet, "http://h"+tt.url)
			r := mustParse(t, tt.rule)
			if got := r.Modify(req); got != tt.wantOK {
				t.Fatalf("Parse(%q).Modify(%s) = %v, want %v", tt.rule, tt.url, got, tt.wantOK)
			}
			if !tt.wantOK {
				return
			}
			if req.URL.Path != tt.wantPath || req.URL.RawPath != tt.wantRaw {
				t.Errorf("Modify(%s): Path, RawPath = %q, %q; want %q, %q",
					tt.url, req.URL.Path, req.URL.RawPath, tt.wantPath, tt.wantRaw)
			}
			wantURI := tt.wantURI
			if wantURI == "" {
				wantURI = tt.wantPath
			}
			if req.RequestURI != wantURI {
				t.Errorf("Modify(%s): RequestURI = %q, want %q", tt.url, req.RequestURI, wantURI)
			}
			if got := req.Header.Values("X-Forwarded-Prefix"); !slices.Equal(got, tt.wantPrefix) {
				t.Errorf("Modify(%s): X-Forwarded-Prefix = %q, want %q", tt.url, got, tt.wantPrefix)
			}
			if got := req.Header.Values("X-Replaced-Path"); !slices.Equal(got, tt.wantRepl) {
				t.Errorf("Modify(%s): X-Replaced-Path = %q, want %q", tt.url, got, tt.wantRepl)
			}
		})
	}
}

// A request built by hand rather than by net/http may have no Header map
// and no RequestURI; Modify must cope with both.
func TestModifyBareRequest(t *testing.T) {
	t.Parallel()
	req := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/api/x"}}
	if !mustParse(t, "PathPrefixStrip:/api;ReplacePath:/y").Modify(req) {
		t.Fatal("Modify = false, want true")
	}
	if req.URL.Path != "/y" || req.RequestURI != "" {
		t.Errorf("Path, RequestURI = %q, %q; want %q, %q", req.URL.Path, req.RequestURI, "/y", "")
	}
	if got := req.Header.Get("X-Forwarded-Prefix"); got != "/api" {
		t.Errorf("X-Forwarded-Prefix = %q, want %q", got, "/api")
	}
}

func TestRawIndex(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw    string
		n      int
		want   int
		wantOK bool
	}{
		{raw: "/a%2Fb", n: 2, want: 2, wantOK: true},
		{raw: "/a%2Fb", n: 3, want: 5, wantOK: true},
		{raw: "/a%2", n: 4, want: 4, wantOK: true},
		{raw: "/a", n: 3, want: 2, wantOK: false},
	}
	for _, tt := range tests {
		got, ok := rawIndex(tt.raw, tt.n)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("rawIndex(%q, %d) = %d, %v; want %d, %v", tt.raw, tt.n, got, ok, tt.want, tt.wantOK)
		}
	}
}
