package rancher

import (
	"reflect"
	"testing"

	"github.com/go-json-experiment/json"
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

// The wire types without their decoders: the reflective decoder's answer.
type (
	reflectStack     wireStack
	reflectService   wireService
	reflectContainer wireContainer
)

// FuzzWireDecode holds each wire type's own decoder (wiredecode.go) to
// the reflective decoder's answers: the same error or not, and the same
// value, for any resource.
func FuzzWireDecode(f *testing.F) {
	for _, seed := range []string{
		`{"id":"1i1","name":"web-1","state":"running","healthState":"healthy","primaryIpAddress":"10.42.0.5","networkMode":"managed","labels":{"io.rancher.stack_service.name":"shop/web","other":"x"},"ports":[1,{"a":[]}],"data":{"fields":{}}}`,
		`{"id":"1s1","name":"web","stackId":"1st1","kind":"service","state":"active","healthState":"healthy","system":false,"createdTS":1700000000000,"launchConfig":{"imageUuid":"docker:x","labels":{"traefik.port":"80","n":8080,"b":true,"z":null,"o":{"k":[1]}}},"publicEndpoints":[{"ipAddress":"10.0.0.1","port":80}]}`,
		`{"id":"1st1","name":"shop","state":"active","system":true}`,
		`{"launchConfig":{"labels":{"a":"1"}},"launchConfig":{"labels":{"b":"2"}}}`,
		`{"launchConfig":{"labels":{"a":"1"}},"launchConfig":null}`,
		`{"labels":{"io.rancher.stack_service.name":"a/b"},"labels":{}}`,
		`{"labels":{"io.rancher.stack_service.name":"a/b"},"labels":null,"id":null}`,
		`{"i\u0064":"esc","n\u0061me":"x\ud800","system":"yes"}`,
		`{"ID":"upper","Name":"case"}`,
		`{"createdTS":1.5}`,
		`{"createdTS":"12"}`,
		`null`,
		`"a"`,
		`{"id":"1",}`,
		"{\"name\":\"\xff\"}",
		"{\"\\u0061\xff\":1,\"id\":\"x\"}", // an escaped name with invalid UTF-8
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		same(t, data, &wireStack{}, &reflectStack{}, func(a *wireStack, b *reflectStack) bool { return *a == wireStack(*b) })
		same(t, data, &wireContainer{}, &reflectContainer{}, func(a *wireContainer, b *reflectContainer) bool { return *a == wireContainer(*b) })
		same(t, data, &wireService{}, &reflectService{}, func(a *wireService, b *reflectService) bool {
			return reflect.DeepEqual(a, (*wireService)(b))
		})
	})
}

func same[A, B any](t *testing.T, data []byte, a *A, b *B, equal func(*A, *B) bool) {
	t.Helper()
	errA := json.Unmarshal(data, a, decodeOpts)
	errB := json.Unmarshal(data, b, decodeOpts)
	if (errA == nil) != (errB == nil) {
		t.Fatalf("%T: decodes with error %v, the reflective decoder with %v: %q", a, errA, errB, data)
	}
	if errA == nil && !equal(a, b) {
		t.Fatalf("%T: decodes to %+v, the reflective decoder to %+v: %q", a, a, b, data)
	}
}
