package labels

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rancher-edge/edge/route"
)

// TestSidekickLabels: with Options.SidekickLabels the rawmind0 sidekick's
// labels give the routes its rules.toml gave (rancher-template
// traefik.tmpl), and Traefik's own labels are not read.
func TestSidekickLabels(t *testing.T) {
	t.Parallel()
	base := func(edit ...func(*route.Service)) route.Service {
		s := svc(func(s *route.Service) {
			s.Rule = "Host:web.shop"
			s.Priority = 5
			s.LoadBalancer.Method = "drr"
			s.Servers[0].URL = "http://10.0.0.5:80"
		})
		for _, e := range edit {
			e(&s)
		}
		return s
	}
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   []route.Service
	}{
		{"not enabled", kv("traefik.port", "8080", "traefik.frontend.rule", "Host:x"), nil},
		{"enabled, defaults", kv("traefik.enable", "true"), []route.Service{base()}},
		{"stack, two domains, aliases, fqdn, paths", kv("traefik.enable", "stack", "traefik.port", "8080", "traefik.protocol", "https",
			"traefik.domain", "a.com, b.com", "traefik.alias", "www,api", "traefik.alias.fqdn", "Shop.Example.org",
			"traefik.path.prefix.strip", "/API", "traefik.priority", "9", "traefik.sticky", "true"),
			[]route.Service{base(func(s *route.Service) {
				s.Rule = "Host:shop.a.com,www.a.com,api.a.com,shop.b.com,www.b.com,api.b.com,shop.example.org;PathPrefixStrip:/api"
				s.Priority = 9
				s.Servers[0].URL = "https://10.0.0.5:8080"
				s.LoadBalancer.Sticky, s.LoadBalancer.CookieName = true, deprecatedStickyCookie
			})}},
		{"service host, regexp wins", kv("traefik.enable", "true", "traefik.domain", "a.com", "traefik.domain.regexp", "{sub:[a-z]+}.a.com",
			"traefik.path", "/x,/y"),
			[]route.Service{base(func(s *route.Service) { s.Rule = "HostRegexp:{sub:[a-z]+}.a.com;Path:/x,/y" })}},
		{"rate limit", kv("traefik.enable", "true", "traefik.domain", "a.com", "traefik.ratelimit.enable", "true", "traefik.ratelimit.burst", "50"),
			[]route.Service{base(func(s *route.Service) {
				s.Rule = "Host:web.shop.a.com"
				s.RateLimit = &route.RateLimit{ExtractorFunc: "client.ip", RateSets: []route.RateSet{{Name: "rateset1", Period: 10 * time.Second, Average: 100, Burst: 50}}}
			})}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, problems := Build(Input{Stack: "shop", Service: "web", DefaultHost: "web.shop", Labels: tc.labels, Servers: []Address{{Addr: "10.0.0.5", Name: "c1"}}},
				Options{Provider: "rancher", Domain: "example.com", SidekickLabels: true})
			if len(problems) > 0 {
				t.Errorf("problems: %v", problems)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d routes %+v, want %d", len(got), got, len(tc.want))
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], tc.want[i]) {
					t.Errorf("got  %s rl=%+v\nwant %s rl=%+v", fmtService(got[i]), got[i].RateLimit, fmtService(tc.want[i]), tc.want[i].RateLimit)
				}
			}
		})
	}
}

// TestSidekickLabelsOffWarn: without the option the sidekick's labels are
// Traefik labels the edge does not read, and each says what to do.
func TestSidekickLabelsOffWarn(t *testing.T) {
	_, problems := Build(Input{Stack: "shop", Service: "web", Labels: kv("traefik.enable", "true", "traefik.port", "80", "traefik.alias", "www"),
		Servers: []Address{{Addr: "10.0.0.5"}}}, Options{Provider: "rancher", ExposedByDefault: true})
	if len(problems) != 1 || !strings.Contains(problems[0].Message, "TRAEFIK_RANCHER_SIDEKICK_LABELS") {
		t.Errorf("problems %v, want one warning naming TRAEFIK_RANCHER_SIDEKICK_LABELS", problems)
	}
}
