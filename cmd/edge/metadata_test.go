package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
)

func TestMetadataMode(t *testing.T) {
	t.Parallel()
	base := map[string]string{"TRAEFIK_HTTPS_ENABLE": "false", "TRAEFIK_RANCHER_MODE": "metadata"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}

	// The catalog's environment: metadata mode, the prefix with its slash,
	// and the CATTLE_* Rancher injects anyway.
	env := with("TRAEFIK_RANCHER_PREFIX", "/2016-07-29", "TRAEFIK_RANCHER_DOMAIN", "example.com",
		"CATTLE_URL", "http://rancher:8080/v1", "CATTLE_ACCESS_KEY", "ak", "CATTLE_SECRET_KEY", "sk")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"check"}, mapEnv(env), &out, io.Discard); err != nil {
		t.Fatalf("check: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "rancher-metadata: http://rancher-metadata.rancher.internal/2016-07-29 (long-polling /version") ||
		strings.Contains(out.String(), "rancher: http://rancher:8080") {
		t.Errorf("check output:\n%s", out.String())
	}
	cfg, err := loadConfig(envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Rancher != nil || cfg.Metadata == nil || cfg.Metadata.Domain != "example.com" || !cfg.Metadata.Exposed {
		t.Errorf("rancher %+v metadata %+v", cfg.Rancher, cfg.Metadata)
	}
	providers, err := newProviders(cfg, slog.New(slog.DiscardHandler))
	if err != nil || len(providers) != 1 || providers[0].Name() != "rancher-metadata" {
		t.Fatalf("providers %v, %v", providers, err)
	}
	if st := providers[0].Status(); st.Endpoint != "http://rancher-metadata.rancher.internal/2016-07-29" || st.Mode != "long-poll" {
		t.Errorf("status %+v", st)
	}

	cfg, err = loadConfig(envOf(with("TRAEFIK_RANCHER_INTERVALPOLL", "true", "TRAEFIK_RANCHER_REFRESH", "30",
		"TRAEFIK_RANCHER_METADATA_URL", "http://169.254.169.250")))
	if err != nil || !cfg.Metadata.IntervalPoll || !strings.Contains(describeMetadata(cfg.Metadata), "http://169.254.169.250/latest (polling /version every 30s)") {
		t.Errorf("interval poll: %v %+v", err, cfg.Metadata)
	}

	for name, tc := range map[string]struct {
		env  map[string]string
		want []string
	}{
		"2015-07-25": {with("TRAEFIK_RANCHER_PREFIX", "/2015-07-25"), []string{"TRAEFIK_RANCHER_MODE=metadata: metadata: prefix 2015-07-25 lists only the names"}},
		"bad mode":   {with("TRAEFIK_RANCHER_MODE", "external"), []string{`TRAEFIK_RANCHER_MODE: "external" is not api or metadata`}},
		"url path and constraint": {with("TRAEFIK_RANCHER_METADATA_URL", "http://rancher-metadata/latest", "TRAEFIK_RANCHER_CONSTRAINTS", "label==x"),
			[]string{"give the version as the prefix", "constraint"}},
	} {
		err := run(context.Background(), []string{"check"}, mapEnv(tc.env), io.Discard, io.Discard)
		for _, want := range tc.want {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %v, want %q", name, err, want)
			}
		}
	}
}

func envOf(m map[string]string) env { return env{getenv: mapEnv(m)} }
