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
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rancher-edge/edge/certs"
	"github.com/rancher-edge/edge/internal/testtools"
)

// mapEnv is an environment of m's settings for run. Tests bind loopback
// only: the listeners and the dashboard default to 127.0.0.1 unless m says
// otherwise.
func mapEnv(m map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := m[k]; ok {
			return v
		}
		switch k {
		case "TRAEFIK_BIND", "TRAEFIK_ADMIN_BIND":
			return "127.0.0.1"
		}
		return ""
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, mapEnv(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "edge ") {
		t.Errorf("version output %q", out.String())
	}
}

func TestInvalidSettingsAreListedTogether(t *testing.T) {
	env := map[string]string{
		"TRAEFIK_HTTP_PORT":        "eighty",
		"TRAEFIK_ACCESS_LOG":       "xml",
		"TRAEFIK_LOG_LEVEL":        "loud",
		"TRAEFIK_TRUSTED_IPS":      "10.0.0.0/8,not-an-ip",
		"TRAEFIK_SSL_CERT":         "/nonexistent/cert.pem",
		"TRAEFIK_HTTPS_ENABLE":     "maybe",
		"TRAEFIK_RANCHER_REFRESH":  "soon",
		"TRAEFIK_RANCHER_ENDPOINT": "http://rancher:8080",
	}
	err := run(context.Background(), []string{"check"}, mapEnv(env), io.Discard, io.Discard)
	if err == nil {
		t.Fatal("bad settings accepted")
	}
	for _, want := range []string{"TRAEFIK_HTTP_PORT", "TRAEFIK_ACCESS_LOG", "TRAEFIK_LOG_LEVEL", "not-an-ip", "TRAEFIK_SSL_CERT", "TRAEFIK_HTTPS_ENABLE", "TRAEFIK_RANCHER_REFRESH"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
}

func TestUnknownCommandAndFlag(t *testing.T) {
	if err := run(context.Background(), []string{"launch"}, mapEnv(nil), io.Discard, io.Discard); err == nil {
		t.Error("unknown command accepted")
	}
	if err := run(context.Background(), []string{"check", "--no-such-flag"}, mapEnv(nil), io.Discard, io.Discard); err == nil {
		t.Error("unknown flag accepted")
	}
}

// writeCert writes a self-signed pair for names into dir and returns the
// paths.
func writeCert(t *testing.T, dir, base string, names ...string) (certPath, keyPath string, certPEM []byte) {
	t.Helper()
	c, k, err := certs.SelfSigned(names, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, base+"_crt"), filepath.Join(dir, base+"_key")
	if err := os.WriteFile(certPath, c, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, k, 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath, c
}

func TestCheckPrintsRoutesAndNoSecrets(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath, _ := writeCert(t, dir, "wild", "*.example.com")
	if err := os.WriteFile(filepath.Join(dir, "rancher_secret"), []byte("s3cr3t-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	routes := filepath.Join(dir, "routes.yaml")
	os.WriteFile(routes, []byte(`services:
  - name: whoami
    labels:
      traefik.frontend.rule: "Host:whoami.example.com"
      traefik.port: "8080"
    servers: ["10.0.0.5", "10.0.0.6:9090"]
`), 0o644)
	env := map[string]string{
		"TRAEFIK_SECRETS_DIR":       dir,
		"TRAEFIK_SSL_CERT":          certPath,
		"TRAEFIK_SSL_PRIVATE_KEY":   keyPath,
		"TRAEFIK_FILE":              routes,
		"TRAEFIK_RANCHER_ENDPOINT":  "http://rancher:8080/v1",
		"TRAEFIK_RANCHER_ACCESSKEY": "ACCESSKEYVALUE",
		"TRAEFIK_RANCHER_SECRET":    "rancher_secret", // an alias in the secrets dir
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"check"}, mapEnv(env), &out, io.Discard); err != nil {
		t.Fatalf("check: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{"Host:whoami.example.com", "http://10.0.0.5:8080", "http://10.0.0.6:9090", "*.example.com", "configuration OK"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	for _, secret := range []string{"s3cr3t-value", "ACCESSKEYVALUE", "PRIVATE KEY"} {
		if strings.Contains(got, secret) {
			t.Errorf("output leaks %q:\n%s", secret, got)
		}
	}
}

func TestCheckFailsOnBadRoute(t *testing.T) {
	dir := t.TempDir()
	routes := filepath.Join(dir, "routes.yaml")
	os.WriteFile(routes, []byte(`services:
  - name: broken
    labels:
      traefik.frontend.rule: "Hots:x.example.com"
      traefik.port: "8080"
    servers: ["10.0.0.5"]
`), 0o644)
	var out bytes.Buffer
	err := run(context.Background(), []string{"check", "--file", routes}, mapEnv(map[string]string{"TRAEFIK_HTTPS_ENABLE": "false"}), &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("check accepted a bad rule: %v\n%s", err, out.String())
	}
}

func freePort(t *testing.T) int { return testtools.Port(t) }

// TestServeEndToEnd runs the whole program as a user would configure it:
// the certificate as a PEM value in the rawmind0 variable, a second pair
// as mch1307-style paths, a routes file, and real requests.
func TestServeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	wildCert, wildKey, wildPEM := writeCert(t, dir, "wild", "*.example.com")
	exactPEMc, exactPEMk, err := certs.SelfSigned([]string{"api.example.com"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from backend: %s %s", r.Host, r.URL.Path)
	}))
	defer backend.Close()
	_, bport, _ := net.SplitHostPort(strings.TrimPrefix(backend.URL, "http://"))
	routes := filepath.Join(dir, "routes.yaml")
	os.WriteFile(routes, []byte(fmt.Sprintf(`services:
  - name: app
    labels:
      traefik.frontend.rule: "Host:app.example.com,api.example.com"
      traefik.port: "%s"
    servers: ["127.0.0.1"]
`, bport)), 0o644)

	httpPort, httpsPort := freePort(t), freePort(t)
	env := map[string]string{
		"TRAEFIK_HTTP_PORT":  strconv.Itoa(httpPort),
		"TRAEFIK_HTTPS_PORT": strconv.Itoa(httpsPort),
		// Two pairs through the rawmind0 names: a path (as mch1307 passed
		// it) and inline PEM (as rawmind0 did).
		"TRAEFIK_SSL_CRT":    wildCert + "," + string(exactPEMc),
		"TRAEFIK_SSL_KEY":    wildKey + "," + string(exactPEMk),
		"TRAEFIK_FILE":       routes,
		"TRAEFIK_ADMIN_PORT": "0",
		"TRAEFIK_LOG_LEVEL":  "DEBUG",
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs bytes.Buffer
	logw := &syncWriter{w: &logs}
	go func() { done <- run(ctx, nil, mapEnv(env), io.Discard, logw) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()

	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(wildPEM)
	roots.AppendCertsFromPEM(exactPEMc)
	client := &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots},
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				_, port, _ := net.SplitHostPort(addr)
				return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+port)
			},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	url := fmt.Sprintf("https://app.example.com:%d/hello", httpsPort)
	var resp *http.Response
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err = client.Get(url)
		if err == nil && resp.StatusCode == 200 {
			break
		}
		if err == nil {
			resp.Body.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("edge never served %s: %v\nlogs:\n%s", url, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "hello from backend: app.example.com") {
		t.Errorf("body %q", body)
	}
	// SNI: the exact certificate for api, the wildcard for app.
	for host, wantName := range map[string]string{"api.example.com": "api.example.com", "app.example.com": "*.example.com"} {
		resp, err := client.Get(fmt.Sprintf("https://%s:%d/", host, httpsPort))
		if err != nil {
			t.Fatalf("%s: %v", host, err)
		}
		resp.Body.Close()
		if got := resp.TLS.PeerCertificates[0].DNSNames; len(got) == 0 || got[0] != wantName {
			t.Errorf("%s served certificate for %v, want %s", host, got, wantName)
		}
	}
	resp, err = client.Get(fmt.Sprintf("http://app.example.com:%d/a?b=c", httpPort))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := fmt.Sprintf("https://app.example.com:%d/a?b=c", httpsPort); resp.StatusCode != 302 || resp.Header.Get("Location") != want {
		t.Errorf("redirect: %d %q, want 302 %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}

	// Once it serves and its routes file is loaded, the edge gives its
	// executable's start-up pages back (cmd/edge/settle.go), says so at
	// debug level, and goes on serving.
	if runtime.GOOS == "linux" {
		const trimmed = "start-up pages of the executable given back to the kernel"
		deadline := time.Now().Add(10 * time.Second)
		for !logw.contains(trimmed) {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in the debug log:\n%s", trimmed, logw.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		// The package initialisers' pages went back before the routes
		// were loaded, so that they are not resident beside a large
		// table's build.
		logs := logw.String()
		early := strings.Index(logs, "initialisers' pages of the executable given back to the kernel")
		if loaded := strings.Index(logs, "routing table published"); early < 0 || loaded < 0 || early > loaded {
			t.Errorf("the initialisers' pages were not given back before the first table (at %d, table at %d):\n%s", early, loaded, logs)
		}
		resp, err := client.Get(url)
		if err != nil {
			t.Fatalf("after the trim: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("after the trim: %s", resp.Status)
		}
	}
}

// syncWriter lets the test read logs while the edge writes them.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// contains reports whether what was written so far holds sub, and
// String returns it (w must be a *bytes.Buffer).
func (s *syncWriter) contains(sub string) bool { return strings.Contains(s.String(), sub) }

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.(*bytes.Buffer).String()
}

// TestDocsListEverySetting keeps docs/configuration.md in step with the
// settings table (regenerate it with `edge help settings`).
func TestDocsListEverySetting(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		if !strings.Contains(string(doc), "`"+s.env+"`") {
			t.Errorf("docs/configuration.md does not document %s", s.env)
		}
	}
}

func TestEtcdStorageSettings(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "etcd_pw"), []byte("etcd-s3cret\n"), 0o600)
	env := env{getenv: mapEnv(map[string]string{
		"TRAEFIK_SECRETS_DIR":   dir,
		"TRAEFIK_ACME_ENABLE":   "true",
		"TRAEFIK_ACME_STORAGE":  "etcd://10.0.0.1:2379,10.0.0.2:2379/edges?lock_ttl=20s",
		"TRAEFIK_ETCD_USERNAME": "edge",
		"TRAEFIK_ETCD_PASSWORD": "etcd_pw",
	})}
	cfg, err := loadConfig(env)
	if err != nil {
		t.Fatal(err)
	}
	ec := cfg.ACME.Etcd
	if ec == nil {
		t.Fatal("etcd:// storage not recognised")
	}
	if len(ec.Endpoints) != 2 || ec.Prefix == "" || ec.Username != "edge" || ec.Password != "etcd-s3cret" || ec.LockTTL != 20*time.Second {
		t.Errorf("etcd config %v", ec)
	}
	if s := fmt.Sprint(*ec); strings.Contains(s, "etcd-s3cret") {
		t.Errorf("printing the etcd config leaks the password: %s", s)
	}
	bad := env
	bad.getenv = mapEnv(map[string]string{"TRAEFIK_ACME_STORAGE": "etcd://user:pw@10.0.0.1:2379/x"})
	if _, err := loadConfig(bad); err == nil || strings.Contains(err.Error(), "pw@") {
		t.Errorf("credentials in the URL: %v", err)
	}
}

// TestRancherCredentialSources: explicit settings win over what Rancher
// injects (CATTLE_*), which is used when they are absent.
func TestRancherCredentialSources(t *testing.T) {
	for _, tc := range []struct {
		name                         string
		env                          map[string]string
		endpoint, endpointFrom, keys string
		access                       string
	}{
		{"explicit wins", map[string]string{
			"TRAEFIK_RANCHER_ENDPOINT": "http://explicit:8080", "TRAEFIK_RANCHER_ACCESSKEY": "AK1", "TRAEFIK_RANCHER_SECRET": "SK1",
			"CATTLE_URL": "http://injected:8080/v1", "CATTLE_ACCESS_KEY": "AK2", "CATTLE_SECRET_KEY": "SK2",
		}, "http://explicit:8080", "TRAEFIK_RANCHER_ENDPOINT", "TRAEFIK_RANCHER_ACCESSKEY", "AK1"},
		{"injected when absent", map[string]string{
			"CATTLE_URL": "http://injected:8080/v1", "CATTLE_ACCESS_KEY": "AK2", "CATTLE_SECRET_KEY": "SK2",
		}, "http://injected:8080/v1", "CATTLE_URL", "CATTLE_ACCESS_KEY", "AK2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadConfig(env{getenv: mapEnv(tc.env)})
			if err != nil {
				t.Fatal(err)
			}
			rc := cfg.Rancher
			if rc == nil || rc.Endpoint != tc.endpoint || rc.EndpointSource != tc.endpointFrom || rc.KeySource != tc.keys || string(rc.AccessKey.Bytes()) != tc.access {
				t.Errorf("got %+v", rc)
			}
		})
	}
}

// TestDashboardWithoutUsersRefusesPublicBind: without TRAEFIK_ADMIN_USERS
// the dashboard may only listen on loopback; asking for more stops the
// edge with a message that says how to fix it.
func TestDashboardWithoutUsersRefusesPublicBind(t *testing.T) {
	env := map[string]string{
		"TRAEFIK_HTTPS_ENABLE": "false",
		"TRAEFIK_HTTP_PORT":    strconv.Itoa(freePort(t)),
		"TRAEFIK_ADMIN_PORT":   strconv.Itoa(freePort(t)),
		"TRAEFIK_ADMIN_BIND":   "0.0.0.0",
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := run(ctx, nil, mapEnv(env), io.Discard, io.Discard)
	if err == nil {
		t.Fatal("the edge started a public dashboard without a password")
	}
	for _, want := range []string{"TRAEFIK_ADMIN_USERS", "127.0.0.1", "TRAEFIK_ADMIN_INSECURE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not mention %s: %v", want, err)
		}
	}
}
