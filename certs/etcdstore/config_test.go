package etcdstore

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, raw  string
		endpoints  []string
		prefix     string
		tls        bool
		dial, req  time.Duration
		ttl        time.Duration
		wantErrSub string
	}{
		{name: "two hosts", raw: "etcd://h1:2379,h2:2379/rancher/acme", endpoints: []string{"http://h1:2379", "http://h2:2379"}, prefix: "/rancher/acme"},
		{name: "no prefix", raw: "etcd://10.0.0.5:2379", endpoints: []string{"http://10.0.0.5:2379"}},
		{name: "tls", raw: "etcds://etcd.internal:2379/p", endpoints: []string{"https://etcd.internal:2379"}, prefix: "/p", tls: true},
		{name: "timeouts", raw: "etcd://h:2379/p?dial_timeout=3s&request_timeout=7s&lock_ttl=1m", endpoints: []string{"http://h:2379"}, prefix: "/p", dial: 3 * time.Second, req: 7 * time.Second, ttl: time.Minute},
		{name: "credentials refused", raw: "etcd://root:hunter2@h:2379/p", wantErrSub: "must not carry credentials"},
		{name: "other scheme", raw: "file:///data/acme", wantErrSub: "not etcd or etcds"},
		{name: "no host", raw: "etcd:///p", wantErrSub: "names no etcd host"},
		{name: "no port", raw: "etcd://h1/p", wantErrSub: "not host:port"},
		{name: "unknown parameter", raw: "etcd://h:2379/p?ttl=3s", wantErrSub: "unknown storage URL parameter"},
		{name: "bad duration", raw: "etcd://h:2379/p?lock_ttl=soon", wantErrSub: "not a duration"},
		{name: "ttl too short", raw: "etcd://h:2379/p?lock_ttl=10ms", wantErrSub: "at least 1s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := ParseURL(tc.raw)
			if tc.wantErrSub != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErrSub) {
					t.Fatalf("ParseURL(%q) error = %v, want one containing %q", tc.raw, err, tc.wantErrSub)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error leaks the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseURL(%q): %v", tc.raw, err)
			}
			if !slices.Equal(c.Endpoints, tc.endpoints) || c.Prefix != tc.prefix || (c.TLS != nil) != tc.tls ||
				c.DialTimeout != tc.dial || c.RequestTimeout != tc.req || c.LockTTL != tc.ttl {
				t.Errorf("ParseURL(%q) = %v (timeouts %v/%v, ttl %v)", tc.raw, c, c.DialTimeout, c.RequestTimeout, c.LockTTL)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	bad := Config{
		Endpoints:   []string{"http://user:hunter2@h:2379", "h1", "ftp://h:1"},
		Prefix:      "//x",
		Username:    "edge",
		DialTimeout: -time.Second,
		LockTTL:     500 * time.Millisecond,
	}
	err := bad.Validate()
	if err == nil {
		t.Fatal("Validate accepted a bad config")
	}
	msg := err.Error()
	for _, want := range []string{"http(s)://host:port", `"h1" is not host:port`, `"ftp://h:1"`, "prefix", "both a username and a password", "negative", "at least 1s"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Validate error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "hunter2") {
		t.Errorf("Validate error leaks a password:\n%s", msg)
	}
	if err := (Config{}).Validate(); err == nil || !strings.Contains(err.Error(), "no etcd endpoints") {
		t.Errorf("empty config: %v", err)
	}
	good := Config{Endpoints: []string{"h1:2379", "https://h2:2379"}, Username: "edge", Password: "hunter2"}
	if err := good.Validate(); err != nil {
		t.Errorf("Validate(good) = %v", err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(verb, good); strings.Contains(s, "hunter2") {
			t.Errorf("%s of a Config leaks the password: %s", verb, s)
		}
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c := Config{Endpoints: []string{"h:2379"}, Prefix: "edge/acme/"}.withDefaults(func() (string, error) { return "host-7", nil })
	if c.Prefix != "/edge/acme" || c.Replica != "host-7" || c.DialTimeout != DefaultDialTimeout ||
		c.RequestTimeout != DefaultRequestTimeout || c.LockTTL != DefaultLockTTL || c.StatusInterval != DefaultStatusInterval || c.Logger == nil {
		t.Errorf("withDefaults = %+v", c)
	}
	if c := (Config{}).withDefaults(func() (string, error) { return "", fmt.Errorf("no") }); c.Prefix != DefaultPrefix || c.Replica != "unknown" {
		t.Errorf("withDefaults(zero) prefix %q replica %q", c.Prefix, c.Replica)
	}
}
