package kubestore

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

// TestObjectNames: every key, however long or odd, gives a valid Secret
// and Lease name; keys that differ only in what the readable part drops
// get different names.
func TestObjectNames(t *testing.T) {
	keys := []string{
		"certificates/acme-v02.api.letsencrypt.org-directory/example.com/example.com.crt",
		"certificates/acme-v02.api.letsencrypt.org-directory/*.example.com/wildcard_.example.com.key",
		"acme/ca/users/OPS@Example.com/ops.json",
		"ocsp/example.com-9f8e7d",
		"a", "A", "-a-", ".a.", "a..b", "a.-b", "a-.b", "__", "", "/", "日本語.example",
		strings.Repeat("x/", 400),
		strings.Repeat("-.", 300),
	}
	seen := map[string]string{}
	for _, k := range keys {
		for _, name := range []string{secretName(k), leaseName(k)} {
			if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
				t.Errorf("name of %q = %q: %v", k, name, msgs)
			}
		}
		n := secretName(k)
		if prev, ok := seen[n]; ok {
			t.Errorf("%q and %q share the name %q", prev, k, n)
		}
		seen[n] = k
	}
	if got := secretName("certificates/ca/a.test/a.test.crt"); !strings.HasPrefix(got, "acme-certificates-ca-a.test-a.test.crt-") {
		t.Errorf("secretName = %q, want its key readable in it", got)
	}
}

func FuzzObjectName(f *testing.F) {
	f.Add("certificates/ca/example.com/example.com.crt")
	f.Add("-.-")
	f.Fuzz(func(t *testing.T, key string) {
		if msgs := validation.IsDNS1123Subdomain(secretName(key)); len(msgs) > 0 {
			t.Fatalf("name of %q = %q: %v", key, secretName(key), msgs)
		}
	})
}

// TestParseURL: the TRAEFIK_ACME_STORAGE forms.
func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		raw, own, ns string
		wantErr      string
	}{
		{raw: "kubernetes", own: "edge", ns: "edge"},
		{raw: " kubernetes://certs ", own: "edge", ns: "certs"},
		{raw: "kubernetes://certs/", ns: "certs"},
		{raw: "kubernetes?lock_ttl=10s", own: "edge", ns: "edge"},
		{raw: "kubernetes", wantErr: "no namespace"},
		{raw: "kubernetes://Certs", wantErr: "namespace \"Certs\""},
		{raw: "kubernetes://certs/prefix", wantErr: "nothing after the namespace"},
		{raw: "kubernetes://certs?lock_ttl=soon", wantErr: "not a duration"},
		{raw: "kubernetes://certs?ttl=1s", wantErr: "unknown storage URL parameter"},
		{raw: "kubernetes://certs?lock_ttl=100ms", wantErr: "at least 1s"},
	} {
		c, err := ParseURL(tc.raw, tc.own)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseURL(%q) = %v, want an error with %q", tc.raw, err, tc.wantErr)
			}
		case err != nil || c.Namespace != tc.ns:
			t.Errorf("ParseURL(%q) = %q, %v; want namespace %q", tc.raw, c.Namespace, err, tc.ns)
		}
	}
	if c, _ := ParseURL("kubernetes://certs?lock_ttl=12s&request_timeout=3s", ""); c.LockTTL.Seconds() != 12 || c.RequestTimeout.Seconds() != 3 {
		t.Errorf("durations = %v, %v", c.LockTTL, c.RequestTimeout)
	}
	for _, s := range []string{"kubernetes", "kubernetes://x", "kubernetes?lock_ttl=1s"} {
		if !IsURL(s) {
			t.Errorf("IsURL(%q) = false", s)
		}
	}
	for _, s := range []string{"/data/acme", "etcd://x:2379", "kubernetesx"} {
		if IsURL(s) {
			t.Errorf("IsURL(%q) = true", s)
		}
	}
}
