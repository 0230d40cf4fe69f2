package rule

import (
	"strings"
	"testing"
)

func TestClaims(t *testing.T) {
	for _, tc := range []struct{ rule, want string }{
		{"Host:a.example.com;Path:/foo,/foo/{rest:.*}", "a.example.com|Path:/foo,/foo/{rest:.*}"},
		{"Host:a.example.com,B.example.com;PathPrefix:/", "a.example.com|PathPrefix:/ b.example.com|PathPrefix:/"},
		{"HostRegexp:{subdomain:[^.]+}.example.com;Path:/x", "*.example.com|Path:/x"},
		{"HostRegexp:{subdomain:.+}.example.com;Path:/x;ReplacePath:/y", "*.example.com|Path:/x"},
		{"HostRegexp:{sub:[a-z]+}", "regexp:{sub:[a-z]+}|PathPrefix:/"},
		{"Path:/x;Method:GET", "|Path:/x;Method:GET"},
		{"Host:a.example.com", "a.example.com|PathPrefix:/"},
		// Spaces and the case of hosts do not count; the case of paths does.
		{"Host: Shop.Example.com ; Path:/A", "shop.example.com|Path:/A"},
		{"Host:a.example.com,", "a.example.com|PathPrefix:/"},
	} {
		if got := strings.Join(Claims(tc.rule), " "); got != tc.want {
			t.Errorf("Claims(%q) = %q, want %q", tc.rule, got, tc.want)
		}
	}
}

// FuzzClaims: any expression yields at least one claim, each "host|match"
// with a request match, and spelling does not count: the claims of an
// expression with its spaces removed are the same.
func FuzzClaims(f *testing.F) {
	for _, seed := range []string{"Host: Shop.Example.com ; Path:/A", "HostRegexp:{sub:[a-z]+}.a.com", "Host:,;Path", "|;:", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		got := Claims(expr)
		if len(got) == 0 {
			t.Fatalf("Claims(%q) is empty", expr)
		}
		for _, c := range got {
			if _, m, ok := strings.Cut(c, "|"); !ok || m == "" {
				t.Fatalf("Claims(%q): %q has no request match", expr, c)
			}
		}
		if again := Claims(strings.Join(strings.Fields(expr), "")); strings.Join(again, " ") != strings.Join(got, " ") {
			t.Fatalf("Claims(%q) = %q, without its spaces %q", expr, got, again)
		}
	})
}
