package middleware

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// TestCredentialsCacheExpires covers the dashboard's use: successes are
// remembered for a TTL, answered without the hash meanwhile, and checked
// again after it.
func TestCredentialsCacheExpires(t *testing.T) {
	hash, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	now := time.Unix(1_700_000_000, 0)
	c, err := NewCredentials([]string{"u:" + string(hash)}, CredentialsOptions{TTL: time.Minute, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Check("u", "pw") || c.Check("u", "nope") || c.Check("x", "pw") {
		t.Fatal("wrong verdicts")
	}
	if n := len(c.cache.seen); n != 1 {
		t.Fatalf("%d cached entries, want 1 (failures are never cached)", n)
	}
	// A cached success is answered without the hash: swap it for one
	// that matches nothing and it still passes until the entry expires.
	bad, err := parsePassword("$2a$04$invalidinvalidinvalidinvalidinvalidinvalidinvalidinva")
	if err != nil {
		t.Fatal(err)
	}
	c.users["u"] = &bad
	if !c.Check("u", "pw") {
		t.Error("cached credentials rejected")
	}
	now = now.Add(time.Minute + time.Second)
	if c.Check("u", "pw") {
		t.Error("expired cache entry still accepted")
	}
	for k := range c.cache.seen {
		if strings.Contains(string(k[:]), "pw") {
			t.Error("the cache holds the password")
		}
	}
}
