package rancher

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/rancher-edge/edge/discovery/cattle"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	ok := Config{Endpoint: "http://rancher:8080", AccessKey: "AK", SecretKey: "SK-very-secret"}
	for _, ep := range []string{"http://rancher:8080", "http://rancher:8080/", "https://r.example.com/v1", "http://rancher:8080/v2-beta",
		"http://rancher:8080/v2-beta/projects/1a5", "http://rancher:8080/v2-beta/projects/1a5/", "http://rancher:8080/v1/projects/1a5/schemas"} {
		c := ok
		c.Endpoint = ep
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", ep, err)
		}
	}
	bad := Config{
		Endpoint:    "ftp://AK:SK-very-secret@rancher/api",
		RuleOrder:   "stack-service",
		Refresh:     -1,
		Constraints: []string{"label==x"},
		KeySource:   "CATTLE_ACCESS_KEY",
	}
	err := bad.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{"scheme", "credentials", "path", "access key is empty (from CATTLE_ACCESS_KEY)", "secret key is empty",
		"rule order", "refresh", "constraint"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "SK-very-secret") {
		t.Errorf("error leaks the secret:\n%s", msg)
	}
	if _, err := New(bad); err == nil {
		t.Error("New accepted a bad config")
	}
}

func TestEndpointForClient(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][2]string{
		"http://h:8080":                              {"http://h:8080", ""},
		"http://h:8080/v1":                           {"http://h:8080/v1", ""},
		"http://h:8080/v2-beta":                      {"http://h:8080/v2-beta", ""},
		"http://h:8080/v2-beta/projects/1a5":         {"http://h:8080/v2-beta/projects/1a5/schemas", "1a5"},
		"http://h:8080/v1/projects/1a7/":             {"http://h:8080/v2-beta/projects/1a7/schemas", "1a7"},
		"http://h:8080/v2-beta/projects/1a5/schemas": {"http://h:8080/v2-beta/projects/1a5/schemas", "1a5"},
	} {
		url, project := endpointForClient(in)
		if url != want[0] || project != want[1] {
			t.Errorf("%s: got %s %q, want %s %q", in, url, project, want[0], want[1])
		}
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	p, err := New(Config{Endpoint: "http://h", AccessKey: "a", SecretKey: "s"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for n := 1; n <= 6; n++ {
		got = append(got, p.backoff(n).String())
	}
	if want := "1s 2s 4s 8s 15s 15s"; strings.Join(got, " ") != want {
		t.Errorf("backoff %v, want %s", got, want)
	}
}

// TestFailedReadWording: "keeping the last routes" only when there are
// routes to keep.
func TestFailedReadWording(t *testing.T) {
	var logs bytes.Buffer
	p, err := New(Config{Endpoint: "http://h", AccessKey: "a", SecretKey: "s", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	p.failed(errors.New("connection refused"), time.Second)
	if got := logs.String(); strings.Contains(got, "keeping the last routes") || !strings.Contains(got, "no routes from Rancher yet") {
		t.Errorf("before any read:\n%s", got)
	}
	p.succeeded(cattle.Counts{Stacks: 1, Services: 1, Containers: 1}, nil, 3)
	logs.Reset()
	p.failed(errors.New("connection refused"), time.Second)
	if got := logs.String(); !strings.Contains(got, "keeping the last routes") {
		t.Errorf("after a read with routes:\n%s", got)
	}
}
