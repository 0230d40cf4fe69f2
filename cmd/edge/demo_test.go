package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDemoFirstView runs `edge demo` and looks at what a new user meets:
// the overview has exactly one warning, the unhealthy whoami container;
// the certificate covers every demo host; each container answers as
// itself; the scale command prints one line; the printed check checks the
// demo's own configuration, Rancher included.
func TestDemoFirstView(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo")
	}
	adminPort, httpsPort := freePort(t), freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	var buf bytes.Buffer
	out := &syncWriter{w: &buf}
	printed := func() string {
		out.mu.Lock()
		defer out.mu.Unlock()
		return buf.String()
	}
	done := make(chan error, 1)
	go func() {
		done <- demo(ctx, env{getenv: mapEnv(map[string]string{
			"TRAEFIK_HTTP_PORT":  strconv.Itoa(freePort(t)),
			"TRAEFIK_HTTPS_PORT": strconv.Itoa(httpsPort),
			"TRAEFIK_ADMIN_PORT": strconv.Itoa(adminPort),
			"TRAEFIK_ACCESS_LOG": "off",
		})}, out, io.Discard)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo: %v", err)
		}
	}()
	api := newDashAPI("https://127.0.0.1:"+strconv.Itoa(adminPort), "", "")
	var page struct {
		Tiles    []struct{ ID, State string }
		Warnings []struct{ Kind, Subject, Message string }
	}
	dashWait(t, 20*time.Second, "every provider to sync and the unhealthy container to fail its health check", func() bool {
		if api.getJSON("/api/overview", &page) != nil {
			return false
		}
		ok := 0
		for _, tl := range page.Tiles {
			if (tl.ID == "backends" && tl.State == "warn") || (tl.ID == "discovery" && tl.State == "ok") {
				ok++
			}
		}
		return ok == 2
	})
	if len(page.Warnings) != 1 || page.Warnings[0].Kind != "backend" || !strings.Contains(page.Warnings[0].Subject, demoUnhealthyIP) {
		t.Errorf("the demo's first view has warnings %+v; want only the unhealthy container", page.Warnings)
	}
	for _, tl := range page.Tiles {
		if tl.ID != "backends" && tl.State != "ok" {
			t.Errorf("tile %s is %s", tl.ID, tl.State)
		}
	}
	// Each host gets the demo certificate, which names it (verified
	// against the file the instructions say to trust), and each container
	// answers as itself.
	ca := regexp.MustCompile(`import (\S+demo-ca\.crt)`).FindStringSubmatch(printed())
	if ca == nil {
		t.Fatalf("no certificate to trust in:\n%s", printed())
	}
	pem, err := os.ReadFile(ca[1])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	for host, container := range map[string]string{
		"whoami.web.demo.localhost":    "web-whoami-",
		"api.mixedcase.demo.localhost": "MixedCase-Api-1",
		"static.demo.localhost":        "web-whoami-1",
	} {
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: host},
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+strconv.Itoa(httpsPort))
			},
		}}
		resp, err := c.Get("https://" + host + "/")
		if err != nil {
			t.Errorf("%s: %v (does the demo certificate cover it?)", host, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), `"container": "`+container) {
			t.Errorf("%s answered %s", host, body)
		}
	}
	text := printed()
	for _, want := range []string{"-o /dev/null -w 'whoami scaled to 5: HTTP %{http_code}\\n'",
		"Your browser will warn", "--cacert", "demo-ca.crt"} {
		if !strings.Contains(text, want) {
			t.Errorf("the demo's instructions do not say %q", want)
		}
	}
	m := regexp.MustCompile(`\(set -a; \. (\S+); go run \./cmd/edge check\)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no check command in:\n%s", text)
	}
	vars := readEnvFile(t, m[1])
	if vars["TRAEFIK_RANCHER_ENDPOINT"] == "" || vars["TRAEFIK_FILE"] == "" || vars["TRAEFIK_SSL_CERT"] == "" {
		t.Errorf("the check's environment misses the demo's settings: %v", vars)
	}
	var report bytes.Buffer
	if err := check(ctx, env{getenv: mapEnv(vars)}, &report); err != nil {
		t.Fatalf("the printed check fails: %v\n%s", err, report.String())
	}
	for _, want := range []string{"rancher: read 2 stacks", "Host:whoami.web.demo.localhost", "Host:api.mixedcase.demo.localhost",
		"Host:static.demo.localhost", "configuration OK"} {
		if !strings.Contains(report.String(), want) {
			t.Errorf("the check does not show %q:\n%s", want, report.String())
		}
	}
}

// readEnvFile reads the shell assignments the demo writes (K='v').
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok || !strings.HasPrefix(v, "'") || !strings.HasSuffix(v, "'") {
			t.Fatalf("env file line %q", line)
		}
		out[k] = strings.ReplaceAll(v[1:len(v)-1], `'\''`, "'")
	}
	return out
}

// A Rancher that cannot be read now is reported by check, quickly, and
// does not fail it: serve would keep retrying.
func TestCheckReportsUnreachableRancher(t *testing.T) {
	dir := t.TempDir()
	cert, key, _ := writeCert(t, dir, "c", "example.test")
	var out bytes.Buffer
	start := time.Now()
	err := check(context.Background(), env{getenv: mapEnv(map[string]string{
		"TRAEFIK_SSL_CERT":          cert,
		"TRAEFIK_SSL_PRIVATE_KEY":   key,
		"TRAEFIK_RANCHER_ENDPOINT":  "http://127.0.0.1:1/v2-beta/projects/1a5",
		"TRAEFIK_RANCHER_ACCESSKEY": "access",
		"TRAEFIK_RANCHER_SECRET":    "check-secret-value",
	})}, &out)
	if err != nil {
		t.Fatalf("check failed on an unreachable Rancher: %v\n%s", err, out.String())
	}
	if took := time.Since(start); took > rancherCheckWait/2 {
		t.Errorf("check took %v to give up on a refused connection", took)
	}
	if !strings.Contains(out.String(), "rancher: not read now") || !strings.Contains(out.String(), "connection refused") {
		t.Errorf("check output:\n%s", out.String())
	}
	if strings.Contains(out.String(), "check-secret-value") {
		t.Error("check printed the Rancher secret")
	}
}
