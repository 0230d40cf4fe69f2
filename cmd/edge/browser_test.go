package main

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/rancher-edge/edge/certs/acme/pebbletest"
	"github.com/rancher-edge/edge/discovery/rancher/ranchertest"
)

// TestDashboardInABrowser runs the whole edge (fake Rancher, a
// secret-held wildcard, ACME against Pebble, the dashboard over HTTPS
// with basic auth) and drives headless Chromium through every page: each
// loads, shows the expected rows and logs no console error, and a service
// scaled up in Rancher appears on the Routes page without a reload.
// Screenshots land in artifacts/screenshots. `make test` installs Debian's
// chromium first (deps-test); a missing browser fails the test rather than
// skipping it, so CI cannot pass without it. -short skips it.
func TestDashboardInABrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed; `make deps-test` (part of `make test`) installs it")
	}
	ca := pebbletest.Start(t) // not parallel: Pebble is configured through the environment
	ca.ReleasePorts()

	// The whoami containers of the demo answer on every loopback address.
	whoami, backendPort := startLoopbackWhoami(t)
	defer whoami.Close()
	rancher, demo, err := ranchertest.NewDemo(ranchertest.DemoConfig{Port: backendPort})
	if err != nil {
		t.Fatal(err)
	}
	defer rancher.Close()

	dir := t.TempDir()
	wildCert, wildKey, _ := writeCert(t, dir, "wild", "*.web.example.test")
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret-dashboard"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	users := filepath.Join(dir, "users")
	if err := os.WriteFile(users, []byte("ops:"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A route whose only backend refuses connections, for a 502 in the
	// recent errors.
	routes := filepath.Join(dir, "routes.yaml")
	if err := os.WriteFile(routes, []byte(brokenRoutes), 0o644); err != nil {
		t.Fatal(err)
	}
	adminPort := freePort(t)
	env := rancherACMEEnv(ca, rancher, wildCert, wildKey, filepath.Join(dir, "acme"))
	env["TRAEFIK_ADMIN_PORT"] = strconv.Itoa(adminPort)
	env["TRAEFIK_ADMIN_USERS"] = users
	env["TRAEFIK_FILE"] = routes
	stop := startEdgeProcess(t, env)
	defer stop()

	base := "https://127.0.0.1:" + strconv.Itoa(adminPort)
	api := newDashAPI(base, "ops", "s3cret-dashboard")
	// The routed hosts of the demo: one under the wildcard, one that
	// ACME must obtain from Pebble.
	const wildHost, acmeHost = "whoami.web.example.test", "api.mixedcase.example.test"
	dashWait(t, 30*time.Second, "a Pebble certificate for "+acmeHost, func() bool {
		var page struct {
			Certificates []struct {
				Names  []string `json:"names"`
				Source string   `json:"source"`
				SHA256 string   `json:"sha256"`
			} `json:"certificates"`
		}
		if api.getJSON("/api/certificates", &page) != nil {
			return false
		}
		for _, c := range page.Certificates {
			if c.Source == "acme" && c.SHA256 != "" && len(c.Names) > 0 && c.Names[0] == acmeHost {
				return true
			}
		}
		return false
	})
	if code := api.status("/api/overview", false); code != http.StatusUnauthorized {
		t.Errorf("the API without credentials answered %d, want 401", code)
	}
	sendHTTPSTraffic(t, ca.TLSPort, wildHost, 6)

	ctx, messages := startBrowser(t, chromium, "ops", "s3cret-dashboard")
	shots := filepath.Join(moduleRoot(t), "artifacts", "screenshots")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	pages := []struct {
		name, path string
		wants      []string
	}{
		{"overview", "/", []string{"Overview", "routes", "backends available", "rancher", "Warnings", ":" + strconv.Itoa(ca.TLSPort)}},
		{"routes", "/routes", []string{"Host:" + wildHost, "Host:" + acmeHost, "stack web", "service whoami", "not checked"}},
		{"certificates", "/certificates", []string{"*.web.example.test", "TRAEFIK_SSL_CERT", acmeHost, ca.DirectoryURL, "Pebble", "valid", "SHA-256"}},
		{"discovery", "/discovery", []string{"rancher", rancher.ProjectURL(), "mode events", "keys from TRAEFIK_RANCHER_ACCESSKEY", "2 stacks"}},
	}
	for _, p := range pages {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+p.path), chromedp.WaitVisible(chromedp.CSS("main"))); err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		for _, w := range p.wants {
			if !strings.Contains(text, w) {
				t.Errorf("%s page does not show %q", p.name, w)
			}
		}
		if strings.Contains(text, env["TRAEFIK_RANCHER_SECRET"]) {
			t.Errorf("%s page shows the Rancher secret key", p.name)
		}
		saveScreenshot(t, ctx, filepath.Join(shots, p.name+".png"))
	}
	for _, p := range []string{"overview", "routes", "certificates"} {
		path := "/" + strings.TrimPrefix(p, "overview")
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)),
			chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS("main"))); err != nil {
			t.Fatal(err)
		}
		// Nothing makes the page itself scroll sideways on a phone.
		if wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)); err != nil || wide {
			t.Errorf("%s page is wider than a 390 px phone (%v)", p, err)
		}
		saveScreenshot(t, ctx, filepath.Join(shots, p+"-phone.png"))
	}
	// Scale whoami up in Rancher while the Routes page is open: the new
	// container's backend appears through the poller, without a reload
	// (the marker set on the window survives).
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(base+"/routes"), chromedp.WaitVisible(chromedp.CSS("main")),
		chromedp.Evaluate[chromedp.Void](`window.__notReloaded = true`)); err != nil {
		t.Fatal(err)
	}
	before, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("table.backends tbody tr").length`))
	if err != nil {
		t.Fatal(err)
	}
	added := rancher.Scale(demo.Whoami, 5)
	if len(added) == 0 {
		t.Fatal("scaling added no container")
	}
	newIP := "127.0.0.6" // the demo's fifth whoami container
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](
		fmt.Sprintf(`document.querySelector("main").textContent.includes(%q)`, newIP+":"+strconv.Itoa(backendPort)),
		chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		t.Fatalf("the scaled-up container never appeared on the Routes page: %v", err)
	}
	after, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("table.backends tbody tr").length`))
	if err != nil {
		t.Fatal(err)
	}
	kept, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__notReloaded === true`))
	if err != nil || !kept {
		t.Errorf("the page was reloaded to show the new backend (%v)", err)
	}
	if after <= before {
		t.Errorf("backend rows: %d before scaling, %d after", before, after)
	}
	saveScreenshot(t, ctx, filepath.Join(shots, "routes-scaled.png"))

	checkLiveTraffic(t, ctx, base, ca.TLSPort, wildHost)
	saveScreenshot(t, ctx, filepath.Join(shots, "routes-traffic.png"))
	checkSearch(t, ctx, acmeHost)
	saveScreenshot(t, ctx, filepath.Join(shots, "routes-search.png"))

	for _, m := range messages() {
		t.Errorf("browser console: %s %s:%d %s", m.Type, m.URL, m.Line+1, m.Text)
	}
}

const brokenRoutes = `services:
  - name: broken
    labels:
      traefik.frontend.rule: "Host:broken.web.example.test"
      traefik.port: "1"
    servers: ["127.0.0.1"]
`

// TestDashboardShowsTroubleInABrowser runs an edge whose Rancher never
// answers and whose only certificate does not cover its routed host: the
// overview, in Chromium, shows discovery red and the hosts tile amber, each
// with its warning.
func TestDashboardShowsTroubleInABrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed; `make deps-test` (part of `make test`) installs it")
	}
	dir := t.TempDir()
	cert, key, _ := writeCert(t, dir, "other", "other.example.test")
	routes := filepath.Join(dir, "routes.yaml")
	if err := os.WriteFile(routes, []byte(strings.ReplaceAll(brokenRoutes, "broken.web.example.test", "lonely.example.test")), 0o644); err != nil {
		t.Fatal(err)
	}
	adminPort := freePort(t)
	stop := startEdgeProcess(t, map[string]string{
		"TRAEFIK_HTTP_PORT":         strconv.Itoa(freePort(t)),
		"TRAEFIK_HTTPS_PORT":        strconv.Itoa(freePort(t)),
		"TRAEFIK_SSL_CERT":          cert,
		"TRAEFIK_SSL_PRIVATE_KEY":   key,
		"TRAEFIK_FILE":              routes,
		"TRAEFIK_RANCHER_ENDPOINT":  "http://127.0.0.1:1/v2-beta/projects/1a5", // nothing listens
		"TRAEFIK_RANCHER_ACCESSKEY": "access",
		"TRAEFIK_RANCHER_SECRET":    "never-shown-secret",
		"TRAEFIK_ADMIN_PORT":        strconv.Itoa(adminPort),
	})
	defer stop()
	base := "https://127.0.0.1:" + strconv.Itoa(adminPort)
	api := newDashAPI(base, "", "")
	dashWait(t, 15*time.Second, "rancher to have failed", func() bool {
		var p struct {
			Tiles []struct{ ID, State string } `json:"tiles"`
		}
		if api.getJSON("/api/overview", &p) != nil {
			return false
		}
		for _, tl := range p.Tiles {
			if tl.ID == "discovery" && tl.State == "bad" {
				return true
			}
		}
		return false
	})
	ctx, messages := startBrowser(t, chromium, "", "")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#tile-discovery"))); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"discovery": "bad", "hosts": "warn", "routes": "ok"} {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.getElementById("tile-%s").dataset.state`, id)))
		if err != nil || got != want {
			t.Errorf("tile %s is %q, want %q (%v)", id, got, want, err)
		}
	}
	// Red and amber are what a person sees: the tile's left border.
	colors, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`["tile-discovery", "tile-hosts", "tile-routes"].map(id => getComputedStyle(document.getElementById(id)).borderLeftColor)`))
	if err != nil || len(colors) != 3 || colors[0] == colors[1] || colors[1] == colors[2] || colors[0] == colors[2] {
		t.Errorf("tile colours red, amber, green: %v (%v)", colors, err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"has never synced", "1 never synced", "lonely.example.test", "connection refused"} {
		if !strings.Contains(text, w) {
			t.Errorf("overview does not show %q", w)
		}
	}
	if strings.Contains(text, "never-shown-secret") {
		t.Error("the overview shows the Rancher secret")
	}
	shots := filepath.Join(moduleRoot(t), "artifacts", "screenshots")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, ctx, filepath.Join(shots, "overview-trouble.png"))
	for _, m := range messages() {
		t.Errorf("browser console: %s %s:%d %s", m.Type, m.URL, m.Line+1, m.Text)
	}
}

// startBrowser starts headless Chromium with a fresh profile, sends basic
// auth credentials with every request, and records console errors and
// uncaught exceptions.
func startBrowser(t *testing.T, path, user, password string) (context.Context, func() []chromedp.ConsoleMessage) {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// The dashboard presents the secret-held wildcard, which no
		// browser trusts; the test checks content, not the PKI.
		chromedp.IgnoreCertErrors,
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})

	var mu sync.Mutex
	var bad []chromedp.ConsoleMessage
	console := chromedp.Console(ctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return // the browser is gone
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				mu.Lock()
				bad = append(bad, m)
				mu.Unlock()
			}
		}
	}()
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders,
			network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": auth}})
		return err
	}))
	if err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx, func() []chromedp.ConsoleMessage {
		mu.Lock()
		defer mu.Unlock()
		return append([]chromedp.ConsoleMessage(nil), bad...)
	}
}

func saveScreenshot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", path, err)
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

// startLoopbackWhoami serves a small whoami on every loopback address, so the
// demo's containers (127.0.0.2 and up) are all reachable.
func startLoopbackWhoami(t *testing.T) (io.Closer, int) {
	t.Helper()
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			host, _, _ := net.SplitHostPort(r.Context().Value(http.LocalAddrContextKey).(net.Addr).String())
			fmt.Fprintf(w, "container %s saw %s %s\n", host, r.Host, r.URL.Path)
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	return srv, ln.Addr().(*net.TCPAddr).Port
}

// sendHTTPSTraffic makes n requests to host through the edge's HTTPS port, so
// the Routes page has counters to show.
func sendHTTPSTraffic(t *testing.T, httpsPort int, host string, n int) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: host}, //nolint:gosec // test traffic
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+strconv.Itoa(httpsPort))
		},
	}}
	defer c.CloseIdleConnections()
	for range n {
		resp, err := c.Get("https://" + host + "/")
		if err != nil {
			t.Fatalf("request through the edge: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// dashAPI talks to the dashboard's API the way a script would.
type dashAPI struct {
	base, user, password string
	c                    *http.Client
}

func newDashAPI(base, user, password string) *dashAPI {
	return &dashAPI{base: base, user: user, password: password, c: &http.Client{Timeout: 5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}} //nolint:gosec // test CA
}

func (a *dashAPI) do(path string, auth bool) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, a.base+path, nil)
	if err != nil {
		return nil, err
	}
	if auth {
		req.SetBasicAuth(a.user, a.password)
	}
	return a.c.Do(req)
}

func (a *dashAPI) status(path string, auth bool) int {
	resp, err := a.do(path, auth)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (a *dashAPI) getJSON(path string, v any) error {
	resp, err := a.do(path, true)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func dashWait(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// moduleRoot is the module root, where artifacts/ lives.
func moduleRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}
