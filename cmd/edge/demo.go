package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
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

	certPEM, keyPEM, err := certs.SelfSigned([]string{"*.demo.localhost", "demo.localhost"}, 90*24*time.Hour)
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
		Options: ranchertest.Options{EventDelay: 200 * time.Millisecond},
		Port:    demoBackendPort,
	})
	if err != nil {
		return fmt.Errorf("starting the fake Rancher: %w", err)
	}
	defer fake.Close()
	access, secret := fake.EnvironmentKey()

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
		"TRAEFIK_RANCHER_ACCESSKEY": access,
		"TRAEFIK_RANCHER_SECRET":    secret,
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
	https := strconv.Itoa(cfg.HTTPSPort)
	fmt.Fprintf(stdout, `
rancher-edge demo
=================
A fake Rancher at %s serves stack "web" (service whoami: 3 healthy
containers on 127.0.0.2-4:%d, 1 unhealthy one that gets no traffic; service
nolabels: not routed) and stack "MixedCase" (service Api).
The wildcard certificate for *.demo.localhost is read from the secret files
in %s.

Try:
  curl -k https://whoami.web.demo.localhost:%s/         # round robin over 3 containers
  curl -k https://api.mixedcase.demo.localhost:%s/      # mixed-case stack, lower-cased host
  curl -k https://static.demo.localhost:%s/             # a route from the routes file
  curl -i http://whoami.web.demo.localhost:%d/some/path?q=1   # redirected to HTTPS
  curl -k https://nothing.demo.localhost:%s/            # 404: no route

Scale whoami up by one container and watch it join the rotation within a second:
  %s
  for i in 1 2 3 4 5 6 7 8; do curl -sk https://whoami.web.demo.localhost:%s/ | grep -m1 container; done

The dashboard (routes, backends and their health, certificates, discovery)
is at https://127.0.0.1:%d/ (loopback only: no TRAEFIK_ADMIN_USERS set).

Check the configuration the way an operator would:
  TRAEFIK_FILE=%s go run ./cmd/edge check

Ctrl-C stops everything.

`, fake.URL(), demoBackendPort, secretsDir, https, https, https, cfg.HTTPPort, https, world.ScaleCommand, https, cfg.Admin.Port, routes)
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
	var out []*http.Server
	for i := 1; i <= demoContainers; i++ {
		ip := "127.0.0." + strconv.Itoa(i+1)
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(demoBackendPort)))
		if err != nil {
			for _, s := range out {
				s.Close()
			}
			return nil, fmt.Errorf("starting demo container %d on %s: %w", i, ip, err)
		}
		name := fmt.Sprintf("web-whoami-%d", i)
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
