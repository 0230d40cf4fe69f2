package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// gwCase is one request of a conformance scenario and what the spec says
// it gets: the backend that answers (status 200), or a status code (with
// the redirect's target when it is a redirect), and what the backend must
// have seen or the client must get in headers.
type gwCase struct {
	host         string // "" : the scenario's
	method, path string
	header       map[string]string
	backend      string
	status       int
	location     string            // redirects: host and path of the target
	target       string            // redirects: the whole target, when scheme and port matter
	seenPath     string            // the path the backend got ("" : the request's)
	seenHeader   map[string]string // request headers the backend got ("" : absent)
	respHeader   map[string]string // response headers the client got ("" : absent)
}

func (c gwCase) String() string {
	m := c.method
	if m == "" {
		m = "GET"
	}
	return fmt.Sprintf("%s %s%s %v", m, c.host, c.path, c.header)
}

// check sends one case and says how the answer differs from the spec's.
func (f *gwFixture) check(host string, c gwCase) error {
	method := c.method
	if method == "" {
		method = "GET"
	}
	if c.host != "" {
		host = c.host
	}
	req, err := http.NewRequest(method, f.get(host, c.path), nil)
	if err != nil {
		return err
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	want := c.status
	if want == 0 {
		want = 200
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s: status %d (%s), want %d", c, resp.StatusCode, resp.Header.Get("X-Backend"), want)
	}
	if c.location != "" {
		u, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || u.Hostname()+u.Path != c.location {
			return fmt.Errorf("%s: Location %q, want host and path %s", c, resp.Header.Get("Location"), c.location)
		}
	}
	if c.target != "" && resp.Header.Get("Location") != c.target {
		return fmt.Errorf("%s: Location %q, want %s", c, resp.Header.Get("Location"), c.target)
	}
	for k, v := range c.respHeader {
		if got := strings.Join(resp.Header.Values(k), ","); got != v {
			return fmt.Errorf("%s: response header %s %q, want %q", c, k, got, v)
		}
	}
	if c.backend == "" {
		return nil
	}
	var e gwEcho
	if err := decodeEcho(resp, &e); err != nil {
		return err
	}
	if e.Backend != c.backend {
		return fmt.Errorf("%s: answered by %q, want %s", c, e.Backend, c.backend)
	}
	if c.seenPath != "" && e.Path != c.seenPath {
		return fmt.Errorf("%s: the backend got path %q, want %q", c, e.Path, c.seenPath)
	}
	for k, v := range c.seenHeader {
		if got := strings.Join(http.Header(e.Headers).Values(k), ","); got != v {
			return fmt.Errorf("%s: the backend got %s %q, want %q", c, k, got, v)
		}
	}
	return nil
}

// cases waits until every case of a scenario is answered as the spec says.
func (f *gwFixture) cases(t *testing.T, host string, cases ...gwCase) {
	t.Helper()
	waitFor(t, 20*time.Second, func() error {
		for _, c := range cases {
			if err := f.check(host, c); err != nil {
				return err
			}
		}
		return nil
	})
}

// scenario applies a conformance manifest, waits until the edge accepted
// its route, runs the cases and removes the manifest again.
func (f *gwFixture) scenario(t *testing.T, file, routeName string, cases ...gwCase) {
	t.Helper()
	objs := conformanceFile(t, f.conf, file)
	f.ap.apply(t, f.ctx, objs)
	defer f.ap.remove(t, f.ctx, objs)
	f.routeConds(t, infraNS, routeName, "same-namespace",
		condition{"Accepted", "True", "Accepted"}, condition{"ResolvedRefs", "True", "ResolvedRefs"})
	f.cases(t, strings.ReplaceAll(routeName, "-", "")+".example", cases...)
}

// filterScenarios replays the conformance scenarios of matches and
// filters: the requests and answers are those of the suite's tests.
func (f *gwFixture) filterScenarios(t *testing.T) {
	const v1, v2, v3 = "infra-backend-v1", "infra-backend-v2", "infra-backend-v3"
	h := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	t.Run("exact path matching", func(t *testing.T) {
		f.scenario(t, "tests/httproute-exact-path-matching.yaml", "exact-matching",
			gwCase{path: "/one", backend: v1}, gwCase{path: "/two", backend: v2},
			gwCase{path: "/", status: 404}, gwCase{path: "/one/example", status: 404},
			gwCase{path: "/two/", status: 404}, gwCase{path: "/Two", status: 404})
	})
	t.Run("method matching", func(t *testing.T) {
		f.scenario(t, "tests/httproute-method-matching.yaml", "method-matching",
			gwCase{method: "POST", path: "/", backend: v1}, gwCase{method: "GET", path: "/", backend: v2},
			gwCase{method: "HEAD", path: "/", status: 404},
			gwCase{method: "GET", path: "/path1", backend: v1},
			gwCase{method: "PUT", path: "/", header: h("version", "one"), backend: v2},
			gwCase{method: "POST", path: "/path2", header: h("version", "two"), backend: v3},
			gwCase{method: "PATCH", path: "/path3", backend: v1},
			gwCase{method: "DELETE", path: "/path4", header: h("version", "three"), backend: v1},
			gwCase{method: "PUT", path: "/", status: 404}, gwCase{method: "DELETE", path: "/path4", status: 404},
			gwCase{method: "PATCH", path: "/path5", backend: v1},
			gwCase{method: "PATCH", path: "/", header: h("version", "four"), backend: v2})
	})
	t.Run("query param matching", func(t *testing.T) {
		f.scenario(t, "tests/httproute-query-param-matching.yaml", "query-param-matching",
			gwCase{path: "/?animal=whale", backend: v1}, gwCase{path: "/?animal=dolphin", backend: v2},
			gwCase{path: "/?animal=dolphin&color=blue", backend: v3}, gwCase{path: "/?ANIMAL=Whale", backend: v3},
			gwCase{path: "/?animal=whale&otherparam=irrelevant", backend: v1}, gwCase{path: "/?animal=dolphin&color=yellow", backend: v2},
			gwCase{path: "/?color=blue", status: 404}, gwCase{path: "/?animal=dog", status: 404},
			gwCase{path: "/?animal=whaledolphin", status: 404}, gwCase{path: "/", status: 404})
	})
	t.Run("request header modifier", func(t *testing.T) {
		f.scenario(t, "tests/httproute-request-header-modifier.yaml", "request-header-modifier",
			gwCase{path: "/set", header: h("Some-Other-Header", "val"), backend: v1,
				seenHeader: h("Some-Other-Header", "val", "X-Header-Set", "set-overwrites-values")},
			gwCase{path: "/set", header: h("Some-Other-Header", "val", "X-Header-Set", "some-other-value"), backend: v1,
				seenHeader: h("X-Header-Set", "set-overwrites-values")},
			gwCase{path: "/add", header: h("Some-Other-Header", "val"), backend: v1, seenHeader: h("X-Header-Add", "add-appends-values")},
			gwCase{path: "/add", header: h("X-Header-Add", "some-other-value"), backend: v1,
				seenHeader: h("X-Header-Add", "some-other-value,add-appends-values")},
			gwCase{path: "/remove", header: h("X-Header-Remove", "val"), backend: v1, seenHeader: h("X-Header-Remove", "")},
			gwCase{path: "/multiple", header: h("X-Header-Set-2", "set-val-2", "X-Header-Add-2", "add-val-2", "X-Header-Remove-2", "remove-val-2", "Another-Header", "another-header-val"),
				backend: v1, seenHeader: h("X-Header-Set-1", "header-set-1", "X-Header-Set-2", "header-set-2", "X-Header-Add-1", "header-add-1",
					"X-Header-Add-2", "add-val-2,header-add-2", "X-Header-Add-3", "header-add-3", "Another-Header", "another-header-val",
					"X-Header-Remove-1", "", "X-Header-Remove-2", "")},
			gwCase{path: "/case-insensitivity", header: h("x-header-set", "original-val-set", "x-header-add", "original-val-add", "x-header-remove", "v"),
				backend: v1, seenHeader: h("X-Header-Set", "header-set", "X-Header-Add", "original-val-add,header-add", "X-Header-Remove", "")})
	})
	t.Run("response header modifier", func(t *testing.T) {
		// The backend sets what X-Echo-Set-Header asks, as the suite's
		// echo server does.
		f.scenario(t, "tests/httproute-response-header-modifier.yaml", "response-header-modifier",
			gwCase{path: "/set", header: h("X-Echo-Set-Header", "X-Header-Set:some-other-value"), backend: v1,
				respHeader: h("X-Header-Set", "set-overwrites-values")},
			gwCase{path: "/add", header: h("X-Echo-Set-Header", "X-Header-Add:some-other-value"), backend: v1,
				respHeader: h("X-Header-Add", "some-other-value,add-appends-values")},
			gwCase{path: "/remove", header: h("X-Echo-Set-Header", "X-Header-Remove:val"), backend: v1, respHeader: h("X-Header-Remove", "")})
	})
	t.Run("redirect path", func(t *testing.T) {
		host := "redirectpath.example"
		f.scenario(t, "tests/httproute-redirect-path.yaml", "redirect-path",
			gwCase{path: "/original-prefix/lemon", status: 302, location: host + "/replacement-prefix/lemon"},
			gwCase{path: "/full/path/original", status: 302, location: host + "/full-path-replacement"},
			gwCase{path: "/path-and-host", status: 302, location: "example.org/replacement-prefix"},
			gwCase{path: "/path-and-status", status: 301, location: host + "/replacement-prefix"},
			gwCase{path: "/full-path-and-host", status: 302, location: "example.org/replacement-full"},
			gwCase{path: "/full-path-and-status", status: 301, location: host + "/replacement-full"})
	})
	t.Run("redirect port and scheme", func(t *testing.T) {
		// The route on the port-80 listener; the client's Host header
		// carries the edge's own (test) port, which the Location must not
		// take: the spec wants the listener's port, or the scheme's.
		var objs []*unstructured.Unstructured
		for _, o := range conformanceFile(t, f.conf, "tests/httproute-redirect-port-and-scheme.yaml") {
			if o.GetName() == "http-route-for-listener-on-port-80" {
				objs = append(objs, o)
			}
		}
		if len(objs) != 1 {
			t.Fatalf("the manifest has %d routes for the port-80 listener, want 1", len(objs))
		}
		f.ap.apply(t, f.ctx, objs)
		defer f.ap.remove(t, f.ctx, objs)
		f.routeConds(t, infraNS, "http-route-for-listener-on-port-80", "same-namespace", condition{"Accepted", "True", "Accepted"})
		f.cases(t, "example.org",
			gwCase{path: "/scheme-nil-and-port-nil", status: 302, target: "http://example.org/scheme-nil-and-port-nil"},
			gwCase{path: "/scheme-nil-and-port-80", status: 302, target: "http://example.org/scheme-nil-and-port-80"},
			gwCase{path: "/scheme-nil-and-port-8080", status: 302, target: "http://example.org:8080/scheme-nil-and-port-8080"},
			gwCase{path: "/scheme-https-and-port-nil", status: 302, target: "https://example.org/scheme-https-and-port-nil"},
			gwCase{path: "/scheme-https-and-port-443", status: 302, target: "https://example.org/scheme-https-and-port-443"},
			gwCase{path: "/scheme-https-and-port-8443", status: 302, target: "https://example.org:8443/scheme-https-and-port-8443"})
	})
	t.Run("rewrite path", func(t *testing.T) {
		f.scenario(t, "tests/httproute-rewrite-path.yaml", "rewrite-path",
			gwCase{path: "/prefix/one/two", backend: v1, seenPath: "/one/two"},
			gwCase{path: "/strip-prefix/three", backend: v1, seenPath: "/three"},
			gwCase{path: "/strip-prefix", backend: v1, seenPath: "/"},
			gwCase{path: "/full/one/two", backend: v1, seenPath: "/one"},
			gwCase{path: "/full/rewrite-path-and-modify-headers/test", header: h("X-Header-Remove", "remove-val", "X-Header-Add-Append", "append-val"),
				backend: v1, seenPath: "/test", seenHeader: h("X-Header-Set", "set-overwrites-values", "X-Header-Add", "header-val-1",
					"X-Header-Add-Append", "append-val,header-val-2", "X-Header-Remove", "")},
			gwCase{path: "/prefix/rewrite-path-and-modify-headers/one", backend: v1, seenPath: "/prefix/one"})
	})
}
