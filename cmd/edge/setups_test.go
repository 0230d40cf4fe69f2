package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rancher-edge/edge/certs"
	"github.com/rancher-edge/edge/discovery/rancher/ranchertest"
)

// TestDocumentedSetups feeds the environments the community images
// documented — mch1307's blog post, the Rancher 1.6 community catalog's
// docker-compose (templates/traefik/33, default answers, api and metadata
// modes) and rawmind0's README — through `edge check` and `edge serve`,
// and asserts what the edge makes of them.
func TestDocumentedSetups(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "whoami %s %s", r.Host, strings.Repeat(".", 2000))
	}))
	defer backend.Close()
	_, bport, _ := net.SplitHostPort(strings.TrimPrefix(backend.URL, "http://"))
	rancher, err := ranchertest.New(ranchertest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rancher.Close()
	// The blog's application: stack iamfoo, service whoami, its labels.
	stack := rancher.AddStack(ranchertest.StackSpec{Name: "iamfoo"})
	rancher.AddService(stack, ranchertest.ServiceSpec{
		Name: "whoami", Scale: 2, IP: func(int) string { return "127.0.0.1" },
		Labels: map[string]string{"traefik.enable": "true", "traefik.port": bport, "traefik.frontend.rule": "Host:whoami.domain.com"},
	})
	access, secret := rancher.EnvironmentKey()
	// check reads rancher-metadata once in metadata mode: the real server,
	// through a loopback relay, stands in for rancher-metadata.rancher.internal.
	_, metadataURL := metadataRelay(t, labelledWhoami(bport, "127.0.0.1"))

	dir := t.TempDir()
	certPEM, keyPEM, err := certs.SelfSigned([]string{"*.domain.com"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{"rancher_access": []byte(access + "\n"), "rancher_secret": []byte(secret + "\n"), "wildcard_crt": certPEM, "wildcard_key": keyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// What Rancher injects with the catalog's create_agent labels.
	cattle := map[string]string{"CATTLE_URL": rancher.URL() + "/v1", "CATTLE_ACCESS_KEY": access, "CATTLE_SECRET_KEY": secret}
	// The catalog's docker-compose.yml.tpl with its default answers.
	catalog := map[string]string{
		"TRAEFIK_HTTP_PORT": "8080", "TRAEFIK_HTTP_COMPRESSION": "true", "TRAEFIK_HTTPS_PORT": "8443",
		"TRAEFIK_HTTPS_ENABLE": "false", "TRAEFIK_HTTPS_COMPRESSION": "true", "TRAEFIK_USAGE_ENABLE": "false",
		"TRAEFIK_TIMEOUT_READ": "0", "TRAEFIK_TIMEOUT_WRITE": "0", "TRAEFIK_TIMEOUT_IDLE": "180", "TRAEFIK_TIMEOUT_DIAL": "30", "TRAEFIK_TIMEOUT_HEADER": "0",
		"TRAEFIK_HTTPS_MIN_TLS": "VersionTLS12", "TRAEFIK_INSECURE_SKIP": "false",
		"TRAEFIK_ADMIN_ENABLE": "true", "TRAEFIK_ADMIN_PORT": "8000", "TRAEFIK_ADMIN_SSL": "false", "TRAEFIK_ADMIN_STATISTICS": "10",
		"TRAEFIK_ADMIN_AUTH_METHOD": "basic", "TRAEFIK_ADMIN_AUTH_USERS": "",
		"TRAEFIK_RANCHER_ENABLE": "true", "TRAEFIK_FILE_ENABLE": "false", "TRAEFIK_CONSTRAINTS": "", "TRAEFIK_RANCHER_HEALTHCHECK": "false",
	}
	with := func(base map[string]string, more ...map[string]string) map[string]string {
		out := map[string]string{}
		for _, m := range append([]map[string]string{base}, more...) {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}

	for _, tc := range []struct {
		name string
		env  map[string]string
		// what check must say, and what the loaded configuration is
		checkSays []string
		effective func(t *testing.T, cfg config)
		// serve: the scheme the route is served on ("" skips serving)
		serveOn string
	}{{
		name: "mch1307 blog post",
		env: map[string]string{
			"TRAEFIK_RANCHER_ACCESSKEY": filepath.Join(dir, "rancher_access"),
			"TRAEFIK_RANCHER_SECRET":    filepath.Join(dir, "rancher_secret"),
			"TRAEFIK_SSL_CERT":          filepath.Join(dir, "wildcard_crt"),
			"TRAEFIK_SSL_PRIVATE_KEY":   filepath.Join(dir, "wildcard_key"),
			"TRAEFIK_RANCHER_ENDPOINT":  rancher.URL() + "/v1",
			"TRAEFIK_RANCHER_DOMAIN":    "domain.com",
		},
		checkSays: []string{"*.domain.com", "looks written for mch1307/rancher-traefik", "TRAEFIK_RANCHER_RULE_ORDER=stack.service", "configuration OK"},
		effective: func(t *testing.T, cfg config) {
			rc := cfg.Rancher
			if !cfg.HTTPSEnable || cfg.HTTPPort != 80 || cfg.HTTPSPort != 443 || cfg.RedirectCode != 302 || cfg.Admin.Port != 8000 ||
				len(cfg.Pairs) != 1 || rc == nil || rc.KeySource != "TRAEFIK_RANCHER_ACCESSKEY" || string(rc.AccessKey.Bytes()) != access ||
				rc.Domain != "domain.com" || !rc.Exposed || rc.RuleOrder != "service.stack" || cfg.Admin.Users.IsZero() != true {
				t.Errorf("effective configuration %+v / %+v", cfg, rc)
			}
		},
		serveOn: "https",
	}, {
		name: "community catalog, api mode",
		env:  with(catalog, map[string]string{"TRAEFIK_RANCHER_MODE": "api"}, cattle),
		checkSays: []string{"looks written for rawmind0/alpine-traefik", "TRAEFIK_RANCHER_EXPOSED unset: rawmind0's default was false",
			"TRAEFIK_USAGE_ENABLE is ignored", "configuration OK"},
		effective: func(t *testing.T, cfg config) {
			rc := cfg.Rancher
			if cfg.HTTPSEnable || cfg.HTTPPort != 8080 || !cfg.CompressHTTP || !cfg.CompressHTTPS || cfg.BackendInsecure ||
				!cfg.Admin.Dashboard || cfg.Admin.TLS != "false" || rc == nil || rc.EndpointSource != "CATTLE_URL" || rc.KeySource != "CATTLE_ACCESS_KEY" ||
				rc.HealthFilter || len(rc.Constraints) != 0 || cfg.File != "" {
				t.Errorf("effective configuration %+v / %+v", cfg, rc)
			}
		},
		serveOn: "http",
	}, {
		name: "community catalog, metadata mode (the default)",
		env:  with(catalog, map[string]string{"TRAEFIK_RANCHER_MODE": "metadata", "TRAEFIK_CONSTRAINTS": `"tag==web"`}),
		checkSays: []string{"rancher-metadata: " + metadataURL + "/latest", "TRAEFIK_RANCHER_PREFIX unset: rawmind0's default was /2016-07-29",
			"rancher-metadata: read 1 stack, 1 service, 1 container", "configuration OK"},
		effective: func(t *testing.T, cfg config) {
			mc := cfg.Metadata
			if cfg.Rancher != nil || mc == nil || mc.URL != "http://rancher-metadata.rancher.internal" || strings.Join(mc.Constraints, ",") != "tag==web" {
				t.Errorf("effective configuration %+v / %+v", cfg.Rancher, mc)
			}
		},
	}, {
		name: "rawmind0 README",
		env: with(map[string]string{
			"TRAEFIK_HTTPS_ENABLE": "only", "TRAEFIK_SSL_CRT": string(certPEM), "TRAEFIK_SSL_KEY": string(keyPEM),
			"TRAEFIK_ADMIN_ENABLE": "true", "TRAEFIK_LOG_LEVEL": "INFO", "TRAEFIK_DEBUG": "false", "TRAEFIK_INSECURE_SKIP": "false",
			"TRAEFIK_LOG_FILE": "/opt/traefik/log/traefik.log", "TRAEFIK_ACCESS_FILE": "/opt/traefik/log/access.log",
			"TRAEFIK_RANCHER_ENABLE": "true", "TRAEFIK_RANCHER_REFRESH": "15", "TRAEFIK_RANCHER_MODE": "api",
			"TRAEFIK_RANCHER_DOMAIN": "rancher.internal", "TRAEFIK_RANCHER_EXPOSED": "false", "TRAEFIK_RANCHER_HEALTHCHECK": "true",
			"TRAEFIK_PROMETHEUS_ENABLE": "true", "TRAEFIK_PROMETHEUS_BUCKETS": "[0.1,0.3,1.2,5.0]",
		}, cattle),
		checkSays: []string{"looks written for rawmind0/alpine-traefik", "TRAEFIK_HTTP_PORT unset: rawmind0's default was 8080", "configuration OK"},
		effective: func(t *testing.T, cfg config) {
			rc := cfg.Rancher
			if !cfg.HTTPSEnable || len(cfg.Pairs) != 1 || cfg.LogFile != "" || cfg.AccessFile != "" || !cfg.Admin.PublicMetrics ||
				rc == nil || rc.Exposed || !rc.HealthFilter || rc.Refresh != 15*time.Second || rc.Domain != "rancher.internal" {
				t.Errorf("effective configuration %+v / %+v", cfg, rc)
			}
		},
		serveOn: "https",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			checkEnv := tc.env
			if tc.env["TRAEFIK_RANCHER_MODE"] == "metadata" {
				checkEnv = with(tc.env, map[string]string{"TRAEFIK_RANCHER_METADATA_URL": metadataURL})
			}
			var out bytes.Buffer
			if err := run(context.Background(), []string{"check"}, mapEnv(checkEnv), &out, io.Discard); err != nil {
				t.Fatalf("check: %v\n%s", err, out.String())
			}
			for _, want := range tc.checkSays {
				if !strings.Contains(out.String(), want) {
					t.Errorf("check does not say %q:\n%s", want, out.String())
				}
			}
			cfg, err := loadConfig(env2(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			tc.effective(t, cfg)
			if tc.serveOn == "" {
				return
			}
			// The same environment, on free ports.
			env := with(tc.env, map[string]string{
				"TRAEFIK_HTTP_PORT": strconv.Itoa(freePort(t)), "TRAEFIK_HTTPS_PORT": strconv.Itoa(freePort(t)),
				"TRAEFIK_ADMIN_PORT": strconv.Itoa(freePort(t)), "TRAEFIK_RANCHER_REFRESH": "1",
			})
			stop := startEdgeProcess(t, env)
			defer stop()
			port := env["TRAEFIK_HTTP_PORT"]
			if tc.serveOn == "https" {
				port = env["TRAEFIK_HTTPS_PORT"]
			}
			roots := x509.NewCertPool()
			roots.AppendCertsFromPEM(certPEM)
			client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
				TLSClientConfig: &tls.Config{RootCAs: roots},
				DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
					_, p, _ := net.SplitHostPort(addr)
					return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+p)
				},
			}}
			url := tc.serveOn + "://whoami.domain.com:" + port + "/"
			deadline := time.Now().Add(15 * time.Second)
			for {
				resp, err := client.Get(url)
				if err == nil {
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode == 200 && strings.HasPrefix(string(body), "whoami whoami.domain.com") {
						break
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s never served the blog's whoami: %v", url, err)
				}
				time.Sleep(100 * time.Millisecond)
			}
			// The health check the catalog points at the admin port (over
			// TLS when the edge has certificates, TRAEFIK_ADMIN_TLS's
			// default).
			pc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
			resp, err := pc.Get(tc.serveOn + "://127.0.0.1:" + env["TRAEFIK_ADMIN_PORT"] + "/ping")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("/ping: %d", resp.StatusCode)
			}
		})
	}
}

// TestGlobalConstraintsFilterRancher: the catalog's TRAEFIK_CONSTRAINTS
// keeps the services it filtered out of the routes, ANDed with
// TRAEFIK_RANCHER_CONSTRAINTS (check reads Rancher once, as serve would).
func TestGlobalConstraintsFilterRancher(t *testing.T) {
	rancher, err := ranchertest.New(ranchertest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rancher.Close()
	stack := rancher.AddStack(ranchertest.StackSpec{Name: "shop"})
	for name, tags := range map[string]string{"api": "api,prod", "apistaging": "api,staging", "web": "web"} {
		rancher.AddService(stack, ranchertest.ServiceSpec{
			Name: name, Scale: 1, IP: func(int) string { return "10.42.0.9" },
			Labels: map[string]string{"traefik.port": "80", "traefik.tags": tags},
		})
	}
	access, secret := rancher.EnvironmentKey()
	env := map[string]string{
		"TRAEFIK_HTTPS_ENABLE": "false", "TRAEFIK_ADMIN_PORT": "0",
		"CATTLE_URL": rancher.ProjectURL(), "CATTLE_ACCESS_KEY": access, "CATTLE_SECRET_KEY": secret,
		"TRAEFIK_RANCHER_ENABLE": "true", "TRAEFIK_RANCHER_MODE": "api",
		"TRAEFIK_CONSTRAINTS": `"tag==api"`, "TRAEFIK_RANCHER_CONSTRAINTS": "tag!=staging",
	}
	out, err := checkOnly(env)
	if err != nil {
		t.Fatalf("check: %v\n%s", err, out)
	}
	if !strings.Contains(out, "Host:api.shop") || strings.Contains(out, "Host:web.shop") || strings.Contains(out, "Host:apistaging.shop") {
		t.Errorf("routes do not follow tag==api AND tag!=staging:\n%s", out)
	}
}

// TestTrustedIPsAcceptProxyProtocol: rawmind0's TRAEFIK_TRUSTEDIPS lets
// the load balancer at those addresses send the PROXY protocol; the
// client it names reaches the backend as X-Forwarded-For.
func TestTrustedIPsAcceptProxyProtocol(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.Header.Get("X-Forwarded-For"))
	}))
	defer backend.Close()
	_, bport, _ := net.SplitHostPort(strings.TrimPrefix(backend.URL, "http://"))
	routes := filepath.Join(t.TempDir(), "routes.yaml")
	os.WriteFile(routes, []byte(`services:
  - name: app
    labels:
      traefik.frontend.rule: "Host:app.example.com"
      traefik.port: "`+bport+`"
    servers: ["127.0.0.1"]
`), 0o644)
	env := quietPorts(t, map[string]string{"TRAEFIK_HTTPS_ENABLE": "false", "TRAEFIK_TRUSTEDIPS": "127.0.0.0/8", "TRAEFIK_FILE": routes})
	stop := startEdgeProcess(t, env)
	defer stop()
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.Dial("tcp", "127.0.0.1:"+env["TRAEFIK_HTTP_PORT"])
		if err == nil {
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(conn, "PROXY TCP4 198.51.100.23 10.0.0.1 40000 80\r\nGET / HTTP/1.1\r\nHost: app.example.com\r\nConnection: close\r\n\r\n")
			b, _ := io.ReadAll(conn)
			conn.Close()
			if strings.HasPrefix(string(b), "HTTP/1.1 200") && strings.HasSuffix(string(b), "198.51.100.23") {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("answer %q", b)
			}
		} else if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
