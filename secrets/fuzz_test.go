package secrets

import (
	"path/filepath"
	"strings"
	"testing"
)

// FuzzResolve: whatever a setting holds, resolving it does not panic, and
// a value that is not a path never shows up in an error or in the
// Value's String — secrets stay out of logs and pages.
func FuzzResolve(f *testing.F) {
	for _, seed := range []string{
		"hunter2-long-password", "/run/secrets/none", "alias_name", "-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----",
		"-----BEGIN garbage", "  spaced value  ", "relative/path.pem", "C:\\key.pem",
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	dir := f.TempDir()
	r := Resolver{Dir: filepath.Join(dir, "secrets"), Getenv: func(string) string { return "" }}
	f.Fuzz(func(t *testing.T, raw string, material bool) {
		v, err := r.Resolve("TRAEFIK_X", raw, material)
		s := strings.TrimSpace(raw)
		if len(s) < 8 || filepath.IsAbs(s) || looksLikePath(s) || isAlias(s) || strings.Contains("TRAEFIK_X", s) {
			return // a path may be named; short values collide with other text
		}
		if err != nil && strings.Contains(err.Error(), s) {
			t.Errorf("error shows the value: %v", err)
		}
		if strings.Contains(v.String(), s) {
			t.Errorf("String shows the value: %s", v)
		}
	})
}
