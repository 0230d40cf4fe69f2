package web

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// decode reads a JSON API response into generic values, so the test
// checks the field names clients see rather than the Go struct.
func decode(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, body)
	}
	return m
}

// hasKeys fails for every key missing from m.
func hasKeys(t *testing.T, what string, m any, keys ...string) {
	t.Helper()
	obj, ok := m.(map[string]any)
	if !ok {
		t.Fatalf("%s is %T, not an object", what, m)
	}
	for _, k := range keys {
		if _, ok := obj[k]; !ok {
			t.Errorf("%s has no field %q (has %v)", what, k, mapKeys(obj))
		}
	}
}

func mapKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestAPIOverview(t *testing.T) {
	f := newFixture(t)
	f.waitFailing()
	rec := get(t, f.server().Handler(), "/api/overview")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, Content-Type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	m := decode(t, rec.Body.Bytes())
	hasKeys(t, "overview", m, "now", "version", "started", "uptime_seconds", "generation", "table_built",
		"listeners", "counts", "discovery", "warnings")
	hasKeys(t, "counts", m["counts"], "routes", "services", "backends", "backends_up", "backends_down",
		"backends_drained", "backends_available", "backends_unchecked", "providers", "providers_synced", "certificates", "certificates_ok", "certificates_expiring", "certificates_failed",
		"certificates_by_state", "uncovered_hosts", "problems", "unrouted_requests")
	hasKeys(t, "listener", m["listeners"].([]any)[0], "name", "address", "tls")
	hasKeys(t, "discovery", m["discovery"].([]any)[0], "name", "mode", "state", "last_success", "link")
	ws := m["warnings"].([]any)
	hasKeys(t, "warning", ws[0], "kind", "severity", "subject", "message", "link")
	if ws[0].(map[string]any)["severity"] != "error" {
		t.Error("warnings do not start with errors")
	}
	c := m["counts"].(map[string]any)
	for k, want := range map[string]float64{"routes": 6, "services": 6, "backends": 8, "backends_up": 1,
		"backends_unchecked": 5, "backends_available": 6, "backends_down": 1, "backends_drained": 1, "certificates": 5, "certificates_ok": 2,
		"certificates_failed": 2, "uncovered_hosts": 2} {
		if c[k] != want {
			t.Errorf("counts.%s = %v, want %v", k, c[k], want)
		}
	}
	if _, ok := m["storage"]; ok {
		t.Error("storage is present without a Storage source")
	}
}

func TestAPIRoutes(t *testing.T) {
	f := newFixture(t)
	f.waitFailing()
	f.serve("whoami.example.com", "/teapot", 2)
	m := decode(t, get(t, f.server().Handler(), "/api/routes").Body.Bytes())
	hasKeys(t, "routes page", m, "now", "generation", "table_built", "routes", "unrouted_requests")
	routes := m["routes"].([]any)
	if len(routes) != 6 {
		t.Fatalf("%d routes, want 6", len(routes))
	}
	var whoami map[string]any
	for _, r := range routes {
		hasKeys(t, "route", r, "id", "name", "anchor", "rule", "priority", "source", "entry_points",
			"pass_host_header", "method", "sticky", "middlewares", "requests", "in_flight", "codes",
			"backends", "problems")
		if r.(map[string]any)["id"] == "rancher/web.whoami" {
			whoami = r.(map[string]any)
		}
	}
	if whoami == nil {
		t.Fatal("no route rancher/web.whoami")
	}
	hasKeys(t, "source", whoami["source"], "provider", "stack", "service", "text")
	if codes := whoami["codes"].(map[string]any); codes["418"] != 2.0 {
		t.Errorf("codes = %v, want 418: 2", codes)
	}
	b := whoami["backends"].([]any)
	hasKeys(t, "backend", b[0], "name", "url", "weight", "health", "health_since", "in_flight", "requests",
		"failures", "error_rate")
	if h := b[1].(map[string]any)["health"]; h != "drained" {
		t.Errorf("second backend is %v, want drained", h)
	}
	body := get(t, f.server().Handler(), "/api/routes").Body.String()
	mustNotContain(t, "api/routes", body, secretHeaderValue, routeAuthHash)
}

func TestAPICertificates(t *testing.T) {
	f := newFixture(t)
	m := decode(t, get(t, f.server().Handler(), "/api/certificates").Body.Bytes())
	hasKeys(t, "certificates page", m, "now", "counts", "certificates", "uncovered_hosts")
	hasKeys(t, "counts", m["counts"], "valid", "renewing", "expiring", "expired", "failed", "skipped")
	rows := m["certificates"].([]any)
	if len(rows) != 5 {
		t.Fatalf("%d rows, want 5", len(rows))
	}
	hasKeys(t, "certificate", rows[0], "id", "anchor", "names", "source", "origin", "issuer", "serial",
		"key_type", "key_bits", "signature_algorithm", "sha256", "not_before", "not_after", "seconds_left",
		"lifetime_left", "state", "default", "hosts")
	if _, ok := rows[0].(map[string]any)["last_renewal"]; ok {
		t.Error("a file certificate has a last renewal")
	}
	hasKeys(t, "acme certificate", rows[1], "last_renewal")
	hasKeys(t, "renewing certificate", rows[1], "next_renewal")
	hasKeys(t, "failed order", rows[2], "last_error", "last_error_at", "next_renewal")
	if _, ok := rows[2].(map[string]any)["not_after"]; ok {
		t.Error("a failed order without certificate has not_after")
	}
	wild := rows[0].(map[string]any)
	if hosts := wild["hosts"].([]any); len(hosts) != 2 || hosts[0] != "static.example.com" || hosts[1] != "whoami.example.com" {
		t.Errorf("wildcard serves %v", hosts)
	}
	un := m["uncovered_hosts"].([]any)
	hasKeys(t, "uncovered host", un[0], "host", "reason", "served_by", "routes")
	var names []string
	for _, u := range un {
		names = append(names, u.(map[string]any)["host"].(string))
	}
	if !slices.Equal(names, []string{"admin.shop.other.org", "failed.example.net"}) {
		t.Errorf("uncovered hosts %v", names)
	}
	if r := un[1].(map[string]any)["reason"].(string); !strings.Contains(r, "ACME order failed: the CA could not connect") {
		t.Errorf("reason for failed.example.net: %q", r)
	}

	m = decode(t, get(t, f.server().Handler(), "/api/certificates?state=expired").Body.Bytes())
	if rows := m["certificates"].([]any); len(rows) != 1 || m["filter"] != "expired" {
		t.Errorf("state=expired: %d rows, filter %v", len(rows), m["filter"])
	}
}

func TestAPIDiscovery(t *testing.T) {
	f := newFixture(t)
	m := decode(t, get(t, f.server().Handler(), "/api/discovery").Body.Bytes())
	ps := m["providers"].([]any)
	if len(ps) != 2 {
		t.Fatalf("%d providers", len(ps))
	}
	r := ps[1].(map[string]any)
	hasKeys(t, "provider", r, "name", "anchor", "endpoint", "mode", "key_source", "state", "last_sync",
		"last_success", "last_error", "error_since", "next_attempt", "stacks", "services", "containers",
		"routes", "syncs", "errors", "problems")
	if r["state"] != "error" {
		t.Errorf("rancher state %v", r["state"])
	}
	probs := r["problems"].([]any)
	hasKeys(t, "problem", probs[0], "source", "severity", "message", "anchor")
	// Provider problems and the compiler's: broken, typo, the conflict
	// (once, naming both services), the unsupported label.
	if len(probs) != 4 {
		t.Errorf("%d rancher problems, want 4", len(probs))
	}
	conflicts := 0
	for _, p := range probs {
		p := p.(map[string]any)
		if strings.Contains(p["message"].(string), "is claimed by") {
			conflicts++
			if txt := p["source"].(map[string]any)["text"]; txt != "rancher:shop/api, rancher:shop/legacy" {
				t.Errorf("the conflict names %v", txt)
			}
		}
	}
	if conflicts != 1 {
		t.Errorf("the rule conflict is listed %d times", conflicts)
	}
}

func TestCredentialsInEndpointsAreHidden(t *testing.T) {
	f := newFixture(t)
	f.providers[1].Endpoint = "http://access:" + rancherSecret + "@rancher.internal:8080/v2-beta"
	h := f.server(func(c *Config) {
		c.Sources.Storage = func() StorageStatus {
			return StorageStatus{Backend: "etcd", Location: "https://root:" + rancherSecret + "@etcd-1:2379,https://etcd-2:2379",
				State: "degraded", LastError: "etcd-1: context deadline exceeded",
				Locks: []StorageLock{{Name: "issue_cert_api.example.io", Holder: "edge-2"}}}
		}
	}).Handler()
	for _, path := range []string{"/", "/discovery", "/certificates", "/api/overview", "/api/discovery", "/api/certificates"} {
		body := get(t, h, path).Body.String()
		mustNotContain(t, path, body, rancherSecret)
	}
	mustContain(t, "certificates", get(t, h, "/certificates").Body.String(),
		`id="storage"`, "https://etcd-1:2379,https://etcd-2:2379", "issue_cert_api.example.io", "edge-2")
	mustContain(t, "overview", get(t, h, "/").Body.String(), `href="/certificates#storage"`, "etcd storage is degraded")
}
