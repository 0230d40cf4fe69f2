package rancher

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rancher-edge/edge/route"
)

// env builds raw reads for table tests: stacks web (1st5), Shop (1st6)
// and the system stack healthcheck (1st1).
func env(services []rawService, containers ...rawContainer) raw {
	return raw{
		Stacks: []rawStack{
			{ID: "1st1", Name: "healthcheck", State: "active", System: true},
			{ID: "1st5", Name: "web", State: "active"},
			{ID: "1st6", Name: "Shop", State: "active"},
		},
		Services:   services,
		Containers: containers,
	}
}

func svc(id, stack, name string, kv ...string) rawService {
	s := rawService{ID: id, StackID: stack, Name: name, Kind: "service", State: "active", Health: "healthy", Labels: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		s.Labels[kv[i]] = kv[i+1]
	}
	return s
}

func ctr(name, stackService, ip, state, health string) rawContainer {
	return rawContainer{ID: "1i" + name, Name: name, StackService: stackService, IP: ip, State: state, Health: health, NetworkMode: "managed"}
}

func defaults() Config {
	return Config{Endpoint: "http://rancher:8080", AccessKey: "a", SecretKey: "s", ExposedByDefault: true}.withDefaults()
}

// routes renders a snapshot as "name rule servers" lines.
func routes(s route.Snapshot) string {
	var lines []string
	for _, r := range s.Services {
		var urls []string
		for _, sv := range r.Servers {
			urls = append(urls, sv.URL)
		}
		lines = append(lines, fmt.Sprintf("%s %s [%s]", r.Name, r.Rule, strings.Join(urls, " ")))
	}
	return strings.Join(lines, "\n")
}

func problems(ps []route.Problem) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return strings.Join(out, "\n")
}

func TestBuild(t *testing.T) {
	t.Parallel()
	port := []string{"traefik.port", "80"}
	tests := []struct {
		name         string
		cfg          func(*Config)
		raw          raw
		want         string
		wantProblems []string // substrings, one per problem, in order
	}{{
		name: "container filter keeps healthy and running only",
		raw: env([]rawService{svc("1s5", "1st5", "whoami", port...)},
			ctr("a", "web/whoami", "10.0.0.1", "running", "healthy"),
			ctr("b", "web/whoami", "10.0.0.2", "running", ""),
			ctr("c", "web/whoami", "10.0.0.3", "updating-running", "updating-healthy"),
			ctr("d", "web/whoami", "10.0.0.4", "upgraded", "healthy"),
			ctr("e", "web/whoami", "10.0.0.5", "running", "unhealthy"),
			ctr("f", "web/whoami", "10.0.0.6", "running", "initializing"),
			ctr("g", "web/whoami", "10.0.0.7", "stopped", ""),
			ctr("h", "web/whoami", "10.0.0.8", "starting", "healthy"),
			ctr("i", "web/whoami", "", "running", "healthy"),
			ctr("j", "web/other", "10.0.0.9", "running", "healthy"),
		),
		want: "whoami.web Host:whoami.web [http://10.0.0.1:80 http://10.0.0.2:80 http://10.0.0.3:80 http://10.0.0.4:80]",
	}, {
		name: "system stacks and services, removed and external services are skipped",
		raw: env([]rawService{
			svc("1s1", "1st1", "healthcheck", port...),
			func() rawService { s := svc("1s2", "1st5", "sys", port...); s.System = true; return s }(),
			func() rawService { s := svc("1s3", "1st5", "old", port...); s.State = "removed"; return s }(),
			func() rawService { s := svc("1s4", "1st5", "partner", port...); s.Kind = "externalService"; return s }(),
			svc("1s9", "1st9", "orphan", port...),
		}),
		want: "",
	}, {
		name: "mixed-case names are lower-cased in the default rule",
		cfg:  func(c *Config) { c.Domain = "example.com" },
		raw: env([]rawService{svc("1s5", "1st6", "Api", port...)},
			ctr("a", "Shop/Api", "10.0.0.1", "running", "")),
		want: "api.shop Host:api.shop.example.com [http://10.0.0.1:80]",
	}, {
		name: "stack.service rule order",
		cfg:  func(c *Config) { c.RuleOrder = RuleOrderStackService; c.Domain = "example.com" },
		raw:  env([]rawService{svc("1s5", "1st5", "whoami", port...)}),
		want: "web.whoami Host:web.whoami.example.com []",
	}, {
		name: "traefik.domain overrides the domain",
		cfg:  func(c *Config) { c.Domain = "example.com" },
		raw:  env([]rawService{svc("1s5", "1st5", "whoami", "traefik.port", "80", "traefik.domain", "other.org")}),
		want: "whoami.web Host:whoami.web.other.org []",
	}, {
		name: "host network uses the first public endpoint",
		raw: env([]rawService{func() rawService {
			s := svc("1s5", "1st5", "lb", port...)
			s.PublicIPs = []string{"192.168.1.10", "192.168.1.11"}
			return s
		}()},
			rawContainer{ID: "1i1", Name: "a", StackService: "web/lb", State: "running", NetworkMode: "host"},
			rawContainer{ID: "1i2", Name: "b", StackService: "web/lb", State: "running", NetworkMode: "host", IP: "10.1.1.1"},
		),
		want: "lb.web Host:lb.web [http://192.168.1.10:80 http://192.168.1.10:80]",
	}, {
		name: "host network without public endpoints has no servers",
		raw: env([]rawService{svc("1s5", "1st5", "lb", port...)},
			rawContainer{ID: "1i1", Name: "a", StackService: "web/lb", State: "running", NetworkMode: "host"}),
		want: "lb.web Host:lb.web []",
	}, {
		name: "service health is ignored without the health filter",
		raw: env([]rawService{func() rawService {
			s := svc("1s5", "1st5", "whoami", port...)
			s.Health, s.State = "unhealthy", "inactive"
			return s
		}()}),
		want: "whoami.web Host:whoami.web []",
	}, {
		name: "health filter skips unhealthy and inactive services",
		cfg:  func(c *Config) { c.HealthFilter = true },
		raw: env([]rawService{
			func() rawService { s := svc("1s5", "1st5", "sick", port...); s.Health = "unhealthy"; return s }(),
			func() rawService { s := svc("1s6", "1st5", "off", port...); s.State = "inactive"; return s }(),
			func() rawService { s := svc("1s7", "1st5", "up", port...); s.State = "upgraded"; return s }(),
			func() rawService {
				s := svc("1s8", "1st5", "ing", port...)
				s.State = "upgrading"
				s.Health = "updating-healthy"
				return s
			}(),
			func() rawService { s := svc("1s9", "1st5", "db"); s.Health = "unhealthy"; return s }(),
		}),
		want: "ing.web Host:ing.web []\nup.web Host:up.web []",
		wantProblems: []string{
			"error: rancher:web/off: skipped: service is inactive/healthy",
			"error: rancher:web/sick: skipped: service is active/unhealthy",
		},
	}, {
		name: "traefik.enable and exposed by default",
		cfg:  func(c *Config) { c.ExposedByDefault = false },
		raw: env([]rawService{
			svc("1s5", "1st5", "on", "traefik.port", "80", "traefik.enable", "true"),
			svc("1s6", "1st5", "default", "traefik.port", "80"),
			svc("1s7", "1st5", "off", "traefik.port", "80", "traefik.enable", "false"),
		}),
		want: "on.web Host:on.web []",
	}, {
		name: "constraints on traefik.tags",
		cfg:  func(c *Config) { c.Constraints = []string{"tag==api"} },
		raw: env([]rawService{
			svc("1s5", "1st5", "a", "traefik.port", "80", "traefik.tags", "api,public"),
			svc("1s6", "1st5", "b", "traefik.port", "80", "traefik.tags", "internal"),
			svc("1s7", "1st5", "c", "traefik.port", "80"),
		}),
		want: "a.web Host:a.web []",
	}, {
		name: "no labels is silent, bad port is an error, unknown label a warning",
		raw: env([]rawService{
			svc("1s5", "1st5", "db"),
			svc("1s6", "1st5", "bad", "traefik.port", "http"),
			svc("1s7", "1st5", "odd", "traefik.port", "80", "traefik.frobnicate", "1"),
		}),
		want: "odd.web Host:odd.web []",
		wantProblems: []string{
			`error: rancher:web/bad: skipped: traefik.port "http" is not a number`,
			"warning: rancher:web/odd: ",
		},
	}, {
		name: "segments become routes of their own",
		raw: env([]rawService{svc("1s5", "1st5", "app",
			"traefik.web.port", "80", "traefik.admin.port", "81", "traefik.admin.frontend.rule", "Host:admin.example.com")},
			ctr("a", "web/app", "10.0.0.1", "running", "healthy")),
		want: "app.web.admin Host:admin.example.com [http://10.0.0.1:81]\napp.web.web Host:app.web [http://10.0.0.1:80]",
	}, {
		// The edge, not the provider, reports the clash (edge/compile.go).
		name: "two services claiming one rule are both kept",
		raw: env([]rawService{
			svc("1s5", "1st5", "a", "traefik.port", "80", "traefik.frontend.rule", "Host:shop.example.com"),
			svc("1s6", "1st6", "b", "traefik.port", "80", "traefik.frontend.rule", "Host: shop.example.com"),
		}),
		want: "a.web Host:shop.example.com []\nb.shop Host: shop.example.com []",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := defaults()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			snap, probs := build(tc.raw, cfg.settings())
			if got := routes(snap); got != tc.want {
				t.Errorf("routes:\n%s\nwant:\n%s", got, tc.want)
			}
			if len(probs) != len(tc.wantProblems) {
				t.Fatalf("problems:\n%s\nwant %d", problems(probs), len(tc.wantProblems))
			}
			for i, want := range tc.wantProblems {
				if !strings.Contains(probs[i].String(), want) {
					t.Errorf("problem %d = %q, want it to contain %q", i, probs[i], want)
				}
			}
			if snap.Provider != "rancher" || snap.Fingerprint == 0 || !slices.Equal(snap.Problems, probs) {
				t.Errorf("snapshot header: %+v", snap)
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	set := defaults().settings()
	base := func() raw {
		return env([]rawService{svc("1s5", "1st5", "whoami", "traefik.port", "80"), svc("1s6", "1st5", "db")},
			ctr("a", "web/whoami", "10.0.0.1", "running", "healthy"),
			ctr("b", "web/whoami", "10.0.0.2", "running", "healthy"),
			ctr("c", "web/whoami", "10.0.0.3", "stopped", ""))
	}
	fp := func(r raw) uint64 { return prepare(r, set).Fingerprint() }
	want := fp(base())

	r := base()
	slices.Reverse(r.Services)
	slices.Reverse(r.Containers)
	if fp(r) != want {
		t.Error("read order changed the fingerprint")
	}
	r = base()
	r.Containers[2].State = "stopping" // still filtered out
	if fp(r) != want {
		t.Error("a filtered-out container changed the fingerprint")
	}
	for name, edit := range map[string]func(*raw){
		"health":    func(r *raw) { r.Containers[0].Health = "unhealthy" },
		"scale":     func(r *raw) { r.Containers = append(r.Containers, ctr("d", "web/whoami", "10.0.0.4", "running", "")) },
		"label":     func(r *raw) { r.Services[0].Labels = map[string]string{"traefik.port": "8080"} },
		"stack":     func(r *raw) { r.Stacks[1].Name = "www" },
		"address":   func(r *raw) { r.Containers[1].IP = "10.0.0.9" },
		"new label": func(r *raw) { r.Services[1].Labels = map[string]string{"traefik.port": "5432"} },
	} {
		r := base()
		edit(&r)
		if fp(r) == want {
			t.Errorf("%s change kept the fingerprint", name)
		}
	}
}
