package h1wire

import (
	"net/http"
	"slices"
	"testing"
)

func TestHopByHop(t *testing.T) {
	for _, c := range []struct {
		name     string
		hop, h2c bool
	}{
		{"Connection", true, true},
		{"connection", true, true},
		{"KEEP-ALIVE", true, true},
		{"Proxy-Connection", true, true},
		{"Transfer-Encoding", true, true},
		{"upgrade", true, true},
		{"te", true, false},
		{"Trailer", true, false},
		{"Proxy-Authorization", true, false},
		{"proxy-authenticate", true, false},
		{"Content-Length", false, false},
		{"Host", false, false},
		{"X-Forwarded-For", false, false},
		{"Tea", false, false},
		{"", false, false},
	} {
		if got := IsHopByHop(c.name); got != c.hop {
			t.Errorf("IsHopByHop(%q) = %v", c.name, got)
		}
		if got := IsHopByHop([]byte(c.name)); got != c.hop {
			t.Errorf("IsHopByHop([]byte(%q)) = %v", c.name, got)
		}
		if got := IsConnectionSpecific(c.name); got != c.h2c {
			t.Errorf("IsConnectionSpecific(%q) = %v", c.name, got)
		}
	}
	for _, n := range HopByHop() {
		if n != http.CanonicalHeaderKey(n) {
			t.Errorf("%q is not canonical", n)
		}
	}
	if !slices.IsSorted(HopByHop()) {
		t.Error("the list is not sorted")
	}
}
