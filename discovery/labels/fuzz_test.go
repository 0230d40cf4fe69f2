package labels

import (
	"strings"
	"testing"

	"github.com/rancher-edge/edge/route"
	"github.com/rancher-edge/edge/route/rule"
)

// FuzzBuild compiles arbitrary labels ("key=value" lines): Build never
// panics, and every service it returns is one the edge can serve — its
// rule parses, its servers are http(s) URLs, its weights fit the
// balancer — while everything else is a problem on the service.
func FuzzBuild(f *testing.F) {
	for _, seed := range []string{
		"traefik.port=8080",
		"traefik.port=8080\ntraefik.frontend.rule=Host:a.example.com;PathPrefixStrip:/api",
		"traefik.port=80\ntraefik.api.port=81\ntraefik.api.frontend.rule=Path:/x\ntraefik.weight=4294967296",
		"traefik.enable=false\ntraefik.port=1",
		"traefik.port=8080\ntraefik.frontend.auth.basic.users=u:{SHA}x\ntraefik.frontend.whiteList.sourceRange=10.0.0.0/8,::1",
		"traefik.port=8080\ntraefik.frontend.headers.customRequestHeaders=A:b||C:d\ntraefik.backend.healthcheck.path=/h",
		"traefik.port=8080\ntraefik.backend.circuitbreaker.expression=NetworkErrorRatio() > 0.5\ntraefik.backend.responseHeaderTimeout=2",
		"traefik.port=x\ntraefik.frontend.rule=Host:{a:[}",
	} {
		f.Add(seed, "10.0.0.5")
	}
	f.Fuzz(func(t *testing.T, text, addr string) {
		labels := map[string]string{}
		for _, line := range strings.Split(text, "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				labels[k] = v
			}
		}
		in := Input{Stack: "shop", Service: "web", Labels: labels, Servers: []Address{{Addr: addr, Name: "c1"}}}
		svcs, problems := Build(in, Options{Provider: "rancher", ExposedByDefault: true, Domain: "example.com"})
		for _, s := range svcs {
			if _, err := rule.Parse(s.Rule); err != nil {
				t.Errorf("service %s served with a rule that does not parse: %q: %v", s.Name, s.Rule, err)
			}
			for _, srv := range s.Servers {
				if !strings.HasPrefix(srv.URL, "http://") && !strings.HasPrefix(srv.URL, "https://") {
					t.Errorf("server URL %q", srv.URL)
				}
				if srv.Weight < 0 {
					t.Errorf("negative weight %d", srv.Weight)
				}
			}
		}
		for _, p := range problems {
			if p.Severity != route.Error && p.Severity != route.Warning || p.Message == "" {
				t.Errorf("problem %+v", p)
			}
		}
	})
}

// FuzzServerURL checks that an address serverURL takes as it is comes out
// of the full parse unchanged.
func FuzzServerURL(f *testing.F) {
	for _, seed := range []string{
		"http://10.0.0.1:8080", "https://[::1]:443", "h2c://10.1.2.3:1", "http://010.0.0.1:80",
		"http://[::FFFF:10.0.0.1]:80", "HTTP://10.0.0.1:80", "http://10.0.0.1:080", "http://[fe80::1%eth0]:80",
		"http://10.0.0.1:65536", "10.0.0.1", "http://10.0.0.1:80/", "http://u@10.0.0.1:80",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		addr = strings.TrimSpace(addr)
		if !canonicalIPURL(addr) {
			return
		}
		got, err := parseServerURL(addr, "http", 80)
		if err != nil || got != addr {
			t.Fatalf("%q taken as it is, but parsed it is %q, %v", addr, got, err)
		}
	})
}
