package file

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rancher-edge/edge/discovery/labels"
	"github.com/rancher-edge/edge/route"
)

const whoami = `services:
  - name: whoami
    labels:
      traefik.frontend.rule: "Host:whoami.example.com"
      traefik.port: "8080"
    servers: ["10.0.0.5", "10.0.0.6:9090", "https://10.0.0.7:8443"]
`

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	// Write beside and rename, as careful tools do, so a poll never sees
	// half a file.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		content  string
		opts     labels.Options
		wantErr  string   // substring; empty means success
		routes   []string // route names
		rules    []string
		problems []string // substrings, in order
	}{
		{name: "issue example", content: whoami, routes: []string{"whoami"}, rules: []string{"Host:whoami.example.com"}},
		{name: "default rule with file domain", content: "domain: example.org\nservices:\n  - name: Api\n    labels: {traefik.port: 80}\n    servers: [10.0.0.1]\n",
			opts: labels.Options{Domain: "example.com"}, routes: []string{"api"}, rules: []string{"Host:api.example.org"}},
		{name: "default rule with option domain", content: "services:\n  - name: api\n    labels: {traefik.port: 80}\n",
			opts: labels.Options{Domain: "example.com"}, routes: []string{"api"}, rules: []string{"Host:api.example.com"}},
		{name: "default rule without domain", content: "services:\n  - name: api\n    labels: {traefik.port: 80}\n",
			routes: []string{"api"}, rules: []string{"Host:api"}},
		{name: "unknown key names the line", content: "services:\n  - name: a\n    lables: {traefik.port: 80}\n",
			wantErr: "line 3: field lables not found"},
		{name: "unknown top-level key", content: "service: []\n", wantErr: "line 1: field service not found"},
		{name: "empty file", content: "", wantErr: "no YAML document"},
		{name: "comment only", content: "# nothing\n", wantErr: "no YAML document"},
		{name: "explicitly empty", content: "services: []\n"},
		{name: "garbage", content: "services: [\n", wantErr: "parsing"},
		{name: "two documents", content: "services: []\n---\nservices: []\n", wantErr: "more than one YAML document"},
		{name: "bad file domain", content: "domain: .bad\nservices: []\n", wantErr: "domain"},
		{name: "per-service problems keep the file", content: `services:
  - name: good
    labels: {traefik.port: 80}
  - name: badport
    labels: {traefik.port: abc}
  - name: GOOD
    labels: {traefik.port: 81}
  - labels: {traefik.port: 82}
  - name: nolabels
    servers: [10.0.0.1]
  - name: seg
    labels: {traefik.a.port: 1, traefik.b.port: 2}
  - name: seg.a
    labels: {traefik.port: 3}
`, routes: []string{"good", "seg.a", "seg.b"}, problems: []string{
			`file:badport: skipped: traefik.port "abc" is not a number`,
			"file:GOOD: skipped: service #3 has the same name as service #1",
			"service #4 has no name",
			"file:nolabels: skipped: no traefik.* labels",
			`file:seg.a: skipped: route name "seg.a" is already used by file:seg#a`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "routes.yaml")
			writeFile(t, path, tt.content)
			tt.opts.ExposedByDefault = true
			snap, err := Load(path, tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load() error = %v", err)
			}
			if snap.Provider != "file" || snap.Fingerprint == 0 || snap.Built.IsZero() {
				t.Errorf("snapshot header = %q %d %v", snap.Provider, snap.Fingerprint, snap.Built)
			}
			var names, rules []string
			for _, s := range snap.Services {
				names = append(names, s.Name)
				rules = append(rules, s.Rule)
			}
			if strings.Join(names, ",") != strings.Join(tt.routes, ",") {
				t.Errorf("routes = %q, want %q", names, tt.routes)
			}
			if tt.rules != nil && strings.Join(rules, ",") != strings.Join(tt.rules, ",") {
				t.Errorf("rules = %q, want %q", rules, tt.rules)
			}
			if len(snap.Problems) != len(tt.problems) {
				t.Fatalf("problems = %v, want %q", snap.Problems, tt.problems)
			}
			for i, want := range tt.problems {
				if got := snap.Problems[i].String(); !strings.Contains(got, want) {
					t.Errorf("problem %d = %q, want %q", i, got, want)
				}
			}
		})
	}
}

func TestLoadServers(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "routes.yaml")
	writeFile(t, path, whoami)
	snap, err := Load(path, labels.Options{ExposedByDefault: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []route.Server{
		{URL: "http://10.0.0.5:8080", Weight: 1, Name: "10.0.0.5"},
		{URL: "http://10.0.0.6:9090", Weight: 1, Name: "10.0.0.6:9090"},
		{URL: "https://10.0.0.7:8443", Weight: 1, Name: "https://10.0.0.7:8443"},
	}
	got := snap.Services[0].Servers
	if len(got) != len(want) {
		t.Fatalf("servers = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("server %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if src := snap.Services[0].Source; src != (route.Source{Provider: "file", Service: "whoami"}) {
		t.Errorf("source = %+v", src)
	}
}

func TestLoadMissing(t *testing.T) {
	t.Parallel()
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), labels.Options{})
	if err == nil || !strings.Contains(err.Error(), "reading routes file") {
		t.Fatalf("Load() error = %v", err)
	}
}

func TestLoadFingerprint(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	load := func(content string, opts labels.Options) uint64 {
		t.Helper()
		path := filepath.Join(dir, "routes.yaml")
		writeFile(t, path, content)
		snap, err := Load(path, opts)
		if err != nil {
			t.Fatal(err)
		}
		return snap.Fingerprint
	}
	base := load(whoami, labels.Options{})
	if got := load("# a comment changes nothing\n"+whoami, labels.Options{}); got != base {
		t.Error("a comment changed the fingerprint")
	}
	if got := load(strings.Replace(whoami, "8080", "8081", 1), labels.Options{}); got == base {
		t.Error("a port change kept the fingerprint")
	}
	if got := load(whoami, labels.Options{Domain: "example.com"}); got == base {
		t.Error("a domain change kept the fingerprint")
	}
}
