package consul

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rancher-edge/edge/route"
)

// inst is a passing instance on node n1 (10.0.0.1) unless changed.
func inst(id string, port int, tags ...string) instance {
	return instance{ID: id, Node: "n1", NodeAddress: "10.0.0.1", Port: port, Tags: tags, State: statePassing}
}

func mustSettings(t testing.TB, c Config) settings {
	t.Helper()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	s, err := c.settings()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// view renders a snapshot as one line per route and problem, so a table
// row states what a user would see.
func view(snap route.Snapshot) string {
	var b strings.Builder
	for _, s := range snap.Services {
		fmt.Fprintf(&b, "%s %s %s", s.Name, s.Rule, s.LoadBalancer.Method)
		for _, srv := range s.Servers {
			fmt.Fprintf(&b, " %s*%d", srv.URL, srv.Weight)
		}
		b.WriteString("\n")
	}
	for _, p := range snap.Problems {
		fmt.Fprintf(&b, "! %s %s: %s\n", p.Severity, p.Source, p.Message)
	}
	return b.String()
}

func TestBuild(t *testing.T) {
	exposed := Config{ExposedByDefault: true, Domain: "example.com"}
	explicit := Config{Domain: "example.com"}
	tests := []struct {
		name string
		cfg  Config
		w    world
		want []string // lines that must appear
		not  []string // substrings that must not
	}{
		{
			name: "tags are labels; Service.Address and Service.Port make the server",
			cfg:  explicit,
			w: world{"web": {{ID: "web-1", Node: "n1", NodeAddress: "10.0.0.1", Address: "10.1.0.1", Port: 8080, State: statePassing,
				Tags: []string{"traefik.enable=true", "traefik.frontend.rule=Host:shop.example.com", "traefik.backend.loadbalancer.method=drr"}}}},
			want: []string{"web Host:shop.example.com drr http://10.1.0.1:8080*1"},
		},
		{
			name: "the node's address when the service has none; traefik.port on the instance overrides its port",
			cfg:  explicit,
			w:    world{"web": {inst("web-1", 30080, "traefik.enable=true"), inst("web-2", 30080, "traefik.enable=true", "traefik.port=9000")}},
			want: []string{"web Host:web.example.com wrr http://10.0.0.1:30080*1 http://10.0.0.1:9000*1"},
		},
		{
			name: "the prefix is case-insensitive and configurable; other tags and bare words are not labels",
			cfg:  Config{Prefix: "edge", Domain: "example.com"},
			w:    world{"web": {inst("web-1", 80, "EDGE.enable=true", "edge.frontend.rule=Host:a.example.com", "traefik.frontend.rule=Host:ignored", "kubernetes", "edge.weird")}},
			want: []string{"web Host:a.example.com wrr http://10.0.0.1:80*1"},
			not:  []string{"ignored", "edge.weird"},
		},
		{
			name: "per-instance weights for wrr",
			cfg:  explicit,
			w:    world{"api": {inst("api-1", 80, "traefik.enable=true", "traefik.weight=3"), inst("api-2", 81, "traefik.enable=true", "traefik.weight=1")}},
			want: []string{"api Host:api.example.com wrr http://10.0.0.1:80*3 http://10.0.0.1:81*1"},
		},
		{
			name: "strict checks: only passing instances; maintenance and critical are out",
			cfg:  explicit,
			w: world{"api": {
				inst("a", 1, "traefik.enable=true"),
				{ID: "b", Node: "n1", NodeAddress: "10.0.0.1", Port: 2, Tags: []string{"traefik.enable=true"}, State: stateWarning},
				{ID: "c", Node: "n1", NodeAddress: "10.0.0.1", Port: 3, Tags: []string{"traefik.enable=true"}, State: stateCritical},
				{ID: "d", Node: "n1", NodeAddress: "10.0.0.1", Port: 4, Tags: []string{"traefik.enable=true"}, State: stateMaintenance},
			}},
			want: []string{"api Host:api.example.com wrr http://10.0.0.1:1*1\n"},
		},
		{
			name: "strict checks off admits warning, never critical or maintenance",
			cfg:  Config{Domain: "example.com", WarningIsHealthy: true},
			w: world{"api": {
				inst("a", 1, "traefik.enable=true"),
				{ID: "b", Node: "n1", NodeAddress: "10.0.0.1", Port: 2, Tags: []string{"traefik.enable=true"}, State: stateWarning},
				{ID: "c", Node: "n1", NodeAddress: "10.0.0.1", Port: 3, Tags: []string{"traefik.enable=true"}, State: stateCritical},
				{ID: "d", Node: "n1", NodeAddress: "10.0.0.1", Port: 4, Tags: []string{"traefik.enable=true"}, State: stateMaintenance},
			}},
			want: []string{"api Host:api.example.com wrr http://10.0.0.1:1*1 http://10.0.0.1:2*1\n"},
		},
		{
			name: "no instance passes: the route stays, with no servers",
			cfg:  explicit,
			w:    world{"api": {{ID: "a", Node: "n1", NodeAddress: "10.0.0.1", Port: 1, Tags: []string{"traefik.enable=true"}, State: stateCritical}}},
			want: []string{"api Host:api.example.com wrr\n"},
		},
		{
			name: "constraints on the traefik.tags values",
			cfg:  Config{Domain: "example.com", ExposedByDefault: true, Constraints: []string{"tag==kubernetes"}},
			w: world{
				"k8s":  {inst("k", 30001, "traefik.tags=kubernetes,web")},
				"bare": {inst("b", 8080, "traefik.tags=metal", "kubernetes")},
				"none": {inst("n", 8080)},
			},
			want: []string{"k8s Host:k8s.example.com wrr http://10.0.0.1:30001*1"},
			not:  []string{"bare", "none "},
		},
		{
			name: "exposed by default publishes untagged services with the default rule; consul itself never",
			cfg:  exposed,
			w:    world{"db": {inst("db-1", 5432)}, "consul": {inst("consul", 8300)}, "off": {inst("o", 80, "traefik.enable=false")}},
			want: []string{"db Host:db.example.com wrr http://10.0.0.1:5432*1"},
			not:  []string{"consul", "off"},
		},
		{
			name: "not exposed by default: untagged and unlabelled services are silent",
			cfg:  explicit,
			w:    world{"db": {inst("db-1", 5432)}, "web": {inst("w", 80, "traefik.frontend.rule=Host:w")}},
			not:  []string{"db", "web"},
		},
		{
			name: "a name with a space is reported, not dropped silently",
			cfg:  exposed,
			w:    world{"my web": {inst("w", 80, "traefik.enable=true")}},
			want: []string{"! error consul:my web: skipped: the service name contains a space"},
		},
		{
			name: "unknown traefik labels warn per service",
			cfg:  explicit,
			w:    world{"web": {inst("w", 80, "traefik.enable=true", "traefik.frontend.bogus=1")}},
			want: []string{"web Host:web.example.com", "! warning consul:web", "traefik.frontend.bogus"},
		},
		{
			name: "instances disagreeing on a label warn; the first by ID wins",
			cfg:  explicit,
			w:    world{"web": {inst("w2", 80, "traefik.enable=true", "traefik.frontend.rule=Host:b"), inst("w1", 80, "traefik.enable=true", "traefik.frontend.rule=Host:a")}},
			want: []string{"web Host:a wrr", "instances disagree on traefik.frontend.rule"},
		},
		{
			name: "an empty domain trims the template's trailing dot",
			cfg:  Config{ExposedByDefault: true},
			w:    world{"web": {inst("w", 80)}},
			want: []string{"web Host:web wrr"},
		},
		{
			name: "the frontend rule template sees the tags",
			cfg:  Config{ExposedByDefault: true, Domain: "d", FrontendRule: `Host:{{getAttribute "host" .Attributes .ServiceName}}.{{.Domain}}{{if hasTag "api" .Attributes}};PathPrefix:/api{{end}}`},
			w:    world{"web": {inst("w", 80, "traefik.host=shop", "api")}},
			want: []string{"web Host:shop.d;PathPrefix:/api wrr"},
		},
		{
			name: "getAttribute reads under the configured prefix",
			cfg:  Config{ExposedByDefault: true, Prefix: "Edge", FrontendRule: `Host:{{getAttribute "host" .Attributes "none"}}.x`},
			w:    world{"web": {inst("w", 80, "edge.host=shop", "traefik.host=wrong")}},
			want: []string{"web Host:shop.x wrr"},
		},
		{
			name: "a bad per-instance port warns and keeps the registered one",
			cfg:  explicit,
			w:    world{"web": {inst("w", 80, "traefik.enable=true", "traefik.port=http")}},
			want: []string{"http://10.0.0.1:80*1", `instance w: traefik.port "http" is not a port`},
		},
		{
			name: "https upstreams through traefik.protocol",
			cfg:  explicit,
			w:    world{"web": {inst("w", 8443, "traefik.enable=true", "traefik.protocol=https")}},
			want: []string{"https://10.0.0.1:8443*1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap, _ := build(tt.w, mustSettings(t, tt.cfg))
			got := view(snap)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in\n%s", w, got)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("unexpected %q in\n%s", n, got)
				}
			}
		})
	}
}

func TestFingerprintIgnoresOrder(t *testing.T) {
	s := mustSettings(t, Config{ExposedByDefault: true})
	a := world{"web": {inst("w1", 80), inst("w2", 81)}}
	b := world{"web": {inst("w2", 81), inst("w1", 80)}}
	if prepare(a, s).fingerprint() != prepare(b, s).fingerprint() {
		t.Fatal("instance order changed the fingerprint")
	}
	c := world{"web": {inst("w1", 80), {ID: "w2", Node: "n1", NodeAddress: "10.0.0.1", Port: 81, State: stateCritical}}}
	if prepare(a, s).fingerprint() == prepare(c, s).fingerprint() {
		t.Fatal("a critical instance did not change the fingerprint")
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{
		{Endpoint: "ftp://x:1"},
		{Endpoint: "http://u:p@x:8500"},
		{Endpoint: "http://x:8500/v1"},
		{Prefix: "a.b"},
		{FrontendRule: "Host:{{.ServiceName"},
		{Constraints: []string{"tag~x"}},
		{Wait: -1},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	for _, ep := range []string{"", "127.0.0.1:8500", "http://consul:8500", "https://consul.service:8501", "consul"} {
		if err := (Config{Endpoint: ep}).Validate(); err != nil {
			t.Errorf("%q: %v", ep, err)
		}
	}
	for ep, want := range map[string]string{"consul": "http consul:8500", "https://consul": "https consul:8501", "10.0.0.1:9500": "http 10.0.0.1:9500"} {
		if scheme, host, err := splitEndpoint(ep); err != nil || scheme+" "+host != want {
			t.Errorf("%q: %s %s %v, want %s", ep, scheme, host, err, want)
		}
	}
	err := Config{Endpoint: "http://u:secret@x"}.Validate()
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("credentials in the endpoint: %v", err)
	}
}
