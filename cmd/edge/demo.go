package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rancher-edge/edge/certs"
	"github.com/rancher-edge/edge/discovery/rancher/ranchertest"
)

// demoContainers is how many whoami "containers" get a real backend, so the
// service can be scaled up to that many while the demo runs.
const demoContainers = 8

// demoBackendPort is where the demo's containers listen on their loopback
// addresses (127.0.0.2, 127.0.0.3, …).
const demoBackendPort = 9001

// demoMixedIP is the MixedCase/Api container's own address, and
// demoUnhealthyIP the address of the whoami container nothing answers on.
const (
	demoMixedIP     = "127.0.0.20"
	demoUnhealthyIP = "127.0.0.250"
)

// demoCertNames are the names of the demo's certificate: every host it
// routes, and the dashboard's address.
var demoCertNames = []string{"demo.localhost", "*.demo.localhost", "*.web.demo.localhost",
	"*.mixedcase.demo.localhost", "localhost", "127.0.0.1"}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// demo runs the edge against a fake Rancher with a small sample world: a
// self-signed wildcard for *.demo.localhost held as a secret file, a whoami
// service with three healthy containers answering on loopback addresses, an
// unhealthy one, a service without labels and a mixed-case stack.
func demo(ctx context.Context, e env, stdout, stderr io.Writer) error {
	dir, err := os.MkdirTemp("", "edge-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// One certificate for every host the demo routes (a wildcard covers
	// one label: *.demo.localhost does not cover whoami.web.demo.localhost)
	// and for the dashboard's own address.
	certPEM, keyPEM, err := certs.SelfSigned(demoCertNames, 90*24*time.Hour)
	if err != nil {
		return fmt.Errorf("generating the demo certificate: %w", err)
	}
	secretsDir := filepath.Join(dir, "secrets")
	if err := os.MkdirAll(secretsDir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(secretsDir, "wildcard_crt"), certPEM, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(secretsDir, "wildcard_key"), keyPEM, 0o600); err != nil {
		return err
	}
	// A copy to trust, outside the secrets directory.
	trustPath := filepath.Join(dir, "demo-ca.crt")
	if err := os.WriteFile(trustPath, certPEM, 0o644); err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	backends, err := startDemoBackends(ctx)
	if err != nil {
		return err
	}
	defer func() {
		for _, b := range backends {
			b.Close()
		}
	}()

	fake, world, err := ranchertest.NewDemo(ranchertest.DemoConfig{
		Options:     ranchertest.Options{EventDelay: 200 * time.Millisecond},
		Port:        demoBackendPort,
		MixedIP:     demoMixedIP,
		UnhealthyIP: demoUnhealthyIP,
		// The one deliberate problem: a container Rancher believes
		// healthy, whose address answers nothing; the edge's own health
		// check takes it out of rotation and the dashboard says so.
		HealthCheckPath: "/health",
	})
	if err != nil {
		return fmt.Errorf("starting the fake Rancher: %w", err)
	}
	defer fake.Close()
	// The Rancher keys are secrets like any other: files in the secrets
	// directory, named by alias, so neither the printed check command nor
	// the environment carries them.
	access, secret := fake.EnvironmentKey()
	if err := os.WriteFile(filepath.Join(secretsDir, "rancher_access"), []byte(access), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(secretsDir, "rancher_secret"), []byte(secret), 0o600); err != nil {
		return err
	}

	routes := filepath.Join(dir, "routes.yaml")
	if err := os.WriteFile(routes, []byte(demoRoutes), 0o644); err != nil {
		return err
	}
	// The demo's own values sit under the user's environment and flags, so
	// `edge demo --https-port 9443` works.
	defaults := map[string]string{
		"TRAEFIK_HTTP_PORT":         "8080",
		"TRAEFIK_HTTPS_PORT":        "8443",
		"TRAEFIK_SECRETS_DIR":       secretsDir,
		"TRAEFIK_SSL_CERT":          "wildcard_crt",
		"TRAEFIK_SSL_PRIVATE_KEY":   "wildcard_key",
		"TRAEFIK_FILE":              routes,
		"TRAEFIK_RANCHER_ENDPOINT":  fake.ProjectURL(),
		"TRAEFIK_RANCHER_ACCESSKEY": "rancher_access",
		"TRAEFIK_RANCHER_SECRET":    "rancher_secret",
		"TRAEFIK_RANCHER_DOMAIN":    "demo.localhost",
		"TRAEFIK_ACCESS_LOG":        "common",
	}
	de := env{flags: e.flags, getenv: func(name string) string {
		if v := e.getenv(name); v != "" {
			return v
		}
		return defaults[name]
	}}
	cfg, err := loadConfig(de)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", indent(err))
	}
	// The printed check reads the demo's own configuration, Rancher
	// included, from a file of shell assignments (no secret in it: the
	// keys are aliases of files in the secrets directory).
	envFile := filepath.Join(dir, "demo.env")
	var envText strings.Builder
	for _, k := range slices.Sorted(maps.Keys(defaults)) {
		fmt.Fprintf(&envText, "%s=%s\n", k, shellQuote(de.get(k)))
	}
	if err := os.WriteFile(envFile, []byte(envText.String()), 0o600); err != nil {
		return err
	}
	https := strconv.Itoa(cfg.HTTPSPort)
	fmt.Fprintf(stdout, `
rancher-edge demo
=================
A fake Rancher at %s serves stack "web" (service whoami: 3 containers on
127.0.0.2-4:%d and a 4th on %s that Rancher believes healthy but that
answers nothing; service nolabels: not routed) and stack "MixedCase"
(service Api on %s). The edge's health check takes the 4th whoami
container out of rotation: the dashboard's one warning, on purpose.
One self-signed certificate covers every demo host (%s);
it is read from the secret files in %s.

Try:
  curl -k https://whoami.web.demo.localhost:%s/         # round robin over 3 containers
  curl -k https://api.mixedcase.demo.localhost:%s/      # mixed-case stack, lower-cased host
  curl -k https://static.demo.localhost:%s/             # a route from the routes file
  curl -i http://whoami.web.demo.localhost:%d/some/path?q=1   # redirected to HTTPS
  curl -k https://nothing.demo.localhost:%s/            # 404: no route

Scale whoami up by one container and watch it join the rotation within a second:
  %s
  for i in 1 2 3 4 5 6 7 8; do curl -sk https://whoami.web.demo.localhost:%s/ | grep -m1 container; done

The dashboard (routes, traffic, backends and their health, certificates,
discovery) is at https://127.0.0.1:%d/ (loopback only: no
TRAEFIK_ADMIN_USERS set). Your browser will warn that the certificate is
not trusted: the demo made it a minute ago and signed it itself. Accept
the warning once, or trust it: import %s
as a certificate authority (Firefox: Settings, Certificates, Import; on
Debian for curl and Chromium: copy it to /usr/local/share/ca-certificates/
and run update-ca-certificates); curl takes it with --cacert instead of -k.

Check the demo's configuration (certificates, routes file, Rancher) the way
an operator would:
  (set -a; . %s; go run ./cmd/edge check)

Ctrl-C stops everything.

`, fake.URL(), demoBackendPort, demoUnhealthyIP, demoMixedIP, strings.Join(demoCertNames, ", "), secretsDir,
		https, https, https, cfg.HTTPPort, https, world.ScaleCommand, https, cfg.Admin.Port, trustPath, envFile)
	return serve(ctx, cfg, de, stderr)
}

const demoRoutes = `# Static routes next to Rancher's, described with the same labels.
services:
  - name: static
    labels:
      traefik.frontend.rule: "Host:static.demo.localhost"
      traefik.port: "9001"
      traefik.frontend.headers.customResponseHeaders: "X-Served-By:rancher-edge"
    servers: ["127.0.0.2"]
`

// startDemoBackends starts one small HTTP server per demo container
// address. Each answers with the container it stands for and what it saw.
func startDemoBackends(ctx context.Context) ([]*http.Server, error) {
	type container struct{ name, ip string }
	var all []container
	for i := 1; i <= demoContainers; i++ {
		all = append(all, container{fmt.Sprintf("web-whoami-%d", i), "127.0.0." + strconv.Itoa(i+1)})
	}
	all = append(all, container{"MixedCase-Api-1", demoMixedIP})
	var out []*http.Server
	for _, c := range all {
		name, ip := c.name, c.ip
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(demoBackendPort)))
		if err != nil {
			for _, s := range out {
				s.Close()
			}
			return nil, fmt.Errorf("starting demo container %s on %s: %w", name, ip, err)
		}
		srv := &http.Server{
			Handler:           whoami(name, ip),
			ReadHeaderTimeout: 5 * time.Second,
			BaseContext:       func(net.Listener) context.Context { return ctx },
		}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				fmt.Fprintln(os.Stderr, "demo backend:", err)
			}
		}()
		out = append(out, srv)
	}
	return out, nil
}

func whoami(name, ip string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(map[string]any{
			"container": name,
			"address":   ip,
			"method":    r.Method,
			"host":      r.Host,
			"path":      r.URL.Path,
			"query":     r.URL.RawQuery,
			"headers":   r.Header,
		})
	})
}
