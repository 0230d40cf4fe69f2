package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rancher-edge/edge/certs"
	"github.com/rancher-edge/edge/discovery/rancher/ranchertest"
)

// checkAndServe runs `edge check` and `edge serve` on the same
// environment; serve gets a short context, enough to refuse or bind.
func checkAndServe(t *testing.T, env map[string]string) (checkOut string, checkErr, serveErr error, serveLog string) {
	t.Helper()
	var out, logs bytes.Buffer
	checkErr = run(context.Background(), []string{"check"}, mapEnv(env), &out, io.Discard)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	serveErr = run(ctx, nil, mapEnv(env), io.Discard, &syncWriter{w: &logs})
	return out.String(), checkErr, serveErr, logs.String()
}

// quietPorts are settings that keep a serve that does start on free
// loopback-tested ports, without a dashboard.
func quietPorts(t *testing.T, in map[string]string) map[string]string {
	env := make(map[string]string, len(in)+3)
	for k, v := range in {
		env[k] = v
	}
	for k, v := range map[string]string{
		"TRAEFIK_HTTP_PORT":  strconv.Itoa(freePort(t)),
		"TRAEFIK_HTTPS_PORT": strconv.Itoa(freePort(t)),
		"TRAEFIK_ADMIN_PORT": "0",
	} {
		if _, ok := env[k]; !ok {
			env[k] = v
		}
	}
	return env
}

// TestCertKeyPairings: every pairing of a good, missing, garbage or
// truncated certificate and key gives the same answer in check and serve,
// an error naming the setting, and never a panic (a good certificate with
// a truncated key used to index past the end of the key list).
func TestCertKeyPairings(t *testing.T) {
	certPEM, keyPEM, err := certs.SelfSigned([]string{"a.example.com"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	certs := map[string]string{
		"good":      string(certPEM),
		"missing":   "",
		"garbage":   "garbage: not a certificate",
		"truncated": string(certPEM[:len(certPEM)/2]),
		"no file":   "/nonexistent/cert.pem",
	}
	keys := map[string]string{
		"good":      string(keyPEM),
		"missing":   "",
		"garbage":   "garbage: not a key",
		"truncated": string(keyPEM[:len(keyPEM)/2]),
		"no file":   "/nonexistent/key.pem",
	}
	for cn, cv := range certs {
		for kn, kv := range keys {
			t.Run("cert "+cn+", key "+kn, func(t *testing.T) {
				env := quietPorts(t, map[string]string{"TRAEFIK_SSL_CERT": cv, "TRAEFIK_SSL_PRIVATE_KEY": kv})
				if cn == "good" && kn == "good" || cn == "missing" && kn == "missing" {
					if _, err := checkOnly(env); err != nil {
						t.Errorf("check refused a valid configuration: %v", err)
					}
					return
				}
				_, cerr, serr, _ := checkAndServe(t, env)
				if cerr == nil || serr == nil {
					t.Fatalf("accepted: check %v, serve %v", cerr, serr)
				}
				if !strings.Contains(cerr.Error(), "TRAEFIK_SSL_") || !strings.Contains(serr.Error(), "TRAEFIK_SSL_") {
					t.Errorf("the errors do not name the setting:\ncheck: %v\nserve: %v", cerr, serr)
				}
				for _, err := range []error{cerr, serr} {
					if strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), "garbage") {
						t.Errorf("the error shows the value: %v", err)
					}
				}
			})
		}
	}
}

func checkOnly(env map[string]string) (string, error) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"check"}, mapEnv(env), &out, io.Discard)
	return out.String(), err
}

// TestCheckReportsWhatServeRefuses: each configuration serve refuses,
// check refuses too, with the same words; and all of them at once.
func TestCheckReportsWhatServeRefuses(t *testing.T) {
	rancher := func(m map[string]string) map[string]string {
		base := map[string]string{"TRAEFIK_RANCHER_ENDPOINT": "http://rancher:8080/v1", "TRAEFIK_RANCHER_ACCESSKEY": "AK", "TRAEFIK_RANCHER_SECRET": "SK"}
		for k, v := range m {
			base[k] = v
		}
		return base
	}
	acmeEnv := func(m map[string]string) map[string]string {
		base := map[string]string{"TRAEFIK_ACME_ENABLE": "true", "TRAEFIK_ACME_EMAIL": "ops@example.com", "TRAEFIK_ACME_STORAGE": t.TempDir()}
		for k, v := range m {
			base[k] = v
		}
		return base
	}
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"malformed rancher url", rancher(map[string]string{"TRAEFIK_RANCHER_ENDPOINT": "rancher:8080/v1"}), "rancher: endpoint"},
		{"v3 path", rancher(map[string]string{"TRAEFIK_RANCHER_ENDPOINT": "https://rancher.example.com/v3"}), `"/v3"`},
		{"missing secret key", rancher(map[string]string{"TRAEFIK_RANCHER_SECRET": ""}), "secret key is empty (from TRAEFIK_RANCHER_SECRET)"},
		{"missing injected secret key", map[string]string{"CATTLE_URL": "http://rancher:8080/v1", "CATTLE_ACCESS_KEY": "AK"}, "secret key is empty (from CATTLE_SECRET_KEY)"},
		{"plain admin password", map[string]string{"TRAEFIK_ADMIN_USERS": "admin:secret", "TRAEFIK_ADMIN_PORT": strconv.Itoa(freePort(t))}, "not a bcrypt, apr1 or {SHA} hash"},
		{"eab hmac not base64url", acmeEnv(map[string]string{"TRAEFIK_ACME_EAB_KID": "kid", "TRAEFIK_ACME_EAB_HMAC": "not base64url!"}), "HMAC key is not base64url"},
		{"half a route53 pair", acmeEnv(map[string]string{"TRAEFIK_ACME_DNS_PROVIDER": "route53", "AWS_ACCESS_KEY_ID": "AKIA"}), "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together"},
		{"half an rfc2136 pair", acmeEnv(map[string]string{"TRAEFIK_ACME_DNS_PROVIDER": "rfc2136", "RFC2136_NAMESERVER": "127.0.0.1:53", "RFC2136_TSIG_KEY": "edge"}), "RFC2136_TSIG_KEY and RFC2136_TSIG_SECRET go together"},
		{"cloudflare global key", acmeEnv(map[string]string{"TRAEFIK_ACME_DNS_PROVIDER": "cloudflare", "CF_API_KEY": "k"}), "global API keys are not supported"},
		{"admin bind without users", map[string]string{"TRAEFIK_ADMIN_BIND": "0.0.0.0", "TRAEFIK_ADMIN_PORT": strconv.Itoa(freePort(t))}, "without a password"},
		{"bind to a name", map[string]string{"TRAEFIK_BIND": "localhost"}, `TRAEFIK_BIND: "localhost" is not an IP address`},
	}
	all := map[string]string{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := quietPorts(t, tc.env)
			out, cerr, serr, _ := checkAndServe(t, env)
			if serr == nil || !strings.Contains(serr.Error(), tc.want) {
				t.Errorf("serve: %v, want %q", serr, tc.want)
			}
			if cerr == nil || !strings.Contains(cerr.Error(), tc.want) {
				t.Errorf("check: %v, want %q\n%s", cerr, tc.want, out)
			}
		})
		// One DNS provider at a time, and users make a public bind legal.
		if tc.name != "missing injected secret key" && tc.name != "half an rfc2136 pair" && tc.name != "cloudflare global key" && tc.name != "admin bind without users" && tc.name != "bind to a name" {
			for k, v := range tc.env {
				all[k] = v
			}
		}
	}
	// All at once (one DNS provider can be set at a time).
	all["TRAEFIK_RANCHER_ENDPOINT"] = "https://rancher.example.com/v3"
	all["TRAEFIK_RANCHER_SECRET"] = ""
	_, err := checkOnly(quietPorts(t, all))
	if err == nil {
		t.Fatal("check accepted everything at once")
	}
	for _, want := range []string{`"/v3"`, "secret key is empty", "not a bcrypt", "HMAC key is not base64url", "AWS_ACCESS_KEY_ID"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("check did not list %q among all the problems:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "rancher: rancher:") {
		t.Errorf("a problem is prefixed twice:\n%v", err)
	}
}

// TestMissingPathIsAnError: a value that starts with / names a file; if it
// does not exist the edge says which setting, instead of using the path
// as the key.
func TestMissingPathIsAnError(t *testing.T) {
	env := quietPorts(t, map[string]string{
		"TRAEFIK_RANCHER_ENDPOINT":  "http://rancher:8080/v1",
		"TRAEFIK_RANCHER_ACCESSKEY": "/run/secrets/rancher_access_missing",
		"TRAEFIK_RANCHER_SECRET":    "SK",
	})
	_, cerr, serr, _ := checkAndServe(t, env)
	for name, err := range map[string]error{"check": cerr, "serve": serr} {
		if err == nil || !strings.Contains(err.Error(), `TRAEFIK_RANCHER_ACCESSKEY: file "/run/secrets/rancher_access_missing" not found`) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestCheckRedactsEndpoint: the Rancher endpoint's user:password never
// appears in check's output.
func TestCheckRedactsEndpoint(t *testing.T) {
	env := quietPorts(t, map[string]string{
		"TRAEFIK_RANCHER_ENDPOINT":  "https://admin:hunter2@rancher.example.com/v2-beta",
		"TRAEFIK_RANCHER_ACCESSKEY": "AK", "TRAEFIK_RANCHER_SECRET": "SK",
	})
	out, err := checkOnly(env)
	if err == nil {
		t.Error("check accepted credentials in the endpoint")
	}
	if strings.Contains(out, "hunter2") || strings.Contains(out, "admin:") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("check shows the endpoint's password:\n%s\n%v", out, err)
	}
	if !strings.Contains(out, "https://rancher.example.com/v2-beta") {
		t.Errorf("check does not show the redacted endpoint:\n%s", out)
	}
}

// TestFatalErrorsOnceInLogFormat: a refused start is logged once per
// problem, as JSON with TRAEFIK_LOG_FORMAT=json, with the setting's real
// name, and not printed again by main.
func TestFatalErrorsOnceInLogFormat(t *testing.T) {
	env := quietPorts(t, map[string]string{
		"TRAEFIK_LOG_FORMAT":        "json",
		"TRAEFIK_RANCHER_ENDPOINT":  "http://rancher:8080/v3",
		"TRAEFIK_RANCHER_ACCESSKEY": "AK",
	})
	var logs bytes.Buffer
	err := run(context.Background(), nil, mapEnv(env), io.Discard, &logs)
	if err == nil || !isReported(err) {
		t.Fatalf("serve: %v (reported: %v)", err, isReported(err))
	}
	var problems []string
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON log line: %q", line)
		}
		if rec["level"] == "ERROR" {
			problems = append(problems, rec["problem"].(string))
		}
	}
	joined := strings.Join(problems, "\n")
	for _, want := range []string{`"/v3"`, "secret key is empty (from TRAEFIK_RANCHER_SECRET)"} {
		if n := strings.Count(joined, want); n != 1 {
			t.Errorf("%q logged %d times:\n%s", want, n, joined)
		}
	}
	if strings.Contains(joined, "rancher: rancher:") || strings.Contains(joined, "CATTLE_ACCESS_KEY") {
		t.Errorf("problems name the wrong thing:\n%s", joined)
	}
}

// TestListenersLoggedOnceBound: with TRAEFIK_LOG_FORMAT=json every log
// line is JSON, and the edge's listeners and the dashboard's address are
// logged once they are bound.
func TestListenersLoggedOnceBound(t *testing.T) {
	adminPort := freePort(t)
	env := quietPorts(t, map[string]string{
		"TRAEFIK_LOG_FORMAT":   "json",
		"TRAEFIK_HTTPS_ENABLE": "false",
		"TRAEFIK_ADMIN_PORT":   strconv.Itoa(adminPort),
		"TRAEFIK_ADMIN_BIND":   "127.0.0.1",
	})
	var logs bytes.Buffer
	w := &syncWriter{w: &logs}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, mapEnv(env), io.Discard, w) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		w.mu.Lock()
		got := logs.String()
		w.mu.Unlock()
		if strings.Contains(got, "dashboard listening") && strings.Contains(got, "edge serving") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("listeners not logged:\n%s", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(adminPort) + "/ping")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON log line: %q", line)
		}
		msg, _ := rec["msg"].(string)
		seen[msg]++
		if msg == "dashboard listening" && rec["address"] != "127.0.0.1:"+strconv.Itoa(adminPort) {
			t.Errorf("dashboard address %v", rec["address"])
		}
		if msg == "edge serving" && rec["http"] != "127.0.0.1:"+env["TRAEFIK_HTTP_PORT"] {
			t.Errorf("http listener %v", rec["http"])
		}
	}
	if seen["dashboard listening"] != 1 || seen["edge serving"] != 1 {
		t.Errorf("logged %v", seen)
	}
}

// TestCommunityNames: the community images' names are aliases; the same
// setting under two names with different values is refused; unknown
// TRAEFIK_* names and ignored ones are warned about in check and serve;
// rawmind0's TRAEFIK_SSL_CRT_FILE is never read as an input.
func TestCommunityNames(t *testing.T) {
	t.Run("aliases", func(t *testing.T) {
		cfg, err := loadConfig(env{getenv: mapEnv(map[string]string{
			"TRAEFIK_TRUSTEDIPS":         "10.0.0.0/8",
			"TRAEFIK_INSECURE_SKIP":      "true",
			"TRAEFIK_RANCHER_HEALTHCHEK": "true",
			"TRAEFIK_RANCHER_ENDPOINT":   "http://rancher:8080/v1",
		})})
		if err != nil {
			t.Fatal(err)
		}
		if len(cfg.TrustedIPs) != 1 || !cfg.BackendInsecure || !cfg.Rancher.HealthFilter {
			t.Errorf("aliases not honoured: %+v %v %+v", cfg.TrustedIPs, cfg.BackendInsecure, cfg.Rancher)
		}
	})
	t.Run("conflict", func(t *testing.T) {
		_, err := loadConfig(env{getenv: mapEnv(map[string]string{
			"TRAEFIK_TRUSTEDIPS":  "10.0.0.0/8",
			"TRAEFIK_TRUSTED_IPS": "192.168.0.0/16",
		})})
		if err == nil || !strings.Contains(err.Error(), "TRAEFIK_TRUSTEDIPS and TRAEFIK_TRUSTED_IPS are the same setting") {
			t.Errorf("conflict: %v", err)
		}
		if _, err := loadConfig(env{getenv: mapEnv(map[string]string{"TRAEFIK_TRUSTEDIPS": "10.0.0.0/8", "TRAEFIK_TRUSTED_IPS": "10.0.0.0/8"})}); err != nil {
			t.Errorf("the same value twice is fine: %v", err)
		}
	})
	t.Run("ssl crt file is an output", func(t *testing.T) {
		certPEM, keyPEM, _ := certs.SelfSigned([]string{"a.example.com"}, time.Hour)
		cfg, err := loadConfig(env{getenv: mapEnv(map[string]string{
			"TRAEFIK_SSL_CRT": string(certPEM), "TRAEFIK_SSL_KEY": string(keyPEM),
			"TRAEFIK_SSL_CRT_FILE": "/opt/traefik/certs/traefik.crt", "TRAEFIK_SSL_KEY_FILE": "/opt/traefik/certs/traefik.key",
		})})
		if err != nil || len(cfg.Pairs) != 1 {
			t.Fatalf("rawmind0's output paths were read: %v", err)
		}
	})
	t.Run("unknown and ignored are warned", func(t *testing.T) {
		environ := []string{"TRAEFIK_HTTPS_ENABLE=false", "TRAEFIK_ADMIN_PORT=0", "TRAEFIK_BIND=127.0.0.1", "TRAEFIK_HTTP_PORT=" + strconv.Itoa(freePort(t)),
			"TRAEFIK_HTTP_PROT=8080", "TRAEFIK_USAGE_ENABLE=true", "PATH=/bin",
			// What Docker links and Kubernetes inject for a service called traefik.
			"TRAEFIK_PORT=tcp://10.43.0.7:80", "TRAEFIK_PORT_80_TCP_ADDR=10.43.0.7", "TRAEFIK_SERVICE_HOST=10.43.0.7", "TRAEFIK_SERVICE_PORT_HTTP=80"}
		var out, logs bytes.Buffer
		if err := runEnviron(context.Background(), []string{"check"}, environ, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		if err := runEnviron(ctx, nil, environ, io.Discard, &syncWriter{w: &logs}); err != nil {
			t.Fatal(err)
		}
		for name, got := range map[string]string{"check": out.String(), "serve": logs.String()} {
			if !strings.Contains(got, "TRAEFIK_HTTP_PROT is not a setting") || !strings.Contains(got, "TRAEFIK_USAGE_ENABLE is ignored") {
				t.Errorf("%s does not warn:\n%s", name, got)
			}
			if strings.Contains(got, "PATH") || strings.Contains(got, "TRAEFIK_PORT") || strings.Contains(got, "TRAEFIK_SERVICE") {
				t.Errorf("%s warns about a variable the user did not set:\n%s", name, got)
			}
		}
	})
}

// TestRancherEnable: rawmind0's TRAEFIK_RANCHER_ENABLE turns Rancher
// discovery off even when Rancher injected CATTLE_URL, and on without an
// endpoint is refused with the way to get one.
func TestRancherEnable(t *testing.T) {
	cattle := map[string]string{"CATTLE_URL": "http://rancher:8080/v1", "CATTLE_ACCESS_KEY": "AK", "CATTLE_SECRET_KEY": "SK"}
	with := func(m map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range cattle {
			out[k] = v
		}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	cfg, err := loadConfig(env2(with(map[string]string{"TRAEFIK_RANCHER_ENABLE": "false"})))
	if err != nil || cfg.Rancher != nil {
		t.Errorf("TRAEFIK_RANCHER_ENABLE=false still reads Rancher: %v %+v", err, cfg.Rancher)
	}
	cfg, err = loadConfig(env2(map[string]string{"TRAEFIK_RANCHER_ENABLE": "false", "TRAEFIK_RANCHER_MODE": "metadata"}))
	if err != nil || cfg.Metadata != nil {
		t.Errorf("TRAEFIK_RANCHER_ENABLE=false still reads metadata: %v %+v", err, cfg.Metadata)
	}
	cfg, err = loadConfig(env2(with(map[string]string{"TRAEFIK_RANCHER_ENABLE": "true", "TRAEFIK_RANCHER_MODE": "api"})))
	if err != nil || cfg.Rancher == nil {
		t.Errorf("api mode: %v %+v", err, cfg.Rancher)
	}
	_, err = loadConfig(env2(map[string]string{"TRAEFIK_RANCHER_ENABLE": "true"}))
	if err == nil || !strings.Contains(err.Error(), "io.rancher.container.create_agent=true") {
		t.Errorf("enabled without an endpoint: %v", err)
	}
}

// TestGlobalConstraints: TRAEFIK_CONSTRAINTS, in rawmind0's TOML form, is
// ANDed with the Rancher provider's own constraints, global first.
func TestGlobalConstraints(t *testing.T) {
	cfg, err := loadConfig(env{getenv: mapEnv(map[string]string{
		"TRAEFIK_CONSTRAINTS":         `"tag==api", "tag!=internal*"`,
		"TRAEFIK_RANCHER_CONSTRAINTS": "tag==prod",
		"TRAEFIK_RANCHER_ENDPOINT":    "http://rancher:8080/v1",
	})})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Rancher.Constraints, " "); got != "tag==api tag!=internal* tag==prod" {
		t.Errorf("constraints %q", got)
	}
	cfg, err = loadConfig(env2(map[string]string{
		"TRAEFIK_CONSTRAINTS": `"tag==api"`, "TRAEFIK_RANCHER_CONSTRAINTS": "tag!=x", "TRAEFIK_RANCHER_MODE": "metadata",
	}))
	if err != nil || strings.Join(cfg.Metadata.Constraints, " ") != "tag==api tag!=x" {
		t.Errorf("metadata constraints: %v %+v", err, cfg.Metadata)
	}
	_, err = loadConfig(env{getenv: mapEnv(map[string]string{"TRAEFIK_CONSTRAINTS": "label==x"})})
	if err == nil || !strings.Contains(err.Error(), "TRAEFIK_CONSTRAINTS") {
		t.Errorf("bad constraint: %v", err)
	}
}

// TestLogAndAccessFiles: the old default paths mean the standard streams;
// another path is written to.
func TestLogAndAccessFiles(t *testing.T) {
	dir := t.TempDir()
	cfg, err := loadConfig(env{getenv: mapEnv(map[string]string{
		"TRAEFIK_LOG_FILE": "/opt/traefik/log/traefik.log", "TRAEFIK_ACCESS_FILE": "/opt/traefik/log/access.log",
	})})
	if err != nil || cfg.LogFile != "" || cfg.AccessFile != "" || cfg.AccessLog != "" {
		t.Errorf("old defaults: %v %q %q %q", err, cfg.LogFile, cfg.AccessFile, cfg.AccessLog)
	}
	logFile := filepath.Join(dir, "edge.log")
	env := quietPorts(t, map[string]string{"TRAEFIK_LOG_FILE": logFile, "TRAEFIK_HTTPS_ENABLE": "false", "TRAEFIK_DEBUG": "true"})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := run(ctx, nil, mapEnv(env), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(logFile)
	if !strings.Contains(string(b), "edge serving") {
		t.Errorf("log file:\n%s", b)
	}
	if cfg, err := loadConfig(env2(map[string]string{"TRAEFIK_DEBUG": "true"})); err != nil || cfg.LogLevel != slog.LevelDebug {
		t.Errorf("TRAEFIK_DEBUG=true: %v %v", err, cfg.LogLevel)
	}
	if _, err := loadConfig(env2(map[string]string{"TRAEFIK_LOG_FILE": "/nonexistent/dir/edge.log"})); err == nil || !strings.Contains(err.Error(), "TRAEFIK_LOG_FILE") {
		t.Errorf("missing directory: %v", err)
	}
}

func env2(m map[string]string) env { return env{getenv: mapEnv(m)} }

// TestEveryCommunityVariableHasAnAnswer: nothing either image read is
// silently ignored, and docs/migrating.md says so for each (regenerate
// its table with `edge help migrating`).
func TestEveryCommunityVariableHasAnAnswer(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range communityVars {
		if seen[v.name] {
			t.Errorf("%s listed twice", v.name)
		}
		seen[v.name] = true
		if d, ok := disposition(v.name); !ok || d == "" {
			t.Errorf("%s: the edge does nothing with it, silently", v.name)
		}
		if strings.HasPrefix(v.name, "TRAEFIK_") && !knownVariable(v.name) {
			t.Errorf("%s would be warned as unknown", v.name)
		}
	}
	var table bytes.Buffer
	writeMigrating(&table)
	doc, err := os.ReadFile("../../docs/migrating.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(doc), table.String()) {
		t.Error("docs/migrating.md does not end with the current table; regenerate it with `go run ./cmd/edge help migrating`")
	}
}

// TestMinTLSAndDigest: the catalog's older TLS choices serve TLS 1.2 with
// a warning; digest users are refused with the way out.
func TestMinTLSAndDigest(t *testing.T) {
	for _, v := range []string{"VersionTLS10", "VersionTLS11", "VersionSSL30"} {
		cfg, err := loadConfig(env2(map[string]string{"TRAEFIK_HTTPS_MIN_TLS": v}))
		if err != nil || cfg.MinTLS != tls.VersionTLS12 || len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], v) {
			t.Errorf("%s: %v %x %q", v, err, cfg.MinTLS, cfg.Warnings)
		}
	}
	if cfg, err := loadConfig(env2(map[string]string{"TRAEFIK_HTTPS_MIN_TLS": "VersionTLS13"})); err != nil || cfg.MinTLS != tls.VersionTLS13 {
		t.Errorf("VersionTLS13: %v %x", err, cfg.MinTLS)
	}
	for name, env := range map[string]map[string]string{
		"method": {"TRAEFIK_ADMIN_AUTH_METHOD": "digest"},
		"users":  {"TRAEFIK_ADMIN_DIGEST_AUTH_USERS": "admin:traefik:0123"},
	} {
		if _, err := loadConfig(env2(env)); err == nil || !strings.Contains(err.Error(), "htpasswd -nbB") {
			t.Errorf("digest %s: %v", name, err)
		}
	}
}

// TestSSLPath: every *.crt with a matching *.key in TRAEFIK_SSL_PATH is
// served, as rawmind0's image did; a lone certificate is warned about and
// a missing directory refused.
func TestSSLPath(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a", "b"} {
		c, k, err := certs.SelfSigned([]string{n + ".example.com"}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, n+".crt"), c, 0o600)
		if n == "a" {
			os.WriteFile(filepath.Join(dir, n+".key"), k, 0o600)
		}
	}
	env := quietPorts(t, map[string]string{"TRAEFIK_SSL_PATH": dir})
	cfg, err := loadConfig(env2(env))
	if err != nil || len(cfg.Pairs) != 1 || len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], "b.crt has no matching b.key") {
		t.Fatalf("%v pairs=%d warnings=%q", err, len(cfg.Pairs), cfg.Warnings)
	}
	out, err := checkOnly(env)
	if err != nil || !strings.Contains(out, "a.example.com") {
		t.Errorf("check: %v\n%s", err, out)
	}
	if _, err := loadConfig(env2(map[string]string{"TRAEFIK_SSL_PATH": filepath.Join(dir, "nope")})); err == nil || !strings.Contains(err.Error(), "TRAEFIK_SSL_PATH") {
		t.Errorf("missing directory: %v", err)
	}
}

// TestServeHonoursMinTLSAndAccessFile: TRAEFIK_HTTPS_MIN_TLS=VersionTLS13
// refuses a TLS 1.2 client, and a TRAEFIK_ACCESS_FILE path receives the
// access log.
func TestServeHonoursMinTLSAndAccessFile(t *testing.T) {
	dir := t.TempDir()
	access := filepath.Join(dir, "access.log")
	env := quietPorts(t, map[string]string{"TRAEFIK_HTTPS_MIN_TLS": "VersionTLS13", "TRAEFIK_ACCESS_FILE": access})
	stop := startEdgeProcess(t, env)
	addr := "127.0.0.1:" + env["TRAEFIK_HTTPS_PORT"]
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var c *tls.Conn
		if c, err = tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}); err == nil {
			c.Close()
			break
		}
	}
	if err != nil {
		t.Fatalf("TLS 1.3 refused: %v", err)
	}
	if c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12}); err == nil {
		c.Close()
		t.Error("a TLS 1.2 client was served with TRAEFIK_HTTPS_MIN_TLS=VersionTLS13")
	}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := hc.Get("https://" + addr + "/x")
	if err == nil {
		resp.Body.Close()
	}
	stop()
	if b, _ := os.ReadFile(access); !strings.Contains(string(b), "GET /x") {
		t.Errorf("access file %q", b)
	}
}

// TestCheckOnline: `edge check --online` contacts Rancher with the key and
// the ACME directory, and fails, in plain words, when either is wrong
// (plain `edge check` reads Rancher too, but reports a failure as what
// serve would retry).
func TestCheckOnline(t *testing.T) {
	rancher, err := ranchertest.New(ranchertest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rancher.Close()
	access, secret := rancher.EnvironmentKey()
	base := map[string]string{"TRAEFIK_HTTPS_ENABLE": "false", "TRAEFIK_RANCHER_ENDPOINT": rancher.ProjectURL(), "TRAEFIK_RANCHER_ACCESSKEY": access}
	good := quietPorts(t, base)
	good["TRAEFIK_RANCHER_SECRET"] = secret
	var out bytes.Buffer
	if err := run(context.Background(), []string{"check", "--online"}, mapEnv(good), &out, io.Discard); err != nil || !strings.Contains(out.String(), ": OK") {
		t.Errorf("good key: %v\n%s", err, out.String())
	}
	bad := quietPorts(t, base)
	bad["TRAEFIK_RANCHER_SECRET"] = "wrong-secret"
	out.Reset()
	err = run(context.Background(), []string{"check", "--online"}, mapEnv(bad), &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "rancher rejected the API key (from TRAEFIK_RANCHER_ACCESSKEY) (401)") || strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("wrong key: %v\n%s", err, out.String())
	}
	acmeEnv := quietPorts(t, map[string]string{"TRAEFIK_ACME_ENABLE": "true", "TRAEFIK_ACME_EMAIL": "ops@example.com",
		"TRAEFIK_ACME_STORAGE": t.TempDir(), "TRAEFIK_ACME_CASERVER": "https://127.0.0.1:1/dir"})
	err = run(context.Background(), []string{"check", "--online"}, mapEnv(acmeEnv), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "cannot reach the CA's directory https://127.0.0.1:1/dir") {
		t.Errorf("unreachable CA: %v", err)
	}
}

// TestRefusedOutLoud: what the edge cannot do is refused with the way
// out, never run without: a Docker provider, rawmind0's Traefik TOML rules
// file; TRAEFIK_FILE_ENABLE=false keeps a routes file out.
func TestRefusedOutLoud(t *testing.T) {
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"docker":        {map[string]string{"TRAEFIK_DOCKER_ENABLE": "true"}, "there is no Docker provider"},
		"toml rules":    {map[string]string{"TRAEFIK_FILE_ENABLE": "true"}, "/opt/traefik/etc/rules.toml is a Traefik TOML rules file"},
		"toml filename": {map[string]string{"TRAEFIK_FILE_NAME": "/etc/traefik/rules.toml"}, "Traefik TOML rules file"},
	} {
		if _, err := loadConfig(env2(tc.env)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", name, err)
		}
	}
	cfg, err := loadConfig(env2(map[string]string{"TRAEFIK_FILE_ENABLE": "false", "TRAEFIK_FILE_NAME": "/opt/traefik/etc/rules.toml"}))
	if err != nil || cfg.File != "" {
		t.Errorf("TRAEFIK_FILE_ENABLE=false: %v %q", err, cfg.File)
	}
	if cfg, err := loadConfig(env2(map[string]string{"TRAEFIK_DOCKER_ENABLE": "false"})); err != nil || len(cfg.Warnings) != 0 {
		t.Errorf("TRAEFIK_DOCKER_ENABLE=false: %v %q", err, cfg.Warnings)
	}
}
