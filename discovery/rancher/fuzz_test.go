package rancher

import (
	"testing"
)

// FuzzPatch: any resource.change payload decodes to a patch or is
// refused (and the caller reads everything again); a resource patched
// twice is in the world once.
func FuzzPatch(f *testing.F) {
	for _, seed := range []struct{ typ, body string }{
		{"container", `{"id":"1i1","name":"web-1","state":"running","primaryIpAddress":"10.42.0.5","labels":{"io.rancher.stack_service.name":"shop/web"}}`},
		{"service", `{"id":"1s1","name":"web","stackId":"1st1","state":"active","launchConfig":{"labels":{"traefik.port":"80"}}}`},
		{"stack", `{"id":"1st1","name":"shop","state":"active"}`},
		{"loadBalancerService", `{"id":"1s2"}`},
		{"instance", `{"id":""}`},
		{"host", `{"id":"1h1"}`},
		{"service", `[`},
	} {
		f.Add(seed.typ, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, typ string, body []byte) {
		p, ok := decodePatch(typ, body)
		if !ok {
			return
		}
		var w world
		w.apply([]patch{p, p})
		if n := len(w.Stacks) + len(w.Services) + len(w.Containers); n != 1 {
			t.Errorf("one resource patched twice gives %d resources", n)
		}
	})
}
