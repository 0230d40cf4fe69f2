package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rancher-edge/edge/discovery/consul/consultest"
)

// TestConsulCatalogServedOverHTTPS runs the whole program against a real
// Consul agent as the k8s-deployer setup uses it: NodePort services
// registered with traefik.* tags and a TTL check, a constraint picking the
// kubernetes ones, weighted round robin across two "nodes" (real backends
// on loopback), served over HTTPS.
func TestConsulCatalogServedOverHTTPS(t *testing.T) {
	a := consultest.Start(t, consultest.Options{})
	backend := func(name string) int {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s %s", name, r.Host)
		}))
		t.Cleanup(s.Close)
		_, port, _ := net.SplitHostPort(s.Listener.Addr().String())
		n, _ := strconv.Atoi(port)
		return n
	}
	node1, node2, metal := backend("node1"), backend("node2"), backend("metal")
	tags := func(weight int) []string {
		return []string{"traefik.enable=true", "traefik.frontend.rule=Host:app.example.com", "traefik.tags=kubernetes,nodeport",
			"traefik.weight=" + strconv.Itoa(weight), "traefik.backend.loadbalancer.method=wrr"}
	}
	a.Register(consultest.Service{ID: "app-node1", Name: "app", Address: "127.0.0.1", Port: node1, Check: "passing", Tags: tags(3)})
	a.Register(consultest.Service{ID: "app-node2", Name: "app", Address: "127.0.0.1", Port: node2, Check: "passing", Tags: tags(1)})
	// The same nodes behind a drr service: with one request at a time no
	// backend has any in flight, so drr (least outstanding, ties round
	// robin) alternates whatever the weights, where wrr keeps 3:1.
	drr := func(weight int) []string {
		return []string{"traefik.enable=true", "traefik.frontend.rule=Host:api.example.com", "traefik.tags=kubernetes",
			"traefik.weight=" + strconv.Itoa(weight), "traefik.backend.loadbalancer.method=drr"}
	}
	a.Register(consultest.Service{ID: "api-node1", Name: "api", Address: "127.0.0.1", Port: node1, Check: "passing", Tags: drr(3)})
	a.Register(consultest.Service{ID: "api-node2", Name: "api", Address: "127.0.0.1", Port: node2, Check: "passing", Tags: drr(1)})
	a.Register(consultest.Service{ID: "metal-1", Name: "metal", Address: "127.0.0.1", Port: metal, Check: "passing",
		Tags: []string{"traefik.enable=true", "traefik.tags=baremetal"}})

	dir := t.TempDir()
	certPath, keyPath, certPEM := writeCert(t, dir, "wild", "*.example.com")
	httpPort, httpsPort, adminPort := freePort(t), freePort(t), freePort(t)
	env := map[string]string{
		"TRAEFIK_HTTP_PORT":                  strconv.Itoa(httpPort),
		"TRAEFIK_HTTPS_PORT":                 strconv.Itoa(httpsPort),
		"TRAEFIK_SSL_CERT":                   certPath,
		"TRAEFIK_SSL_PRIVATE_KEY":            keyPath,
		"TRAEFIK_ADMIN_PORT":                 strconv.Itoa(adminPort),
		"TRAEFIK_ADMIN_TLS":                  "false",
		"TRAEFIK_CONSUL_CATALOG_ENABLE":      "true",
		"TRAEFIK_CONSUL_CATALOG_ENDPOINT":    "http://" + a.Addr,
		"TRAEFIK_CONSUL_CATALOG_DOMAIN":      "example.com",
		"TRAEFIK_CONSUL_CATALOG_CONSTRAINTS": "tag==kubernetes",
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	logs := &syncWriter{w: &strings.Builder{}}
	go func() { done <- run(ctx, nil, mapEnv(env), io.Discard, logs) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		if t.Failed() {
			t.Logf("edge log:\n%s", logs.w.(*strings.Builder).String())
		}
	}()

	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(certPEM)
	client := &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots},
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+strconv.Itoa(httpsPort))
			},
		},
	}
	get := func(host string) (int, string) {
		resp, err := client.Get("https://" + host + "/")
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// spread sends n requests and counts the answers by backend.
	spreadOn := func(host string, n int) map[string]int {
		got := map[string]int{}
		for range n {
			code, body := get(host)
			if code != 200 {
				got[fmt.Sprint(code)]++
				continue
			}
			got[strings.Fields(body)[0]]++
		}
		return got
	}
	spread := func(n int) map[string]int { return spreadOn("app.example.com", n) }
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("never: %s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	waitFor("app.example.com served by both nodes", func() bool { g := spread(8); return g["node1"] > 0 && g["node2"] > 0 })
	if code, body := get("app.example.com"); code != 200 || !strings.HasSuffix(body, " app.example.com") {
		t.Errorf("app: %d %q", code, body)
	}
	// wrr with weights 3 and 1.
	if g := spread(40); g["node1"] != 30 || g["node2"] != 10 {
		t.Errorf("weights 3:1 gave %v over 40 requests", g)
	}
	waitFor("api.example.com served", func() bool { return spreadOn("api.example.com", 2)["node1"] > 0 })
	if g := spreadOn("api.example.com", 40); g["node1"] != 20 || g["node2"] != 20 {
		t.Errorf("drr with weights 3:1 and one request at a time gave %v over 40 requests, want 20:20", g)
	}
	// The constraint keeps the bare-metal service out.
	if code, _ := get("metal.example.com"); code != http.StatusNotFound {
		t.Errorf("metal.example.com answered %d despite tag==kubernetes", code)
	}

	a.SetCheck("app-node1", "critical")
	waitFor("node1 out of the rotation", func() bool { g := spread(6); return g["node1"] == 0 && g["node2"] == 6 })
	a.SetCheck("app-node1", "passing")
	waitFor("node1 back in the rotation", func() bool { return spread(8)["node1"] > 0 })

	// The dashboard's discovery page shows the provider and says plainly
	// that every registered service is published.
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/api/discovery", adminPort))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Providers []struct {
			Name, State, Endpoint string
			Services              int
			Instances             int
			Routes                int
			Notes                 []string
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range page.Providers {
		if p.Name != "consul" {
			continue
		}
		found = true
		if p.State != "ok" || p.Services != 3 || p.Instances != 5 || p.Routes != 2 ||
			len(p.Notes) != 1 || !strings.Contains(p.Notes[0], "every service registered in Consul is published") {
			t.Errorf("discovery page: %+v", p)
		}
	}
	if !found {
		t.Errorf("no consul provider on the discovery page: %+v", page.Providers)
	}
	if !strings.Contains(logs.w.(*strings.Builder).String(), "every service registered in Consul is published") {
		t.Error("the log does not say that every registered service is published")
	}
}

// TestConsulSettings: the global constraints are ANDed with the provider's
// own, the token goes through the secrets rules and `edge check` never
// prints it, and a bad template is refused by check as by serve.
func TestConsulSettings(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "consul_token"), []byte("s3cr3t-consul-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"TRAEFIK_SECRETS_DIR":                dir,
		"TRAEFIK_HTTPS_ENABLE":               "false",
		"TRAEFIK_ADMIN_PORT":                 "0",
		"TRAEFIK_CONSTRAINTS":                "tag!=internal",
		"TRAEFIK_CONSUL_CATALOG_ENABLE":      "true",
		"TRAEFIK_CONSUL_CATALOG_TOKEN":       "consul_token",
		"TRAEFIK_CONSUL_CATALOG_CONSTRAINTS": "tag==kubernetes",
	}
	cfg, err := loadConfig(env2(env))
	if err != nil {
		t.Fatal(err)
	}
	pc := cfg.Consul.providerConfig(cfg.Constraints, nil)
	if !slices.Equal(pc.Constraints, []string{"tag!=internal", "tag==kubernetes"}) || pc.Token != "s3cr3t-consul-token" ||
		pc.TokenSource != "TRAEFIK_CONSUL_CATALOG_TOKEN" || pc.Endpoint != "127.0.0.1:8500" || !pc.ExposedByDefault || pc.WarningIsHealthy {
		t.Errorf("provider config %+v", pc)
	}
	var out strings.Builder
	if err := check(context.Background(), env2(env), &out); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); strings.Contains(s, "s3cr3t") || !strings.Contains(s, "tag!=internal, tag==kubernetes") ||
		!strings.Contains(s, "every service registered in Consul is published") {
		t.Errorf("check output:\n%s", s)
	}
	env["TRAEFIK_CONSUL_CATALOG_FRONTEND_RULE"] = "Host:{{.ServiceName"
	if _, err := loadConfig(env2(env)); err == nil || !strings.Contains(err.Error(), "TRAEFIK_CONSUL_CATALOG_") {
		t.Errorf("bad template: %v", err)
	}
}

// TestConsulOverTLS reads an agent that serves its API over HTTPS and
// requires a client certificate, with the CA, certificate and key given
// as paths through the secrets rules.
func TestConsulOverTLS(t *testing.T) {
	a := consultest.Start(t, consultest.Options{HTTPS: true})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "over tls") }))
	defer backend.Close()
	_, port, _ := net.SplitHostPort(backend.Listener.Addr().String())
	bport, _ := strconv.Atoi(port)
	a.Register(consultest.Service{ID: "web-1", Name: "web", Address: "127.0.0.1", Port: bport, Check: "passing", Tags: []string{"traefik.enable=true"}})

	httpPort := freePort(t)
	env := map[string]string{
		"TRAEFIK_HTTP_PORT":               strconv.Itoa(httpPort),
		"TRAEFIK_HTTPS_ENABLE":            "false",
		"TRAEFIK_ADMIN_PORT":              "0",
		"TRAEFIK_CONSUL_CATALOG_ENABLE":   "true",
		"TRAEFIK_CONSUL_CATALOG_EXPOSED":  "false",
		"TRAEFIK_CONSUL_CATALOG_ENDPOINT": "https://" + a.HTTPSAddr,
		"TRAEFIK_CONSUL_CATALOG_DOMAIN":   "example.com",
		"TRAEFIK_CONSUL_CATALOG_TLS_CA":   a.TLS.CA,
		"TRAEFIK_CONSUL_CATALOG_TLS_CERT": a.TLS.ClientCert,
		"TRAEFIK_CONSUL_CATALOG_TLS_KEY":  a.TLS.ClientKey,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	logs := &syncWriter{w: &strings.Builder{}}
	go func() { done <- run(ctx, nil, mapEnv(env), io.Discard, logs) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		if t.Failed() {
			t.Logf("edge log:\n%s", logs.w.(*strings.Builder).String())
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/", httpPort), nil)
		req.Host = "web.example.com"
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && string(b) == "over tls" {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("web.example.com never served from the catalog read over TLS: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestConsulCheckOnline: `edge check --online` reads the catalog once
// with the token and says in the same words as the status why it cannot.
func TestConsulCheckOnline(t *testing.T) {
	a := consultest.Start(t, consultest.Options{ACL: true})
	env := map[string]string{
		"TRAEFIK_HTTPS_ENABLE":            "false",
		"TRAEFIK_ADMIN_PORT":              "0",
		"TRAEFIK_CONSUL_CATALOG_ENABLE":   "true",
		"TRAEFIK_CONSUL_CATALOG_ENDPOINT": a.Addr,
		"TRAEFIK_CONSUL_CATALOG_TOKEN":    a.Token(`service_prefix "" { policy = "read" }` + "\n" + `node_prefix "" { policy = "read" }`),
	}
	var out strings.Builder
	if err := run(context.Background(), []string{"check", "--online"}, mapEnv(env), &out, io.Discard); err != nil ||
		!strings.Contains(out.String(), "consul "+a.Addr+": OK") {
		t.Fatalf("a token that may read: %v\n%s", err, out.String())
	}
	env["TRAEFIK_CONSUL_CATALOG_TOKEN"] = a.Token("")
	out.Reset()
	err := run(context.Background(), []string{"check", "--online"}, mapEnv(env), &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "the ACL token from TRAEFIK_CONSUL_CATALOG_TOKEN may not read any service") ||
		strings.Contains(err.Error()+out.String(), env["TRAEFIK_CONSUL_CATALOG_TOKEN"]) {
		t.Errorf("a token without policy: %v\n%s", err, out.String())
	}
}
