package edge

import (
	"slices"
	"testing"

	"github.com/rancher-edge/edge/route"
)

// The server keeps a provider's services in its routes, not in its
// snapshot: when another provider publishes, the first one's routes are
// compiled again from what it kept, a service that did not compile is
// reported again, and the table still says how many services each
// provider had.
func TestAnotherProvidersChangeKeepsTheFirstOnesServices(t *testing.T) {
	s := tableServer(t)

	web := svc("web", "Host:web.example.com", "http://127.0.0.1:8081")
	web.Headers = &route.Headers{CustomResponseHeaders: map[string]string{"X-Kept": "yes"}}
	api := svc("api", "Host:api.example.com", "http://127.0.0.1:8082", "http://127.0.0.1:8083")
	bad := svc("bad", "Host:", "http://127.0.0.1:8084")
	file := snapshot(web, api, bad)
	file.Fingerprint = 1
	first := s.Update(file)

	other := func(n int) route.Snapshot {
		sn := route.Snapshot{Provider: "rancher", Fingerprint: uint64(n)}
		for i := range n {
			sn.Services = append(sn.Services, svc("svc"+string(rune('a'+i)), "Host:"+string(rune('a'+i))+".example.net", "http://127.0.0.1:9000"))
			sn.Services[i].Source.Provider = "rancher"
		}
		return sn
	}
	for _, n := range []int{1, 2, 1} {
		tbl := s.Update(other(n))
		var names []string
		for _, rt := range tbl.Routes() {
			if rt.Service.Source.Provider == "file" {
				names = append(names, rt.Service.Name)
				if rt.compiledRoute != findRoute(first, rt.Service.Name).compiledRoute {
					t.Errorf("after %d rancher services: file route %s compiled again, not shared", n, rt.Service.Name)
				}
			}
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"api", "web"}) {
			t.Errorf("after %d rancher services: file routes %q, want api and web", n, names)
		}
		if rt := findRoute(tbl, "web"); rt == nil || rt.Service.Headers == nil || rt.Service.Headers.CustomResponseHeaders["X-Kept"] != "yes" {
			t.Errorf("after %d rancher services: web's headers lost", n)
		}
		if rt := findRoute(tbl, "api"); rt == nil || len(rt.Service.Servers) != 2 || len(rt.backends) != 2 {
			t.Errorf("after %d rancher services: api's servers lost", n)
		}
		reported := false
		for _, p := range tbl.Problems() {
			reported = reported || (p.Source.Service == "bad" && p.Severity == route.Error)
		}
		if !reported {
			t.Errorf("after %d rancher services: the file service that does not compile is no longer reported: %v", n, tbl.Problems())
		}
		if got := tbl.ServiceCount("file"); got != 3 {
			t.Errorf("ServiceCount(file) = %d, want 3", got)
		}
		if got := tbl.ServiceCount("rancher"); got != n {
			t.Errorf("ServiceCount(rancher) = %d, want %d", got, n)
		}
		for _, sn := range tbl.Snapshots() {
			if sn.Services != nil {
				t.Errorf("the table's %s snapshot keeps its %d services", sn.Provider, len(sn.Services))
			}
		}
	}
}

func findRoute(t *Table, name string) *Route {
	for _, rt := range t.Routes() {
		if rt.Service.Name == name {
			return rt
		}
	}
	return nil
}
