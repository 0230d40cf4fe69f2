package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rancher-edge/edge/certs"
	"github.com/rancher-edge/edge/edge"
	"github.com/rancher-edge/edge/route"
)

// tiles fetches /api/overview and returns the tiles' states by id and the
// warnings.
func tiles(t *testing.T, h http.Handler) (map[string]string, []Warning) {
	t.Helper()
	var p OverviewPage
	if err := json.Unmarshal(get(t, h, "/api/overview").Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string)
	for _, tl := range p.Tiles {
		out[tl.ID] = tl.State
	}
	return out, p.Warnings
}

func wantTiles(t *testing.T, got map[string]string, want map[string]string) {
	t.Helper()
	for id, w := range want {
		if got[id] != w {
			t.Errorf("tile %s is %q, want %q", id, got[id], w)
		}
	}
}

func findWarning(ws []Warning, kind, subject string) *Warning {
	for i := range ws {
		if ws[i].Kind == kind && strings.Contains(ws[i].Subject, subject) {
			return &ws[i]
		}
	}
	return nil
}

// goodWorld is an edge with nothing wrong: one route with a passing
// health check, a provider that synced, a certificate for the host.
func goodWorld(t *testing.T) (*fixture, Sources) {
	t.Helper()
	live := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(live.Close)
	srv, err := edge.New(edge.Config{HTTPAddr: ":0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	now := time.Now().Truncate(time.Second)
	srv.Update(route.Snapshot{Provider: "file", Built: now, Services: []route.Service{{
		Name: "app", Source: route.Source{Provider: "file", Service: "app"}, Rule: "Host:app.example.com",
		HealthCheck: &route.HealthCheck{Path: "/", Interval: time.Hour},
		Servers:     []route.Server{{URL: live.URL, Weight: 1, Name: "app-1"}},
	}}})
	f := &fixture{t: t, edge: srv, now: now}
	f.certs = []certs.Status{{ID: wildID, Names: []string{"*.example.com"}, Source: "file", State: certs.StateValid,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(300 * 24 * time.Hour), Default: true}}
	f.providers = []route.ProviderStatus{{Name: "file", Mode: "watching", LastSync: now, LastSuccess: now, Syncs: 1}}
	return f, f.sources()
}

func TestTilesAllGreenOnlyWhenNothingIsWrong(t *testing.T) {
	f, _ := goodWorld(t)
	got, ws := tiles(t, f.server().Handler())
	wantTiles(t, got, map[string]string{"discovery": "ok", "routes": "ok", "backends": "ok",
		"certificates": "ok", "hosts": "ok", "problems": "ok"})
	if len(ws) != 0 {
		t.Errorf("warnings in a good world: %+v", ws)
	}
}

// The fixture: Rancher failing after earlier successes, a failing backend
// next to a passing one, an expired and a failed certificate, two
// uncovered hosts, service problems.
func TestTilesShowWhatIsWrong(t *testing.T) {
	f := newFixture(t)
	f.waitFailing()
	h := f.server().Handler()
	got, ws := tiles(t, h)
	wantTiles(t, got, map[string]string{"discovery": "warn", "routes": "ok", "backends": "warn",
		"certificates": "bad", "hosts": "warn", "problems": "warn"})
	// 2 of the 4 certificates are ok: the skipped name is not one.
	mustContain(t, "overview", get(t, h, "/").Body.String(), `<span class="num">2<small>/4</small></span><span class="label">certificates ok</span>`,
		`id="tile-backends" data-state="warn" href="/routes?failing=1"`)
	w := findWarning(ws, "backend", "rancher/shop.api")
	if w == nil {
		t.Fatalf("no warning for the failing backend: %+v", ws)
	}
	if w.Link != "/routes#route-rancher-shop.api" || !strings.Contains(w.Subject, "http://127.0.0.1:1") || w.Severity != "warning" {
		t.Errorf("backend warning %+v", *w)
	}
	n := 0
	for _, w := range ws {
		if strings.Contains(w.Message, "is claimed by") {
			n++
			if w.Subject != "rancher:shop/api, rancher:shop/legacy" {
				t.Errorf("conflict subject %q", w.Subject)
			}
		}
	}
	if n != 1 {
		t.Errorf("the rule conflict is listed %d times, want once", n)
	}
}

func TestTileNeverSyncedProviderIsRed(t *testing.T) {
	f, _ := goodWorld(t)
	f.providers = append(f.providers, route.ProviderStatus{Name: "rancher", Mode: "events",
		LastSync: f.now, LastError: "dial tcp 127.0.0.1:1: connect: connection refused", ErrorSince: f.now.Add(-67 * time.Second), Errors: 3})
	h := f.server().Handler()
	got, ws := tiles(t, h)
	wantTiles(t, got, map[string]string{"discovery": "bad"})
	w := findWarning(ws, "discovery", "rancher")
	if w == nil || w.Severity != "error" || w.Link != "/discovery#provider-rancher" ||
		!strings.Contains(w.Message, "never synced") || !strings.Contains(w.Message, "failing for 1m 7s") {
		t.Errorf("never-synced warning %+v", w)
	}
	body := get(t, h, "/").Body.String()
	mustContain(t, "overview", body, `id="tile-discovery" data-state="bad"`, "1 never synced")

	// Starting, no error yet: amber, and said so.
	f.providers[1].LastError, f.providers[1].ErrorSince = "", time.Time{}
	got, ws = tiles(t, h)
	wantTiles(t, got, map[string]string{"discovery": "warn"})
	if w := findWarning(ws, "discovery", "rancher"); w == nil || w.Severity != "warning" || !strings.Contains(w.Message, "not synced yet") {
		t.Errorf("starting provider warning %+v", w)
	}
}

func TestTileUncoveredHostIsAmber(t *testing.T) {
	f, _ := goodWorld(t)
	f.certs[0].Names = []string{"*.other.org"}
	got, ws := tiles(t, f.server().Handler())
	wantTiles(t, got, map[string]string{"hosts": "warn", "certificates": "ok"})
	if w := findWarning(ws, "host", "app.example.com"); w == nil || w.Link != "/certificates#uncovered" {
		t.Errorf("uncovered host warning %+v", w)
	}
}

func TestTileStorageOutageIsRed(t *testing.T) {
	f, _ := goodWorld(t)
	h := f.server(func(c *Config) {
		c.Sources.Storage = func() StorageStatus {
			return StorageStatus{Backend: "etcd", Location: "https://etcd:2379", State: "unavailable", LastError: "context deadline exceeded"}
		}
	}).Handler()
	got, ws := tiles(t, h)
	wantTiles(t, got, map[string]string{"storage": "bad"})
	if w := findWarning(ws, "storage", "etcd"); w == nil || w.Severity != "error" || w.Link != "/certificates#storage" {
		t.Errorf("storage warning %+v", w)
	}
}

func TestTileRouteWithoutAnyBackendIsRed(t *testing.T) {
	f, _ := goodWorld(t)
	f.edge.Update(route.Snapshot{Provider: "file", Built: f.now, Services: []route.Service{{
		Name: "dead", Source: route.Source{Provider: "file", Service: "dead"}, Rule: "Host:app.example.com",
		HealthCheck: &route.HealthCheck{Path: "/", Interval: 20 * time.Millisecond, Timeout: 100 * time.Millisecond},
		Servers:     []route.Server{{URL: "http://127.0.0.1:1", Weight: 1, Name: "dead-1"}},
	}}})
	f.waitFailing()
	got, ws := tiles(t, f.server().Handler())
	wantTiles(t, got, map[string]string{"backends": "bad"})
	if w := findWarning(ws, "backend", "file/dead"); w == nil || w.Severity != "error" || !strings.Contains(w.Message, "503") {
		t.Errorf("dead route warning %+v", w)
	}
}

// countNouns are the nouns pages count; each count goes through plural.
const countNouns = `rows?|requests?|services?|routes?|stacks?|containers?|hosts?|users?|backends?|problems?|providers?|certificates?|errors?`

// The templates never put a number straight before a counted noun (which
// reads "1 rows"), nor "since" before a relative time (which reads "since
// 1m 7s ago").
func TestTemplatesGrammar(t *testing.T) {
	files, err := filepath.Glob("assets/templates/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates: %v", err)
	}
	bare := regexp.MustCompile(`\}\}[ \t]+(` + countNouns + `)\b`)
	since := regexp.MustCompile(`since \{\{(rel|age)\b|\{\{rel [^}]*\}\}\s*ago`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if m := bare.FindString(line); m != "" {
				t.Errorf("%s:%d: a count before %q without plural", f, i+1, m)
			}
			if m := since.FindString(line); m != "" {
				t.Errorf("%s:%d: %q reads \"since … ago\"", f, i+1, m)
			}
		}
	}
}

// And the pages, rendered over a world with ones everywhere, read right.
func TestPagesGrammar(t *testing.T) {
	f := newFixture(t)
	f.waitFailing()
	f.serve("static.example.com", "/", 1)
	f.providers[0].Routes = 1
	h := f.server().Handler()
	// One uncovered host, one certificate, one of everything on the tiles.
	g, _ := goodWorld(t)
	g.certs[0].Names = []string{"*.other.org"}
	g.serve("app.example.com", "/", 1)
	tags := regexp.MustCompile(`<[^>]*>`)
	wrong := regexp.MustCompile(`\b1 (` + strings.ReplaceAll(countNouns, "s?", "") + `)s\b|since [^.;)]{0,20} ago`)
	gh := g.server().Handler()
	for _, path := range []string{"/", "/routes", "/certificates", "/discovery", "g/", "g/routes", "g/certificates"} {
		hh := h
		if p, ok := strings.CutPrefix(path, "g"); ok {
			hh, path = gh, p
		}
		text := tags.ReplaceAllString(get(t, hh, path).Body.String(), " ")
		text = strings.Join(strings.Fields(text), " ")
		for _, m := range wrong.FindAllString(text, -1) {
			t.Errorf("%s reads %q", path, m)
		}
		if path == "/routes" && !strings.Contains(text, "1 request") {
			t.Errorf("/routes does not say \"1 request\"")
		}
	}
	body := get(t, h, "/routes").Body.String()
	mustContain(t, "routes", body, ">for ") // backend health age, not "since … ago"
	if got := plural(1, "row"); got != "1 row" {
		t.Errorf("plural(1) = %q", got)
	}
	if got := plural(uint64(0), "request"); got != "0 requests" {
		t.Errorf("plural(0) = %q", got)
	}
	if got := rel(f.now.Add(-67*time.Second), f.now); got != "1m 7s ago" {
		t.Errorf("rel = %q", got)
	}
}
