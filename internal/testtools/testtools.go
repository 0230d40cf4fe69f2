// Package testtools finds the real servers that `make tools` builds once per
// machine (tools/build.sh), for tests that run against them.
package testtools

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir is where tools/build.sh puts its builds: $EDGE_TOOLS_DIR, else
// $XDG_CACHE_HOME/rancher-edge/tools, else ~/.cache/rancher-edge/tools.
func Dir() string {
	if d := os.Getenv("EDGE_TOOLS_DIR"); d != "" {
		return d
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "rancher-edge", "tools")
}

// Path returns the path of binary bin of tool name as built from the
// wrapper module in tools/name, or an error saying how to build it.
func Path(name, bin string) (string, error) {
	_, here, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("testtools: cannot locate the source tree")
	}
	src := filepath.Join(filepath.Dir(here), "..", "..", "tools", name)
	h := sha256.New()
	for _, f := range []string{"go.mod", "go.sum", "build.conf"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		h.Write(b)
	}
	key := hex.EncodeToString(h.Sum(nil))[:16]
	p := filepath.Join(Dir(), name+"-"+key, bin)
	if _, err := os.Stat(p); err != nil {
		return "", errors.New("testtools: " + name + " is not built for this source tree: run `make tools` (or `bash tools/build.sh " + name + "`)")
	}
	return p, nil
}

// Binary is Path for tests: a missing binary fails the test, never skips it.
func Binary(t testing.TB, name, bin string) string {
	t.Helper()
	p, err := Path(name, bin)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
