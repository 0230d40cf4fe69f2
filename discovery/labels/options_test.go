package labels

import (
	"strings"
	"testing"
)

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    Options
		wantErr []string // substrings; none means valid
	}{
		{name: "valid", opts: Options{Provider: "rancher", Domain: "example.com", Constraints: []string{"tag==api", "tag!=internal*"}}},
		{name: "no domain", opts: Options{Provider: "file"}},
		{name: "everything wrong", opts: Options{Domain: ".example.com", Constraints: []string{"tag=api", "label==x"}},
			wantErr: []string{"provider name is empty", `domain ".example.com"`, `constraint "tag=api" has no`, `only the key "tag"`}},
		{name: "domain with scheme", opts: Options{Provider: "file", Domain: "https://example.com"}, wantErr: []string{"domain"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.opts.Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want errors %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %v, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestGlobMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"api", "api", true},
		{"api", "apis", false},
		{"*", "", true},
		{"ch*se", "cheese", true},
		{"ch*se", "chose", true},
		{"ch*se", "chase!", false},
		{"*beta", "v2-beta", true},
		{"v*", "web", false},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "acb", false},
		{"a*a", "a", false},
		{"*mid*", "xxmidyy", true},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+"~"+tt.s, func(t *testing.T) {
			t.Parallel()
			if got := globMatch(tt.pattern, tt.s); got != tt.want {
				t.Errorf("globMatch(%q, %q) = %t, want %t", tt.pattern, tt.s, got, tt.want)
			}
		})
	}
}

func TestSplitLabel(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, seg, key string }{
		{"traefik.port", "", "traefik.port"},
		{"traefik.admin.port", "admin", "traefik.port"},
		{"traefik.admin.frontend.rule", "admin", "traefik.frontend.rule"},
		{"traefik.a.b.weight", "a.b", "traefik.weight"},
		{"traefik.admin.frontend.headers.SSLRedirect", "admin", "traefik.frontend.headers.SSLRedirect"},
		// Never segments: Traefik excludes these prefixes explicitly.
		{"traefik.frontend.errors.x.backend", "", "traefik.frontend.errors.x.backend"},
		{"traefik.backend.healthcheck.port", "", "traefik.backend.healthcheck.port"},
		// The documented but broken per-segment domain stays classic.
		{"traefik.admin.domain", "", "traefik.admin.domain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			seg, key := splitLabel(tt.name)
			if seg != tt.seg || key != tt.key {
				t.Errorf("splitLabel(%q) = %q, %q; want %q, %q", tt.name, seg, key, tt.seg, tt.key)
			}
		})
	}
}
