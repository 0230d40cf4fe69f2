package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/rancher-edge/edge/discovery/rancher/ranchertest"
)

// The Rancher 1.6 catalog entry (deploy/rancher-catalog) is rendered here
// the way Rancher renders it: docker-compose.yml.tpl is a Go template over
// .Values (the answers, as strings); the YAML is parsed, then ${var} in its
// string values is replaced by the answer ($$ escapes a dollar), as
// libcompose interpolates. Its environment must pass edge check and mean
// what the questions say.

const catalogDir = "deploy/rancher-catalog/templates/rancher-edge"

type catalogQuestion struct {
	Variable string   `yaml:"variable"`
	Type     string   `yaml:"type"`
	Default  any      `yaml:"default"`
	Options  []string `yaml:"options"`
}

// catalogQuestions reads the questions of version 0.
func catalogQuestions(t *testing.T) []catalogQuestion {
	t.Helper()
	var rc struct {
		Catalog struct {
			Questions []catalogQuestion `yaml:"questions"`
		} `yaml:"catalog"`
	}
	b, err := os.ReadFile(filepath.Join(moduleRoot(t), catalogDir, "0", "rancher-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &rc); err != nil {
		t.Fatal(err)
	}
	return rc.Catalog.Questions
}

// catalogAnswers are the questions' defaults as Rancher passes them
// (strings), with overrides.
func catalogAnswers(t *testing.T, overrides ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, q := range catalogQuestions(t) {
		switch d := q.Default.(type) {
		case nil:
			out[q.Variable] = ""
		case string:
			out[q.Variable] = d
		default:
			out[q.Variable] = fmt.Sprint(d)
		}
	}
	for i := 0; i+1 < len(overrides); i += 2 {
		if _, ok := out[overrides[i]]; !ok {
			t.Fatalf("no question %s", overrides[i])
		}
		out[overrides[i]] = overrides[i+1]
	}
	return out
}

var interpolation = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// interpolate replaces ${var} and $var by their answers and $$ by $.
func interpolate(s string, values map[string]string) (string, error) {
	var err error
	out := interpolation.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		name := strings.Trim(m, "${}")
		v, ok := values[name]
		if !ok {
			err = fmt.Errorf("%s has no answer", m)
		}
		return v
	})
	return out, err
}

// interpolateAll walks parsed YAML, interpolating string values; a key
// that needs interpolation is an error (keys are not interpolated).
func interpolateAll(t *testing.T, v any, values map[string]string) any {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if strings.Contains(k, "${") {
				t.Errorf("key %q would not be interpolated; use {{ .Values.x }}", k)
			}
			v[k] = interpolateAll(t, x, values)
		}
	case []any:
		for i, x := range v {
			v[i] = interpolateAll(t, x, values)
		}
	case string:
		s, err := interpolate(v, values)
		if err != nil {
			t.Error(err)
		}
		return s
	}
	return v
}

// renderCatalog renders file (docker-compose.yml.tpl or
// rancher-compose.yml) with the answers.
func renderCatalog(t *testing.T, file string, values map[string]string) map[string]any {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(moduleRoot(t), catalogDir, "0", file))
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := template.New(file).Option("missingkey=error").Parse(string(src))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tpl.Execute(&buf, map[string]any{"Values": values}); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("rendered %s is not YAML: %v\n%s", file, err, buf.String())
	}
	return interpolateAll(t, doc, values).(map[string]any)
}

// dig follows keys through maps.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// TestCatalogQuestionsAndVariables: every ${var} and .Values.x in the
// templates has a question, and every question is used.
func TestCatalogQuestionsAndVariables(t *testing.T) {
	t.Parallel()
	questions := map[string]bool{}
	for _, q := range catalogQuestions(t) {
		if questions[q.Variable] {
			t.Errorf("question %s twice", q.Variable)
		}
		questions[q.Variable] = true
		if q.Type == "enum" && !slices.Contains(q.Options, fmt.Sprint(q.Default)) {
			t.Errorf("question %s: default %v is not an option", q.Variable, q.Default)
		}
	}
	used := map[string]bool{}
	ref := regexp.MustCompile(`\$\$\{[^}]*\}|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\.Values\.([A-Za-z_][A-Za-z0-9_]*)`)
	for _, file := range []string{"docker-compose.yml.tpl", "rancher-compose.yml"} {
		src, err := os.ReadFile(filepath.Join(moduleRoot(t), catalogDir, "0", file))
		if err != nil {
			t.Fatal(err)
		}
		text := string(src)
		if file == "rancher-compose.yml" { // the questions' own text is not a use
			text = text[strings.Index(text, "\nservices:"):]
		}
		for _, m := range ref.FindAllStringSubmatch(text, -1) {
			name := m[1] + m[2]
			if name == "" {
				continue // $${…} is passed to Rancher as ${…}
			}
			used[name] = true
			if !questions[name] {
				t.Errorf("%s uses %s, which no question asks", file, name)
			}
		}
	}
	for q := range questions {
		if !used[q] {
			t.Errorf("question %s is used by no template", q)
		}
	}
}

// TestCatalogRendersAndChecks renders the entry with the catalog's answers
// and runs edge check on the environment it gives the edge.
func TestCatalogRendersAndChecks(t *testing.T) {
	t.Parallel()
	secrets := t.TempDir() // what Rancher mounts at /run/secrets
	certPath, keyPath, _ := writeCert(t, secrets, "edge", "*.example.com")
	certPEM, _ := os.ReadFile(certPath)
	keyPEM, _ := os.ReadFile(keyPath)

	// check reads Rancher once: the real rancher-metadata (through a
	// loopback relay, as its address inside a container cannot be reached
	// here) in metadata mode, the fake Rancher API in api mode.
	_, metadataURL := metadataRelay(t, labelledWhoami("80", "10.42.0.1"))
	api, err := ranchertest.New(ranchertest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.Close)
	api.AddService(api.AddStack(ranchertest.StackSpec{Name: "web"}), ranchertest.ServiceSpec{
		Name: "whoami", Labels: map[string]string{"traefik.port": "80", "traefik.tags": "api"}, HealthCheck: true, Scale: 2,
	})
	accessKey, secretKey := api.EnvironmentKey()

	tests := []struct {
		name    string
		answers []string
		rancher map[string]string // what Rancher adds to the environment
		check   func(t *testing.T, compose map[string]any, cfg config, out string)
	}{{
		name: "defaults",
		check: func(t *testing.T, compose map[string]any, cfg config, out string) {
			if cfg.Metadata == nil || cfg.Rancher != nil || cfg.Metadata.Prefix != "2016-07-29" || cfg.Metadata.Exposed || cfg.Metadata.HealthFilter {
				t.Errorf("metadata mode: %+v, api %+v", cfg.Metadata, cfg.Rancher)
			}
			if cfg.HTTPPort != 8080 || cfg.HTTPSPort != 8443 || cfg.HTTPSEnable || cfg.Admin.Port != 8000 || cfg.ACME.Enable || len(cfg.Pairs) != 0 ||
				cfg.MinTLS != tls.VersionTLS12 || cfg.Admin.PublicMetrics || len(cfg.TrustedIPs) != 0 {
				t.Errorf("config %+v", cfg)
			}
			if !strings.Contains(out, "/2016-07-29 (long-polling") || !strings.Contains(out, "rancher-metadata: read 1 stack, 1 service, 1 container: 1 route") {
				t.Errorf("check output:\n%s", out)
			}
			labels := dig(compose, "services", "edge", "labels").(map[string]any)
			if labels["io.rancher.scheduler.global"] != "true" || labels["io.rancher.scheduler.affinity:host_label"] != "traefik_lb=true" ||
				labels["io.rancher.scheduler.affinity:container_label_ne"] != "io.rancher.stack_service.name=${stack_name}/${service_name}" {
				t.Errorf("labels %v", labels)
			}
			if _, ok := labels["io.rancher.container.create_agent"]; ok {
				t.Error("metadata mode asks Rancher for an API key")
			}
			if ports := fmt.Sprint(dig(compose, "services", "edge", "ports")); ports != "[8080:8080/tcp 8000:8000/tcp]" {
				t.Errorf("ports %s", ports)
			}
			if dig(compose, "volumes") != nil || dig(compose, "secrets") != nil {
				t.Error("volumes or secrets without ACME or secrets")
			}
			// 0, the questions' default, keeps the edge's bounds without
			// passing a 0 that Traefik read as "no limit".
			if env := fmt.Sprint(dig(compose, "services", "edge", "environment")); strings.Contains(env, "TRAEFIK_TIMEOUT") {
				t.Errorf("timeouts passed by default: %s", env)
			}
			def, _ := loadConfig(envOf(nil))
			if cfg.Limits.Read != def.Limits.Read || cfg.Limits.Header != def.Limits.Header || cfg.Limits.Read == 0 {
				t.Errorf("limits %+v, want the edge's defaults %+v", cfg.Limits, def.Limits)
			}
		},
	}, {
		name: "api mode, https, constraints, health filter",
		answers: []string{"rancher_integration", "api", "https_enable", "true", "constraints", "tag==api", "rancher_healthcheck", "true", "rancher_domain", "example.com", "rancher_exposed", "true",
			"https_min_tls", "VersionTLS13", "metrics_enable", "true", "trusted_ips", "10.0.0.0/8"},
		rancher: map[string]string{"CATTLE_URL": api.URL() + "/v1", "CATTLE_ACCESS_KEY": accessKey, "CATTLE_SECRET_KEY": secretKey},
		check: func(t *testing.T, compose map[string]any, cfg config, out string) {
			rc := cfg.Rancher
			if rc == nil || cfg.Metadata != nil || rc.EndpointSource != "CATTLE_URL" || rc.KeySource != "CATTLE_ACCESS_KEY" ||
				!rc.HealthFilter || !rc.Exposed || rc.Domain != "example.com" || fmt.Sprint(rc.Constraints) != "[tag==api]" {
				t.Errorf("api mode: %+v", rc)
			}
			labels := dig(compose, "services", "edge", "labels").(map[string]any)
			if labels["io.rancher.container.create_agent"] != "true" || labels["io.rancher.container.agent.role"] != "environment" {
				t.Errorf("labels %v", labels)
			}
			if !cfg.HTTPSEnable || fmt.Sprint(dig(compose, "services", "edge", "ports")) != "[8080:8080/tcp 8443:8443/tcp 8000:8000/tcp]" {
				t.Errorf("https: %v", dig(compose, "services", "edge", "ports"))
			}
			if cfg.MinTLS != tls.VersionTLS13 || !cfg.Admin.PublicMetrics || fmt.Sprint(cfg.TrustedIPs) != "[10.0.0.0/8]" {
				t.Errorf("min TLS %x, public metrics %v, trusted %v", cfg.MinTLS, cfg.Admin.PublicMetrics, cfg.TrustedIPs)
			}
			if !strings.Contains(out, "rancher: read 1 stack, 1 service, 2 containers: 1 route") || !strings.Contains(out, "Host:whoami.web.example.com") {
				t.Errorf("check did not read the API:\n%s", out)
			}
			if strings.Contains(out, secretKey) {
				t.Error("check printed the secret key")
			}
		},
	}, {
		name: "ACME on",
		answers: []string{"acme_enable", "true", "acme_email", "ops@example.com", "acme_challenge", "http-01", "acme_caserver", "staging",
			"https_enable", "true", "acme_vol_driver", "rancher-nfs", "acme_keytype", "RSA4096"},
		check: func(t *testing.T, compose map[string]any, cfg config, out string) {
			a := cfg.ACME
			if !a.Enable || a.Email != "ops@example.com" || fmt.Sprint(a.Challenges) != "[http-01]" || a.CA != "staging" || a.Storage != "/data/acme" || a.KeyType != "RSA4096" {
				t.Errorf("acme %+v", a)
			}
			if v := fmt.Sprint(dig(compose, "services", "edge", "volumes")); v != "[rancher-edge-acme:/data]" {
				t.Errorf("volumes %s", v)
			}
			if d := dig(compose, "volumes", "rancher-edge-acme", "driver"); d != "rancher-nfs" {
				t.Errorf("volume driver %v", d)
			}
		},
	}, {
		name: "ACME on, importing the catalog Traefik's certificates",
		answers: []string{"acme_enable", "true", "acme_email", "ops@example.com", "https_enable", "true",
			"acme_import_volume", "traefik_acme_vol"},
		check: func(t *testing.T, compose map[string]any, cfg config, out string) {
			if v := fmt.Sprint(dig(compose, "services", "edge", "volumes")); v != "[rancher-edge-acme:/data traefik_acme_vol:/opt/traefik/acme:ro]" {
				t.Errorf("volumes %s", v)
			}
			if dig(compose, "volumes", "traefik_acme_vol", "external") != "true" {
				t.Errorf("top-level volumes %v", dig(compose, "volumes"))
			}
			if env := fmt.Sprint(dig(compose, "services", "edge", "environment")); strings.Contains(env, "TRAEFIK_ACME_IMPORT") {
				t.Errorf("the import path is the edge's default, which skips a volume without acme.json: %s", env)
			}
			if traefikACMEJSON != "/opt/traefik/acme/acme.json" {
				t.Errorf("the edge imports from %s, not where the volume is mounted", traefikACMEJSON)
			}
		},
	}, {
		name:    "timeouts",
		answers: []string{"timeout_read", "30", "timeout_write", "45", "timeout_idle", "120", "timeout_dial", "5", "timeout_header", "90"},
		check: func(t *testing.T, compose map[string]any, cfg config, out string) {
			l := cfg.Limits
			if l.Read != 30*time.Second || l.Write != 45*time.Second || l.Idle != 120*time.Second || l.Dial != 5*time.Second || l.Header != 90*time.Second {
				t.Errorf("limits %+v", l)
			}
		},
	}, {
		name:    "wildcard certificate from Rancher secrets",
		answers: []string{"cert_source", "secrets", "ssl_cert_secret", "edge_crt", "ssl_key_secret", "edge_key", "https_enable", "true"},
		rancher: map[string]string{"TRAEFIK_SECRETS_DIR": secrets},
		check: func(t *testing.T, compose map[string]any, cfg config, out string) {
			if len(cfg.Pairs) != 1 || !strings.Contains(out, "*.example.com") {
				t.Errorf("pairs %v\n%s", cfg.Pairs, out)
			}
			ss := dig(compose, "services", "edge", "secrets").([]any)
			if len(ss) != 2 || dig(ss[0], "source") != "edge_crt" || dig(ss[0], "uid") != "10001" || dig(compose, "secrets", "edge_key", "external") != "true" {
				t.Errorf("secrets %v / %v", ss, dig(compose, "secrets"))
			}
		},
	}, {
		name:    "wildcard certificate as PEM",
		answers: []string{"cert_source", "pem", "ssl_crt", string(certPEM), "ssl_key", string(keyPEM), "https_enable", "true"},
		check: func(t *testing.T, compose map[string]any, cfg config, out string) {
			if len(cfg.Pairs) != 1 || !strings.Contains(out, "*.example.com") || strings.Contains(out, "PRIVATE KEY") {
				t.Errorf("pairs %v\n%s", cfg.Pairs, out)
			}
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			values := catalogAnswers(t, tc.answers...)
			compose := renderCatalog(t, "docker-compose.yml.tpl", values)
			env := map[string]string{}
			for k, v := range dig(compose, "services", "edge", "environment").(map[string]any) {
				env[k] = fmt.Sprint(v)
			}
			if env["TRAEFIK_RANCHER_METADATA_URL"] != "" {
				t.Fatal("the template sets the metadata URL; it is Rancher's own")
			}
			if env["TRAEFIK_RANCHER_MODE"] == "metadata" {
				env["TRAEFIK_RANCHER_METADATA_URL"] = metadataURL
			}
			for k, v := range tc.rancher {
				env[k] = v
			}
			var out bytes.Buffer
			if err := run(context.Background(), []string{"check"}, mapEnv(env), &out, &out); err != nil {
				t.Fatalf("edge check: %v\n%s\nenvironment: %v", err, out.String(), env)
			}
			cfg, err := loadConfig(envOf(env))
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.Warnings) > 0 {
				t.Errorf("the catalog's environment draws warnings: %q", cfg.Warnings)
			}
			tc.check(t, compose, cfg, out.String())

			rc := renderCatalog(t, "rancher-compose.yml", values)
			hc := dig(rc, "services", "edge", "health_check")
			if dig(hc, "port") != strconv.Itoa(cfg.Admin.Port) || dig(hc, "request_line") != "GET /ping HTTP/1.0" || dig(hc, "strategy") != "recreate" {
				t.Errorf("health check %v", hc)
			}
		})
	}
}
