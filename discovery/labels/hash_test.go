package labels

import (
	"fmt"
	"hash/fnv"
	"strings"
	"testing"

	"github.com/rancher-edge/edge/route"
)

func sum(in Input) uint64 {
	h := fnv.New64a()
	Hash(h, in)
	return h.Sum64()
}

func TestHash(t *testing.T) {
	t.Parallel()
	base := Input{Stack: "shop", Service: "web", DefaultHost: "web.shop",
		Labels:  map[string]string{"traefik.port": "80", "traefik.enable": "true", "a": "b"},
		Servers: []Address{{Addr: "10.0.0.1", Name: "c1"}}}
	// Long values and many labels hash the same whole or split.
	long := func(last string) Input {
		in := base
		in.Labels = map[string]string{"a": strings.Repeat("b", 3000) + last}
		for i := range 40 {
			in.Labels[fmt.Sprintf("traefik.l%02d", i)] = strings.Repeat("v", 100)
		}
		return in
	}
	if sum(long("x")) != sum(long("x")) || sum(long("x")) == sum(long("y")) {
		t.Error("a change at the end of a long value went unseen, or equal inputs differ")
	}
	// Go randomises map order; equal maps must hash equally every time.
	for range 20 {
		same := base
		same.Labels = map[string]string{"a": "b", "traefik.enable": "true", "traefik.port": "80"}
		if sum(same) != sum(base) {
			t.Fatal("equal inputs hash differently")
		}
	}
	changes := map[string]func(*Input){
		"label value": func(in *Input) {
			in.Labels = map[string]string{"traefik.port": "81", "traefik.enable": "true", "a": "b"}
		},
		"label moved": func(in *Input) {
			in.Labels = map[string]string{"traefik.port": "80", "traefik.enable": "true", "ab": ""}
		},
		"server added":  func(in *Input) { in.Servers = append(in.Servers, Address{Addr: "10.0.0.2"}) },
		"server name":   func(in *Input) { in.Servers = []Address{{Addr: "10.0.0.1", Name: "c2"}} },
		"stack":         func(in *Input) { in.Stack = "shop2" },
		"default host":  func(in *Input) { in.DefaultHost = "shop.web" },
		"field shifted": func(in *Input) { in.Stack, in.Service = "shopw", "eb" },
		// Longer than Hash's buffer, and more labels than its key array.
		"long value": func(in *Input) {
			in.Labels = map[string]string{"traefik.port": "80", "traefik.enable": "true", "a": strings.Repeat("b", 3000)}
		},
		"many labels": func(in *Input) {
			in.Labels = map[string]string{}
			for i := range 40 {
				in.Labels[fmt.Sprintf("traefik.l%02d", i)] = "v"
			}
		},
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in := base
			change(&in)
			if sum(in) == sum(base) {
				t.Errorf("hash unchanged after %s", name)
			}
		})
	}
}

func TestDedupe(t *testing.T) {
	t.Parallel()
	in := []route.Service{
		{Name: "a.b", Source: route.Source{Provider: "file", Service: "a.b"}},
		{Name: "a", Source: route.Source{Provider: "file", Service: "a"}},
		{Name: "a.b", Source: route.Source{Provider: "file", Service: "a", Segment: "b"}},
	}
	got, problems := Dedupe(in)
	if len(got) != 2 || got[0].Name != "a.b" || got[1].Name != "a" {
		t.Fatalf("Dedupe kept %+v", got)
	}
	if len(problems) != 1 || problems[0].Severity != route.Error || problems[0].Source.Segment != "b" ||
		!strings.Contains(problems[0].Message, `"a.b" is already used by file:a.b`) {
		t.Fatalf("Dedupe problems = %v", problems)
	}
	if in[1].Name != "a" {
		t.Fatal("Dedupe modified its input")
	}
}

// TestProblemsHoldNoSecrets checks that credentials and header values never
// reach a problem message, which the dashboard and logs show.
func TestProblemsHoldNoSecrets(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-token"
	labels := map[string]string{
		"traefik.port":                                  "80",
		"traefik.frontend.auth.basic.users":             "bob:" + secret + ",broken" + secret,
		"traefik.frontend.auth.basic":                   "alice:" + secret,
		"traefik.frontend.headers.customRequestHeaders": "Authorization:" + secret + "||" + secret,
		"traefik.backend.healthcheck.headers":           secret,
		"traefik.backend.healthcheck.path":              "/h",
		"traefik.frontend.auth.forward.tls.key":         secret,
	}
	_, problems := Build(Input{Service: "s", Labels: labels}, Options{Provider: "file", ExposedByDefault: true})
	if len(problems) == 0 {
		t.Fatal("expected problems")
	}
	for _, p := range problems {
		if strings.Contains(p.String(), secret) {
			t.Errorf("problem leaks a secret: %s", p)
		}
	}
}

func BenchmarkBuild(b *testing.B) {
	in := Input{
		Stack: "shop", Service: "web", DefaultHost: "web.shop",
		Labels: map[string]string{
			"traefik.enable":                          "true",
			"traefik.port":                            "8080",
			"traefik.frontend.rule":                   "Host:web.example.com;PathPrefix:/api",
			"traefik.frontend.entryPoints":            "http,https",
			"traefik.frontend.passHostHeader":         "true",
			"traefik.frontend.priority":               "10",
			"traefik.backend.loadbalancer.stickiness": "true",
			"traefik.backend.healthcheck.path":        "/health",
			"traefik.backend.healthcheck.interval":    "10s",
			"traefik.frontend.headers.STSSeconds":     "31536000",
			"io.rancher.stack_service.name":           "shop/web",
		},
		Servers: []Address{{Addr: "10.42.0.1", Name: "web-1"}, {Addr: "10.42.0.2", Name: "web-2"}, {Addr: "10.42.0.3", Name: "web-3"}},
	}
	opts := Options{Provider: "rancher", Domain: "example.com", ExposedByDefault: true}
	b.ReportAllocs()
	for b.Loop() {
		svcs, _ := Build(in, opts)
		if len(svcs) != 1 {
			b.Fatal("no route")
		}
	}
}
