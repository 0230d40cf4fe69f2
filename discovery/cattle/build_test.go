package cattle

import (
	"fmt"
	"reflect"
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

// TestAssembleRebuildsWhatChanged: with the previous Assemble's memo, the
// next one gives the routes a fresh build would, in the same order, for
// every kind of change: a label, a container leaving, a service added and
// a service removed; and it rebuilds only the services whose input
// changed.
func TestAssembleRebuildsWhatChanged(t *testing.T) {
	t.Parallel()
	s := Settings{Provider: "rancher", Labels: labels.Options{Provider: "rancher", ExposedByDefault: true}}
	world := func(apiPort string, containers int, extra bool) World {
		w := World{
			Stacks: []Stack{{ID: "s1", Name: "web"}},
			Services: []Service{
				{ID: "a", StackID: "s1", Name: "api", Labels: map[string]string{"traefik.port": apiPort}},
				{ID: "b", StackID: "s1", Name: "www", Labels: map[string]string{"traefik.port": "80"}},
			},
		}
		for i := range containers {
			w.Containers = append(w.Containers, Container{ID: fmt.Sprint("c", i), Name: fmt.Sprint("api-", i),
				IP: fmt.Sprint("10.42.0.", i+1), State: "running", StackService: "web/api"})
		}
		w.Containers = append(w.Containers, Container{ID: "w1", Name: "www-1", IP: "10.42.1.1", State: "running", StackService: "web/www"})
		if extra {
			w.Services = append(w.Services, Service{ID: "c", StackID: "s1", Name: "aaa", Labels: map[string]string{"traefik.port": "x"}})
		}
		return w
	}
	steps := []struct {
		name    string
		w       World
		rebuilt int // inputs labels.Build ran for
	}{
		{"first", world("80", 2, false), 2},
		{"nothing changed", world("80", 2, false), 0},
		{"a label", world("8080", 2, false), 1},
		{"a container left", world("8080", 1, false), 1},
		{"a service with a bad label added", world("8080", 1, true), 1},
		{"that service removed", world("8080", 1, false), 0},
	}
	var memo Memo
	for _, st := range steps {
		p := Prepare(st.w, s)
		want, wantProblems, _ := Assemble(p, s, Memo{})
		prev := memo
		got, gotProblems, next := Assemble(p, s, prev)
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotProblems, wantProblems) {
			t.Fatalf("%s: with the memo\n%+v %v\nfresh\n%+v %v", st.name, got, gotProblems, want, wantProblems)
		}
		rebuilt := 0
		for k, e := range next.built {
			if old, ok := prev.built[k]; !ok || !sameEntry(old, e) {
				rebuilt++
			}
		}
		if rebuilt != st.rebuilt {
			t.Errorf("%s: %d inputs built, want %d", st.name, rebuilt, st.rebuilt)
		}
		if len(next.built) != len(p.Inputs) {
			t.Errorf("%s: the memo holds %d inputs, the read %d", st.name, len(next.built), len(p.Inputs))
		}
		memo = next
	}
}

// sameEntry reports whether two memo entries are one build: the same
// routes array, not merely equal routes.
func sameEntry(a, b memoEntry) bool {
	if len(a.services) != len(b.services) || len(a.problems) != len(b.problems) {
		return false
	}
	if len(a.services) > 0 && &a.services[0] != &b.services[0] {
		return false
	}
	return len(a.problems) == 0 || &a.problems[0] == &b.problems[0]
}
