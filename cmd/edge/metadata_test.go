package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	md "github.com/rancher-edge/edge/discovery/metadata/metadatatest"
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
	// and the CATTLE_* Rancher injects anyway (never read in metadata mode).
	_, relay := metadataRelay(t, labelledWhoami("8080", "10.42.0.1"))
	env := with("TRAEFIK_RANCHER_PREFIX", "/2016-07-29", "TRAEFIK_RANCHER_DOMAIN", "example.com", "TRAEFIK_RANCHER_METADATA_URL", relay,
		"CATTLE_URL", "http://rancher:8080/v1", "CATTLE_ACCESS_KEY", "ak", "CATTLE_SECRET_KEY", "sk")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"check"}, mapEnv(env), &out, io.Discard); err != nil {
		t.Fatalf("check: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"rancher-metadata: " + relay + "/2016-07-29 (long-polling /version",
		"rancher-metadata: read 1 stack, 1 service, 1 container: 1 route",
		"Host:whoami.web.example.com",
	} {
		if !strings.Contains(out.String(), want) || strings.Contains(out.String(), "rancher: http://rancher:8080") {
			t.Errorf("check output lacks %q:\n%s", want, out.String())
		}
	}
	delete(env, "TRAEFIK_RANCHER_METADATA_URL")
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

// metadataRelay runs the real rancher-metadata server with w and returns
// it with the URL of a relay on loopback that forwards to it (long polls
// included): the server lives in a network namespace of its own
// (metadatatest), which an edge in this process cannot reach directly.
func metadataRelay(t *testing.T, w md.World) (*md.Server, string) {
	t.Helper()
	s := md.Start(t, w)
	relay := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(&url.URL{Scheme: "http", Host: strings.TrimPrefix(s.URL, "http://")})
		},
		Transport: s.Transport(),
		ErrorLog:  log.New(io.Discard, "", 0), // a long poll in flight is cancelled at the end
	})
	t.Cleanup(relay.Close)
	return s, relay.URL
}

// labelledWhoami is stack web with service whoami (traefik.enable=true,
// tags api) and one healthy container at ip.
func labelledWhoami(port, ip string) md.World {
	return md.World{Stacks: []md.Stack{{Name: "web", Services: []md.Service{{
		Name: "whoami", Labels: map[string]string{"traefik.port": port, "traefik.enable": "true", "traefik.tags": "api"},
		Containers: []md.Container{{IP: ip, Health: "healthy"}},
	}}}}}
}

// TestServeMetadataEndToEnd runs the edge in metadata mode against the real
// rancher-metadata server and sends it requests: a service labelled in
// metadata is served, and a container turning unhealthy leaves it.
// rancher-metadata runs in a network namespace of its own (metadatatest);
// a relay on loopback forwards the edge's requests, long polls included.
func TestServeMetadataEndToEnd(t *testing.T) {
	t.Parallel()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from whoami: %s", r.Host)
	}))
	defer backend.Close()
	_, bport, _ := net.SplitHostPort(strings.TrimPrefix(backend.URL, "http://"))
	world := func(health string) md.World {
		return md.World{Stacks: []md.Stack{{Name: "Web", Services: []md.Service{{
			Name: "whoami", Labels: map[string]string{"traefik.port": bport, "traefik.enable": "true"},
			Containers: []md.Container{{IP: "127.0.0.1", Health: health}},
		}}}}}
	}
	s, relay := metadataRelay(t, world("healthy"))

	httpPort := freePort(t)
	stop := startEdgeProcess(t, map[string]string{
		"TRAEFIK_RANCHER_MODE":         "metadata",
		"TRAEFIK_RANCHER_METADATA_URL": relay,
		"TRAEFIK_RANCHER_PREFIX":       "/2016-07-29",
		"TRAEFIK_RANCHER_DOMAIN":       "example.com",
		"TRAEFIK_RANCHER_EXPOSED":      "false",
		"TRAEFIK_HTTPS_ENABLE":         "false",
		"TRAEFIK_HTTP_PORT":            strconv.Itoa(httpPort),
		"TRAEFIK_ADMIN_PORT":           "0",
	})
	defer stop()

	get := func() (int, string) {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/", httpPort), nil)
		req.Host = "whoami.web.example.com"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	waitFor := func(what string, ok func(int, string) bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			code, body := get()
			if ok(code, body) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s within 5 s: %d %s", what, code, body)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("route", func(code int, body string) bool {
		return code == 200 && body == "hello from whoami: whoami.web.example.com"
	})
	start := time.Now()
	if err := s.Publish(world("unhealthy")); err != nil {
		t.Fatal(err)
	}
	waitFor("503 once the only container is unhealthy", func(code int, _ string) bool { return code == http.StatusServiceUnavailable })
	t.Logf("unhealthy container out of rotation %v after metadata reloaded", time.Since(start).Round(time.Millisecond))
}
