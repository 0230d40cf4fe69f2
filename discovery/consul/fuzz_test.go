package consul

import (
	"strings"
	"testing"
)

// FuzzBuild feeds arbitrary tags (one per line), service names and rule
// templates through the whole build: it must never panic, and the same
// world must always give the same fingerprint.
func FuzzBuild(f *testing.F) {
	f.Add("web", "traefik.enable=true\ntraefik.frontend.rule=Host:a\ntraefik.port=80", DefaultFrontendRule)
	f.Add("my web", "Traefik.tags=kubernetes\nkubernetes\ntraefik.weight=x", `Host:{{getAttribute "host" .Attributes .ServiceName}}`)
	f.Add("x", "traefik.frontend.auth.basic.users=a:b\ntraefik.=\n=\ntraefik.segment.port=1", `{{hasTag "a" .Attributes}}`)
	f.Fuzz(func(t *testing.T, name, tags, rule string) {
		cfg := Config{ExposedByDefault: true, Domain: "example.com", FrontendRule: rule, Constraints: []string{"tag!=internal"}}
		if cfg.Validate() != nil {
			return
		}
		s, err := cfg.settings()
		if err != nil {
			return
		}
		w := world{name: {
			{ID: "a", Node: "n", NodeAddress: "10.0.0.1", Port: 80, Tags: strings.Split(tags, "\n"), State: statePassing},
			{ID: "b", Node: "n", Address: "10.0.0.2", Port: 81, Tags: strings.Split(tags, "\n"), State: stateWarning},
		}}
		one, _ := build(w, s)
		two, _ := build(w, s)
		if one.Fingerprint != two.Fingerprint || len(one.Services) != len(two.Services) {
			t.Fatal("the same world built twice differs")
		}
	})
}
