package web

import (
	"net/http"
	"testing"
	"time"

	"github.com/rancher-edge/edge/route"
)

// TestDiscoveryShowsConsul: the Consul provider's instances and its plain
// statement that every registered service is published are on the page.
func TestDiscoveryShowsConsul(t *testing.T) {
	f := newFixture(t)
	f.providers = append(f.providers, route.ProviderStatus{
		Name: "consul", Endpoint: "http://127.0.0.1:8500", Mode: "watching", KeySource: "TRAEFIK_CONSUL_CATALOG_TOKEN",
		LastSync: f.now.Add(-time.Second), LastSuccess: f.now.Add(-time.Second), Services: 4, Instances: 9, Routes: 3, Syncs: 2,
		Notes: []string{"exposed by default: every service registered in Consul is published, tagged or not"},
	})
	rec := get(t, f.server().Handler(), "/discovery")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	mustContain(t, "/discovery", rec.Body.String(), `id="provider-consul"`, "4 services · 9 instances",
		`<p class="note">exposed by default: every service registered in Consul is published, tagged or not</p>`,
		"keys from TRAEFIK_CONSUL_CATALOG_TOKEN")
}
