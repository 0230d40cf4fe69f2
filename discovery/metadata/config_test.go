package metadata

import (
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, prefix := range []string{"", "latest", "/latest", "2015-12-19", "/2016-07-29", "2016-07-29/"} {
		if err := (Config{Prefix: prefix}).Validate(); err != nil {
			t.Errorf("prefix %q: %v", prefix, err)
		}
	}
	err := Config{
		URL: "ftp://u:p@metadata/latest", Prefix: "/2015-07-25", RuleOrder: "stack-service",
		Refresh: -1, Constraints: []string{"label==x"},
	}.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"scheme", "2015-07-25 lists only the names", "rule order", "refresh", "constraint"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%s", want, err)
		}
	}
	for url, want := range map[string]string{
		"http://u:p@metadata":     "credentials",
		"http://metadata/latest":  "give the version as the prefix",
		"http://metadata?x=1":     "query",
		"http:///":                "no host",
		"http://metadata/":        "",
		"https://169.254.169.250": "",
	} {
		err := Config{URL: url}.Validate()
		if (err == nil) != (want == "") || err != nil && !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", url, err, want)
		}
	}
	if err := (Config{Prefix: "2017-01-01"}).Validate(); err == nil || !strings.Contains(err.Error(), "none of 2015-12-19, 2016-07-29, latest") {
		t.Errorf("unknown prefix: %v", err)
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c := Config{Prefix: "/2016-07-29"}.withDefaults()
	if c.URL != DefaultURL || c.Prefix != "2016-07-29" || c.Refresh != 15*time.Second || c.maxWait() != 15*time.Second {
		t.Errorf("%+v", c)
	}
	if cl := newClient(c); cl.http.Timeout != 25*time.Second || cl.base != DefaultURL+"/2016-07-29" {
		t.Errorf("client timeout %v base %s: the timeout must exceed maxWait", cl.http.Timeout, cl.base)
	}
	for refresh, want := range map[time.Duration]time.Duration{500 * time.Millisecond: time.Second, 1500 * time.Millisecond: 2 * time.Second} {
		if got := (Config{Refresh: refresh}).maxWait(); got != want {
			t.Errorf("refresh %v: maxWait %v, want %v (whole seconds, never 0, which the server reads as 60 s)", refresh, got, want)
		}
	}
	c = Config{Refresh: 10 * time.Minute}.withDefaults()
	if c.maxWait() != 2*time.Minute || newClient(c).http.Timeout != 130*time.Second {
		t.Errorf("maxWait %v is not capped at the server's 120 s", c.maxWait())
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	p, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for n := 1; n <= 9; n++ {
		got = append(got, p.backoff(n).String())
	}
	if want := "250ms 500ms 1s 2s 4s 8s 16s 30s 30s"; strings.Join(got, " ") != want {
		t.Errorf("backoff %v, want %s", got, want)
	}
}
