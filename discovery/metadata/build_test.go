package metadata

import (
	"strings"
	"testing"
	"time"

	"github.com/rancher-edge/edge/discovery/cattle"
	md "github.com/rancher-edge/edge/discovery/metadata/metadatatest"
	"github.com/rancher-edge/edge/route"
)

func svc(name string, kv ...string) md.Service {
	s := md.Service{Name: name, Labels: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		s.Labels[kv[i]] = kv[i+1]
	}
	return s
}

func with(s md.Service, edit func(*md.Service)) md.Service {
	edit(&s)
	return s
}

func ctr(name, ip, state, health string) md.Container {
	return md.Container{Name: name, IP: ip, State: state, Health: health}
}

func web(services ...md.Service) md.World {
	return md.World{Stacks: []md.Stack{{Name: "web", Services: services}}}
}

// TestBuildCases runs, through the real server, every filter and label
// case discovery/rancher's TestBuild covers for the API: the same world
// must give the same routes in both modes.
func TestBuildCases(t *testing.T) {
	t.Parallel()
	port := []string{"traefik.port", "80"}
	tests := []struct {
		name         string
		cfg          func(*Config)
		world        md.World
		want         string
		wantProblems []string // substrings, one per problem, in order
	}{{
		name: "container filter keeps healthy and running only",
		world: web(
			with(svc("whoami", port...), func(s *md.Service) {
				s.Containers = []md.Container{
					ctr("a", "10.0.0.1", "running", "healthy"),
					ctr("b", "10.0.0.2", "running", ""),
					ctr("c", "10.0.0.3", "updating-running", "updating-healthy"),
					ctr("d", "10.0.0.4", "upgraded", "healthy"),
					ctr("e", "10.0.0.5", "running", "unhealthy"),
					ctr("f", "10.0.0.6", "running", "initializing"),
					ctr("g", "10.0.0.7", "stopped", ""),
					ctr("h", "10.0.0.8", "starting", "healthy"),
					ctr("i", "", "running", "healthy"),
				}
			}),
			with(svc("other"), func(s *md.Service) { s.Containers = []md.Container{ctr("j", "10.0.0.9", "running", "healthy")} }),
		),
		want: "whoami.web Host:whoami.web [http://10.0.0.1:80 http://10.0.0.2:80 http://10.0.0.3:80 http://10.0.0.4:80]",
	}, {
		name: "system stacks and services, removed and external services are skipped",
		world: md.World{Stacks: []md.Stack{
			{Name: "healthcheck", System: true, Services: []md.Service{svc("healthcheck", port...)}},
			{Name: "web", Services: []md.Service{
				with(svc("sys", port...), func(s *md.Service) { s.System = true }),
				with(svc("old", port...), func(s *md.Service) { s.State = "removed" }),
				with(svc("partner", port...), func(s *md.Service) { s.Kind = "externalService" }),
			}},
		}},
		want: "",
	}, {
		name: "mixed-case names are lower-cased in the default rule",
		cfg:  func(c *Config) { c.Domain = "example.com" },
		world: md.World{Stacks: []md.Stack{{Name: "Shop", Services: []md.Service{
			with(svc("Api", port...), func(s *md.Service) { s.Containers = []md.Container{ctr("", "10.0.0.1", "running", "")} }),
		}}}},
		want: "api.shop Host:api.shop.example.com [http://10.0.0.1:80]",
	}, {
		name:  "stack.service rule order",
		cfg:   func(c *Config) { c.RuleOrder = cattle.RuleOrderStackService; c.Domain = "example.com" },
		world: web(svc("whoami", port...)),
		want:  "web.whoami Host:web.whoami.example.com []",
	}, {
		name:  "traefik.domain overrides the domain",
		cfg:   func(c *Config) { c.Domain = "example.com" },
		world: web(svc("whoami", "traefik.port", "80", "traefik.domain", "other.org")),
		want:  "whoami.web Host:whoami.web.other.org []",
	}, {
		name: "host network: metadata gives the host's address",
		world: md.World{
			Hosts: []md.Host{{Name: "h1", AgentIP: "192.168.1.10"}},
			Stacks: []md.Stack{{Name: "web", Services: []md.Service{with(svc("lb", port...), func(s *md.Service) {
				s.Containers = []md.Container{
					{Name: "a", IP: "192.168.1.10", Host: "h1"},
					{Name: "b", IP: "192.168.1.10", Host: "h1"},
				}
			})}}},
		},
		want: "lb.web Host:lb.web [http://192.168.1.10:80 http://192.168.1.10:80]",
	}, {
		name:  "service state is ignored without the health filter",
		world: web(with(svc("whoami", port...), func(s *md.Service) { s.State = "inactive" })),
		want:  "whoami.web Host:whoami.web []",
	}, {
		name: "health filter skips services that are not active (metadata has no service health)",
		cfg:  func(c *Config) { c.HealthFilter = true },
		world: web(
			with(svc("off", port...), func(s *md.Service) { s.State = "inactive" }),
			with(svc("up", port...), func(s *md.Service) { s.State = "upgraded" }),
			with(svc("ing", port...), func(s *md.Service) { s.State = "upgrading" }),
			with(svc("db"), func(s *md.Service) { s.State = "inactive" }),
		),
		want: "ing.web Host:ing.web []\nup.web Host:up.web []",
		wantProblems: []string{
			"error: rancher-metadata:web/off: skipped: service is inactive/null and the service health filter (TRAEFIK_RANCHER_HEALTHCHECK) is on",
		},
	}, {
		name: "traefik.enable and exposed by default",
		cfg:  func(c *Config) { c.ExposedByDefault = false },
		world: web(
			svc("on", "traefik.port", "80", "traefik.enable", "true"),
			svc("default", "traefik.port", "80"),
			svc("off", "traefik.port", "80", "traefik.enable", "false"),
		),
		want: "on.web Host:on.web []",
	}, {
		name: "constraints on traefik.tags",
		cfg:  func(c *Config) { c.Constraints = []string{"tag==api"} },
		world: web(
			svc("a", "traefik.port", "80", "traefik.tags", "api,public"),
			svc("b", "traefik.port", "80", "traefik.tags", "internal"),
			svc("c", "traefik.port", "80"),
		),
		want: "a.web Host:a.web []",
	}, {
		name: "no labels is silent, bad port is an error, unknown label a warning",
		world: web(
			svc("db"),
			svc("bad", "traefik.port", "http"),
			svc("odd", "traefik.port", "80", "traefik.frobnicate", "1"),
		),
		want: "odd.web Host:odd.web []",
		wantProblems: []string{
			`error: rancher-metadata:web/bad: skipped: traefik.port "http" is not a number`,
			"warning: rancher-metadata:web/odd: ",
		},
	}, {
		name: "segments become routes of their own",
		world: web(with(svc("app", "traefik.web.port", "80", "traefik.admin.port", "81", "traefik.admin.frontend.rule", "Host:admin.example.com"),
			func(s *md.Service) { s.Containers = []md.Container{ctr("a", "10.0.0.1", "running", "healthy")} })),
		want: "app.web.admin Host:admin.example.com [http://10.0.0.1:81]\napp.web.web Host:app.web [http://10.0.0.1:80]",
	}, {
		// The edge, not the provider, reports the clash (edge/compile.go).
		name: "two services claiming one rule are both kept",
		world: md.World{Stacks: []md.Stack{
			{Name: "web", Services: []md.Service{svc("a", "traefik.port", "80", "traefik.frontend.rule", "Host:shop.example.com")}},
			{Name: "shop", Services: []md.Service{svc("b", "traefik.port", "80", "traefik.frontend.rule", "Host: shop.example.com")}},
		}},
		want: "a.web Host:shop.example.com []\nb.shop Host: shop.example.com []",
	}}
	s := md.Start(t, md.World{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Publish(tc.world); err != nil {
				t.Fatal(err)
			}
			cfg := testConfig(s, t)
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			p, rec := run(t, cfg)
			got := rec.waitFor(t, 10*time.Second, "the first read", func(route.Snapshot) bool { return true }).snap
			if r := routes(got); r != tc.want {
				t.Errorf("routes:\n%s\nwant:\n%s", r, tc.want)
			}
			if len(got.Problems) != len(tc.wantProblems) {
				var all []string
				for _, pr := range got.Problems {
					all = append(all, pr.String())
				}
				t.Fatalf("problems:\n%s\nwant %d", strings.Join(all, "\n"), len(tc.wantProblems))
			}
			for i, want := range tc.wantProblems {
				if !strings.Contains(got.Problems[i].String(), want) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got.Problems[i], want)
				}
			}
			if got.Provider != ProviderName || got.Fingerprint == 0 {
				t.Errorf("snapshot header: %+v", got)
			}
			if st := p.Status(); st.Routes != len(got.Services) || st.LastError != "" || st.Mode != ModeLongPoll {
				t.Errorf("status %+v", st)
			}
		})
	}
}
