package cattle

import (
	"testing"

	"github.com/rancher-edge/edge/discovery/labels"
)

// TestBuildNamesTheProvider: both Rancher providers build through here,
// and each snapshot, route and problem says which one it came from. The
// filters and labels are tested through both providers (discovery/rancher's
// TestBuild, discovery/metadata's TestBuildCases against the real server).
func TestBuildNamesTheProvider(t *testing.T) {
	t.Parallel()
	w := World{
		Stacks: []Stack{{ID: "s1", Name: "Web"}},
		Services: []Service{
			{ID: "a", StackID: "s1", Name: "api", Labels: map[string]string{"traefik.port": "80"}},
			{ID: "b", StackID: "s1", Name: "bad", Labels: map[string]string{"traefik.port": "x"}},
		},
		Containers: []Container{{ID: "c1", Name: "web-api-1", IP: "10.42.0.1", State: "running", StackService: "Web/api"}},
	}
	for _, provider := range []string{"rancher", "rancher-metadata"} {
		s := Settings{Provider: provider, Labels: labels.Options{Provider: provider, ExposedByDefault: true}}
		snap, problems := Build(w, s)
		if snap.Provider != provider || len(snap.Services) != 1 || len(problems) != 1 {
			t.Fatalf("%s: %+v, problems %v", provider, snap, problems)
		}
		if got := snap.Services[0]; got.Source.Provider != provider || got.Rule != "Host:api.web" || len(got.Servers) != 1 {
			t.Errorf("%s: route %+v", provider, got)
		}
		if problems[0].Source.Provider != provider || problems[0].Source.Service != "bad" {
			t.Errorf("%s: problem %v", provider, problems[0])
		}
	}
}
