package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Ports, all on 127.0.0.1.
const (
	origin1Port  = 18080
	origin2Port  = 18081
	edgePort     = 18443
	edgeHTTPPort = 18100 // the edge always serves its HTTP redirect port too
	haproxyPort  = 18444
	nginxPort    = 18445
	caddyPort    = 18446
	// The second edge build (-edge-base); 18447 is the fresh edge's.
	edgeBasePort     = 18448
	edgeBaseHTTPPort = 18102
	benchHost        = "www.bench.test"
)

// target is one proxy under test.
type target struct {
	name    string // short key: edge, haproxy, nginx, caddy
	label   string // with version, for the table
	port    int
	p       *proc
	skip    string // why it is not measured, when it is not
	version string
	// fresh marks a process started for one run: its VmHWM is not reset,
	// so its start counts with the run.
	fresh bool
}

func (t *target) pids() []int {
	if t.p == nil || !t.p.alive() {
		return nil
	}
	return tree(t.p.pid())
}

func writeFile(path, content string) error {
	return os.WriteFile(path, []byte(content), 0o644)
}

// cmdOutput runs a short command and returns its first line of output.
func cmdOutput(name string, args ...string) string {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil && len(out) == 0 {
		return ""
	}
	s := strings.TrimSpace(string(out))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// --- the edge, configured as a user would: environment and a routes file.

const edgeRoutes = `# One service over both origins, as a user would describe it.
services:
  - name: www
    labels:
      traefik.frontend.rule: "Host:www.bench.test"
      traefik.port: "%d"
    servers: ["127.0.0.1:%d", "127.0.0.1:%d"]
`

// edgeEnv is the edge's whole configuration, as a user would give it:
// environment variables and a routes file. TRAEFIK_FILE is env[5].
func (r *runner) edgeEnv(httpPort, httpsPort int, routes string) []string {
	return []string{
		"TRAEFIK_HTTP_PORT=" + strconv.Itoa(httpPort),
		"TRAEFIK_HTTPS_PORT=" + strconv.Itoa(httpsPort),
		"TRAEFIK_SSL_CERT=" + r.cfg.cert,
		"TRAEFIK_SSL_PRIVATE_KEY=" + r.cfg.key,
		"TRAEFIK_DEFAULT_CERT=" + r.cfg.cert,
		"TRAEFIK_FILE=" + routes,
		"TRAEFIK_ACCESS_LOG=off",
		"TRAEFIK_ADMIN_PORT=0",
	}
}

func (r *runner) edgeTarget() *target {
	t := &target{name: "edge", label: "rancher-edge", port: edgePort}
	return r.startEdge(t, r.cfg.edgeBin, r.cfg.edgeVersion, edgeHTTPPort)
}

// edgeBaseTarget is the second edge build, when there is one: the same
// configuration on ports of its own.
func (r *runner) edgeBaseTarget() *target {
	t := &target{name: "edge-base", label: "rancher-edge (base)", port: edgeBasePort}
	return r.startEdge(t, r.cfg.edgeBase, r.cfg.edgeBaseVersion, edgeBaseHTTPPort)
}

func (r *runner) startEdge(t *target, bin, version string, httpPort int) *target {
	if bin == "" {
		t.skip = "not built (see run.log)"
		return t
	}
	t.version = strings.TrimSpace(cmdOutput(bin, "version") + " " + version)
	if version != "" {
		t.label = strings.Replace(t.label, "rancher-edge", "rancher-edge "+version, 1)
	}
	routes := filepath.Join(r.confDir, t.name+"-routes.yaml")
	if err := writeFile(routes, fmt.Sprintf(edgeRoutes, origin1Port, origin1Port, origin2Port)); err != nil {
		t.skip = err.Error()
		return t
	}
	env := r.edgeEnv(httpPort, t.port, routes)
	_ = writeFile(filepath.Join(r.confDir, t.name+".env"), strings.Join(env, "\n")+"\n")
	cmd := exec.Command(bin)
	cmd.Env = append(baseEnv(), env...)
	return r.startTarget(t, cmd)
}

// --- HAProxy

const haproxyConf = `global
    nbthread 2
    maxconn 8192
    ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256
    ssl-default-bind-options ssl-min-ver TLSv1.2

defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 60s
    option http-keep-alive

frontend fe
    bind 127.0.0.1:%d ssl crt %s alpn h2,http/1.1
    default_backend be

backend be
    balance roundrobin
    http-reuse always
    option forwardfor
    default-server pool-max-conn 1024
    server o1 127.0.0.1:%d
    server o2 127.0.0.1:%d
`

func (r *runner) haproxyTarget() *target {
	t := &target{name: "haproxy", label: "HAProxy", port: haproxyPort}
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.skip = "haproxy not installed"
		return t
	}
	if v := cmdOutput(bin, "-v"); v != "" {
		t.version = v
		if f := strings.Fields(v); len(f) >= 3 {
			t.label = "HAProxy " + strings.SplitN(f[2], "-", 2)[0]
		}
	}
	// HAProxy wants the certificate and the key in one PEM.
	pem := filepath.Join(r.cfg.tmp, "haproxy.pem")
	c, err1 := os.ReadFile(r.cfg.cert)
	k, err2 := os.ReadFile(r.cfg.key)
	if err1 != nil || err2 != nil {
		t.skip = "cannot read the certificate"
		return t
	}
	if err := os.WriteFile(pem, append(append(c, '\n'), k...), 0o600); err != nil {
		t.skip = err.Error()
		return t
	}
	conf := filepath.Join(r.confDir, "haproxy.cfg")
	if err := writeFile(conf, fmt.Sprintf(haproxyConf, haproxyPort, pem, origin1Port, origin2Port)); err != nil {
		t.skip = err.Error()
		return t
	}
	cmd := exec.Command(bin, "-db", "-f", conf)
	cmd.Env = baseEnv()
	return r.startTarget(t, cmd)
}

// --- nginx

const nginxConf = `worker_processes 2;
worker_rlimit_nofile 16384;
pid %[1]s/nginx.pid;
error_log %[2]s/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path %[1]s/nginx-body;
    proxy_temp_path %[1]s/nginx-proxy;
    fastcgi_temp_path %[1]s/nginx-fastcgi;
    uwsgi_temp_path %[1]s/nginx-uwsgi;
    scgi_temp_path %[1]s/nginx-scgi;
    keepalive_requests 1000000;
    keepalive_timeout 65s;
    http2_max_requests 1000000;

    upstream origin {
        server 127.0.0.1:%[4]d;
        server 127.0.0.1:%[5]d;
        keepalive 256;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:%[3]d ssl http2 default_server;
        server_name www.bench.test;
        ssl_certificate %[6]s;
        ssl_certificate_key %[7]s;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256;
        ssl_session_cache shared:SSL:10m;
        ssl_session_tickets on;
        location / {
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
        }
    }
}
`

func (r *runner) nginxTarget() *target {
	t := &target{name: "nginx", label: "nginx", port: nginxPort}
	bin, err := exec.LookPath("nginx")
	if err != nil {
		t.skip = "nginx not installed"
		return t
	}
	if v := cmdOutput(bin, "-v"); v != "" {
		t.version = v
		if _, after, ok := strings.Cut(v, "nginx/"); ok {
			t.label = "nginx " + strings.Fields(after)[0]
		}
	}
	conf := filepath.Join(r.confDir, "nginx.conf")
	if err := writeFile(conf, fmt.Sprintf(nginxConf, r.cfg.tmp, r.logDir, nginxPort,
		origin1Port, origin2Port, r.cfg.cert, r.cfg.key)); err != nil {
		t.skip = err.Error()
		return t
	}
	// -e keeps the startup error log off /var/log; daemon off keeps the
	// master in the foreground so its PID is the one we started.
	cmd := exec.Command(bin, "-p", r.cfg.tmp, "-c", conf, "-e", filepath.Join(r.logDir, "nginx-error.log"),
		"-g", "daemon off;")
	cmd.Env = baseEnv()
	return r.startTarget(t, cmd)
}

// --- Caddy, from its JSON config: admin off, HTTP/1.1 and HTTP/2 only
// (no HTTP/3), automatic HTTPS off, the same certificate loaded from files,
// default_sni for clients that send none (wrk sends an IP).

const caddyConf = `{
  "admin": {"disabled": true},
  "logging": {"logs": {"default": {"level": "WARN"}}},
  "storage": {"module": "file_system", "root": %[1]q},
  "apps": {
    "http": {
      "servers": {
        "bench": {
          "listen": ["127.0.0.1:%[2]d"],
          "protocols": ["h1", "h2"],
          "automatic_https": {"disable": true},
          "tls_connection_policies": [{
            "default_sni": "bench.test",
            "certificate_selection": {"any_tag": ["bench"]},
            "protocol_min": "tls1.2"
          }],
          "routes": [{
            "handle": [{
              "handler": "reverse_proxy",
              "upstreams": [{"dial": "127.0.0.1:%[3]d"}, {"dial": "127.0.0.1:%[4]d"}],
              "load_balancing": {"selection_policy": {"policy": "round_robin"}},
              "transport": {
                "protocol": "http",
                "keep_alive": {"max_idle_conns": 512, "max_idle_conns_per_host": 256}
              }
            }]
          }]
        }
      }
    },
    "tls": {
      "certificates": {
        "load_files": [{"certificate": %[5]q, "key": %[6]q, "tags": ["bench"]}]
      }
    }
  }
}
`

func (r *runner) caddyTarget() *target {
	t := &target{name: "caddy", label: "Caddy", port: caddyPort}
	if r.cfg.caddyBin == "" {
		t.skip = "caddy not installed (see run.log)"
		return t
	}
	// A `go install …@version` build may print "unknown": fall back to the
	// version bench/peers.sh installed.
	t.version = r.cfg.caddyVersion
	if v := cmdOutput(r.cfg.caddyBin, "version"); strings.HasPrefix(v, "v") {
		t.version = v
	}
	if t.version != "" {
		t.label = "Caddy " + strings.TrimPrefix(strings.Fields(t.version)[0], "v")
	}
	home := filepath.Join(r.cfg.tmp, "caddy-home")
	_ = os.MkdirAll(home, 0o700)
	conf := filepath.Join(r.confDir, "caddy.json")
	if err := writeFile(conf, fmt.Sprintf(caddyConf, filepath.Join(home, "data"), caddyPort,
		origin1Port, origin2Port, r.cfg.cert, r.cfg.key)); err != nil {
		t.skip = err.Error()
		return t
	}
	cmd := exec.Command(r.cfg.caddyBin, "run", "--config", conf)
	cmd.Env = append(baseEnv(), "HOME="+home, "XDG_DATA_HOME="+home, "XDG_CONFIG_HOME="+home)
	return r.startTarget(t, cmd)
}

// baseEnv is a minimal environment, so nothing from the caller's
// (CATTLE_*, TRAEFIK_*, GOMAXPROCS…) changes how a proxy runs.
func baseEnv() []string {
	return []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + os.TempDir(), "LANG=C"}
}
