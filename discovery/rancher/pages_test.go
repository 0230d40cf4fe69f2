package rancher

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// secretEnv is a container's environment as Rancher lists it: what a page
// holds that must never reach a log, a page or an error.
const secretEnv = `"environment":{"DB_PASSWORD":"hunter2-s3cret"}`

// TestPageErrorsKeepResourcesOut: a page that does not decode, or decodes
// into the wrong shape, is reported by collection, page and byte, never by
// quoting what it held. go-rancher's error quoted the whole page.
func TestPageErrorsKeepResourcesOut(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, body, want string }{
		{"truncated", `{"type":"collection","data":[{"id":"1i1",` + secretEnv + `,"name":"web-1"},{"id":"1i2",` + secretEnv, "page 1: decoding at byte"},
		{"a value of the wrong type", `{"data":[{"id":"1i1",` + secretEnv + `,"name":"web-1","state":["hunter2-s3cret"]}]}`, `page 1: decoding at byte`},
		{"not a collection", `[{"id":"1i1",` + secretEnv + `}]`, "page 1: JSON [ where { was expected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if u, p, _ := r.BasicAuth(); u != "ak" || p != "sk" {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			p := &pager{hc: srv.Client(), access: "ak", secret: "sk"}
			var got []string
			err := collection(context.Background(), p, srv.URL+"/v2-beta/projects/1a5/containers", func(c *wireContainer) { got = append(got, c.ID) })
			if err == nil {
				t.Fatalf("no error; read %v", got)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
			noSecret(t, "hunter2", err.Error())
			noSecret(t, "sk", strings.TrimPrefix(err.Error(), "page 1: "))
		})
	}
}

// TestPageStatusSaysWhatRancherSaid: another status than 200 gives the
// URL, the status and Rancher's own code and message, and describe still
// recognises a rejected key.
func TestPageStatusSaysWhatRancherSaid(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"id":"x","type":"error","links":{},"actions":{},"status":401,"code":"Unauthorized","message":"Unauthorized","detail":null}`))
	}))
	defer srv.Close()
	p := &pager{hc: srv.Client(), access: "ak", secret: "sk"}
	err := collection(context.Background(), p, srv.URL+"/v2-beta/projects/1a5/stacks", func(*wireStack) {})
	want := "page 1: GET " + srv.URL + "/v2-beta/projects/1a5/stacks: 401 Unauthorized (Unauthorized: Unauthorized)"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
	d := describe(Config{KeySource: "TRAEFIK_RANCHER_ACCESSKEY"}, err)
	if !strings.Contains(d.Error(), "rancher rejected the API key (from TRAEFIK_RANCHER_ACCESSKEY) (401)") {
		t.Errorf("describe: %v", d)
	}
	if se, ok := errors.AsType[*statusError](d); !ok || se.code != 401 {
		t.Errorf("describe lost the status: %#v", d)
	}
}

// TestDecodePageReadsOnlyWhatDiscoveryNeeds: the members discovery does
// not read, whatever their shape, are skipped; data may come after
// pagination; labels that are not strings are kept as text.
func TestDecodePageReadsOnlyWhatDiscoveryNeeds(t *testing.T) {
	t.Parallel()
	page := `{"type":"collection","resourceType":"service","links":{"self":"x"},"createTypes":{},"actions":{},` +
		`"pagination":{"first":null,"previous":null,"next":"http://r/v2-beta/services?marker=m2","limit":2,"total":null,"partial":true},` +
		`"sort":null,"filters":{"name":null,"state":[{"modifier":"eq","value":"active"}]},` +
		`"data":[{"id":"1s1","type":"service","stackId":"1st1","name":"web","kind":"service","state":"active","healthState":"healthy",` +
		`"createdTS":1700000000000,"scale":2,"launchConfig":{"imageUuid":"docker:nginx",` + secretEnv + `,"labels":{"traefik.port":"80","traefik.enable":true,"n":2}},` +
		`"publicEndpoints":[{"ipAddress":"203.0.113.7","port":80}],"fqdn":null,"metadata":{"a":[1,{"b":[]}]}},` +
		`{"id":"1s2","name":"lb","kind":"loadBalancerService","system":true}],"sortLinks":{}}`
	var got []rawService
	next, n, err := decodePage(iotest.OneByteReader(strings.NewReader(page)), func(s *wireService) { got = append(got, s.raw()) })
	if err != nil {
		t.Fatal(err)
	}
	if next != "http://r/v2-beta/services?marker=m2" || n != 2 {
		t.Errorf("next %q, count %d", next, n)
	}
	want := []rawService{
		{ID: "1s1", StackID: "1st1", Name: "web", Kind: "service", State: "active", Health: "healthy",
			Created: time.UnixMilli(1700000000000),
			Labels:  map[string]string{"traefik.port": "80", "traefik.enable": "true", "n": "2"}, PublicIPs: []string{"203.0.113.7"}},
		{ID: "1s2", Name: "lb", Kind: "loadBalancerService", System: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// FuzzDecodePage: any page either decodes or gives an error, never a
// panic, and decoding it as it trickles in a byte at a time gives the
// same resources, next link and error as decoding it at once.
func FuzzDecodePage(f *testing.F) {
	for _, seed := range []string{
		`{"data":[{"id":"1i1","name":"web-1","state":"running","primaryIpAddress":"10.42.0.5","labels":{"io.rancher.stack_service.name":"shop/web"}}],"pagination":{"next":"http://r/c?marker=m1"}}`,
		`{"data":null}`,
		`{"data":[],"pagination":null}`,
		`{"data":[{"id":1}]}`,
		`{"id":"a","id":"b","data":[{"labels":{"io.rancher.stack_service.name":"\u00e9"}}]}`,
		`{"data":[{}`,
		`[]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, page []byte) {
		var a, b []rawContainer
		nextA, nA, errA := decodePage(bytes.NewReader(page), func(c *wireContainer) { a = append(a, c.raw()) })
		nextB, nB, errB := decodePage(iotest.OneByteReader(bytes.NewReader(page)), func(c *wireContainer) { b = append(b, c.raw()) })
		if nA != len(a) {
			t.Fatalf("count %d for %d resources", nA, len(a))
		}
		if nextA != nextB || nA != nB || !reflect.DeepEqual(a, b) || (errA == nil) != (errB == nil) {
			t.Fatalf("at once: %q %d %v %v; a byte at a time: %q %d %v %v", nextA, nA, a, errA, nextB, nB, b, errB)
		}
	})
}
