package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// labelEdge is a real edge started through run with a routes file, serving
// routes on plain HTTP (TRAEFIK_HTTPS_ENABLE=false) unless env says
// otherwise.
type labelEdge struct {
	port    int // the port routes are served on
	dir     string
	secrets string // TRAEFIK_SECRETS_DIR
	logs    *syncWriter
	buf     *bytes.Buffer
}

// startLabelEdge writes routes (a YAML routes file) and runs the edge until
// the test ends. extra adds or overrides settings.
func startLabelEdge(t *testing.T, routes string, extra map[string]string) *labelEdge {
	t.Helper()
	dir := t.TempDir()
	e := &labelEdge{dir: dir, secrets: filepath.Join(dir, "secrets"), buf: &bytes.Buffer{}}
	e.logs = &syncWriter{w: e.buf}
	os.Mkdir(e.secrets, 0o755)
	file := filepath.Join(dir, "routes.yaml")
	if err := os.WriteFile(file, []byte(routes), 0o644); err != nil {
		t.Fatal(err)
	}
	e.port = freePort(t)
	env := map[string]string{
		"TRAEFIK_HTTP_PORT":    strconv.Itoa(e.port),
		"TRAEFIK_HTTPS_PORT":   strconv.Itoa(freePort(t)),
		"TRAEFIK_HTTPS_ENABLE": "false",
		"TRAEFIK_FILE":         file,
		"TRAEFIK_ADMIN_PORT":   "0",
		"TRAEFIK_SECRETS_DIR":  e.secrets,
	}
	for k, v := range extra {
		env[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, mapEnv(env), io.Discard, e.logs) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return e
}

// url is http://host:port/path on the edge, host resolved to loopback.
func (e *labelEdge) url(host, path string) string {
	return fmt.Sprintf("http://%s:%d%s", host, e.port, path)
}

// logText returns what the edge logged so far.
func (e *labelEdge) logText() string {
	e.logs.mu.Lock()
	defer e.logs.mu.Unlock()
	return e.buf.String()
}

// loopbackClient dials every host name on 127.0.0.1.
func loopbackClient() *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				_, port, _ := net.SplitHostPort(addr)
				return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+port)
			},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// waitStatus polls until the request answers want (the routes file is read
// asynchronously), and returns that response's body.
func waitStatus(t *testing.T, c *http.Client, e *labelEdge, newReq func() *http.Request, want int) (*http.Response, string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := c.Do(newReq())
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == want {
				return resp, string(body)
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: status %d (%q), want %d\nlogs:\n%s", newReq().URL, resp.StatusCode, body, want, e.logText())
			}
		} else if time.Now().After(deadline) {
			t.Fatalf("%s: %v\nlogs:\n%s", newReq().URL, err, e.logText())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func get(url string, hdr ...string) func() *http.Request {
	return func() *http.Request {
		r, _ := http.NewRequest(http.MethodGet, url, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		return r
	}
}

// echoBackend answers with the request's method, path and the headers the
// test asks about.
func echoBackend(t *testing.T) (port string) {
	t.Helper()
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "backend %s %s user=%q auth=%q x-auth-user=%q x-groups=%q",
			r.Method, r.URL.RequestURI(), r.Header.Get("X-User"), r.Header.Get("Authorization"),
			r.Header.Get("X-Auth-User"), r.Header.Get("X-Groups"))
	}))
	t.Cleanup(b.Close)
	_, port, _ = net.SplitHostPort(strings.TrimPrefix(b.URL, "http://"))
	return port
}

func htdigest(user, realm, pass string) string {
	sum := md5.Sum([]byte(user + ":" + realm + ":" + pass))
	return user + ":" + realm + ":" + hex.EncodeToString(sum[:])
}

func shaUser(user, pass string) string {
	sum := sha1.Sum([]byte(pass))
	return user + ":{SHA}" + base64.StdEncoding.EncodeToString(sum[:])
}

// TestDigestAuthWithCurl: a route protected by traefik.frontend.auth.digest.*
// (users from a label and from a users file given as a secret alias) is
// opened by curl's own digest implementation, and only with the right
// password; removeHeader keeps the Authorization header from the backend
// and headerField names the user to it.
func TestDigestAuthWithCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatal("curl is needed for the digest authentication test (Debian package curl)")
	}
	port := echoBackend(t)
	e := startLabelEdge(t, fmt.Sprintf(`services:
  - name: digest
    labels:
      traefik.frontend.rule: "Host:digest.test"
      traefik.port: "%s"
      traefik.frontend.auth.digest.users: "%s"
      traefik.frontend.auth.digest.usersFile: "digest_users"
      traefik.frontend.auth.digest.removeHeader: "true"
      traefik.frontend.auth.headerField: "X-User"
    servers: ["127.0.0.1"]
`, port, htdigest("alice", "traefik", "wonderland")), nil)
	os.WriteFile(filepath.Join(e.secrets, "digest_users"),
		[]byte("# ops\n"+htdigest("bob", "traefik", "builder")+"\n"+htdigest("eve", "elsewhere", "x")+"\n"), 0o600)

	c := loopbackClient()
	resp, _ := waitStatus(t, c, e, get(e.url("digest.test", "/x")), http.StatusUnauthorized)
	if ch := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(ch, `Digest realm="traefik"`) || !strings.Contains(ch, `qop="auth"`) {
		t.Errorf("challenge %q", ch)
	}
	curlGet := func(userpass, path string) (code int, body string) {
		t.Helper()
		out, err := exec.Command(curl, "-s", "--digest", "-u", userpass,
			"--resolve", fmt.Sprintf("digest.test:%d:127.0.0.1", e.port),
			"-w", "\n%{http_code}", e.url("digest.test", path)).Output()
		if err != nil {
			t.Fatalf("curl: %v", err)
		}
		s := string(out)
		i := strings.LastIndexByte(s, '\n')
		code, _ = strconv.Atoi(s[i+1:])
		return code, s[:i]
	}
	for _, tc := range []struct {
		userpass string
		code     int
	}{
		{"alice:wonderland", 200}, {"bob:builder", 200},
		{"alice:wrong", 401}, {"nobody:wonderland", 401},
		{"eve:x", 401}, // another realm never authenticates, as in Traefik
	} {
		code, body := curlGet(tc.userpass, "/a/b?c=d")
		if code != tc.code {
			t.Errorf("%s: %d %q, want %d", strings.Split(tc.userpass, ":")[0], code, body, tc.code)
			continue
		}
		user := strings.Split(tc.userpass, ":")[0]
		if code == 200 && body != fmt.Sprintf(`backend GET /a/b?c=d user=%q auth="" x-auth-user="" x-groups=""`, user) {
			t.Errorf("backend saw %q", body)
		}
	}
}

// TestBasicAuthUsersFileRotates: traefik.frontend.auth.basic.usersFile read
// through the secrets rules, re-read when it changes; a users file that
// cannot be read keeps the route closed and says why.
func TestBasicAuthUsersFileRotates(t *testing.T) {
	port := echoBackend(t)
	e := startLabelEdge(t, fmt.Sprintf(`services:
  - name: basic
    labels:
      traefik.frontend.rule: "Host:basic.test"
      traefik.port: "%[1]s"
      traefik.frontend.auth.basic.usersFile: "htpasswd"
    servers: ["127.0.0.1"]
  - name: missing
    labels:
      traefik.frontend.rule: "Host:missing.test"
      traefik.port: "%[1]s"
      traefik.frontend.auth.basic.usersFile: "/nonexistent/htpasswd"
    servers: ["127.0.0.1"]
`, port), nil)
	users := filepath.Join(e.secrets, "htpasswd")
	os.WriteFile(users, []byte(shaUser("ann", "one")+"\n"), 0o600)
	c := loopbackClient()
	withAuth := func(u, p string) func() *http.Request {
		return func() *http.Request {
			r := get(e.url("basic.test", "/"))()
			r.SetBasicAuth(u, p)
			return r
		}
	}
	waitStatus(t, c, e, withAuth("ann", "one"), 200)
	waitStatus(t, c, e, withAuth("ann", "two"), 401)

	// Rotation: the file now holds another password.
	os.WriteFile(users, []byte(shaUser("ann", "two")+"\n"), 0o600)
	waitStatus(t, c, e, withAuth("ann", "two"), 200)
	waitStatus(t, c, e, withAuth("ann", "one"), 401)

	// The route whose users file does not exist is not served open.
	resp, _ := waitStatus(t, c, e, get(e.url("missing.test", "/")), http.StatusNotFound)
	resp.Body.Close()
	if !strings.Contains(e.logText(), "basic auth") {
		t.Errorf("the skipped route was not reported:\n%s", e.logText())
	}
}

// TestForwardAuthEndToEnd: traefik.frontend.auth.forward.* against a small
// real authentication server: allowed requests reach the backend with the
// listed response headers, denied ones get the server's own answer, and an
// unreachable server answers 500 without letting anything through.
func TestForwardAuthEndToEnd(t *testing.T) {
	port := echoBackend(t)
	var asked atomic.Value
	auth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Store(fmt.Sprintf("%s %s method=%s uri=%s host=%s token=%s", r.Method, r.URL.Path,
			r.Header.Get("X-Forwarded-Method"), r.Header.Get("X-Forwarded-Uri"), r.Header.Get("X-Forwarded-Host"), r.Header.Get("X-Token")))
		if r.Header.Get("X-Token") != "good" {
			w.Header().Set("Location", "https://login.test/?next="+r.Header.Get("X-Forwarded-Uri"))
			w.Header().Set("Set-Cookie", "flow=1")
			w.WriteHeader(http.StatusFound)
			io.WriteString(w, "please log in")
			return
		}
		w.Header().Set("X-Auth-User", "alice")
		w.Header().Set("X-Groups", "ops,dev")
		w.Header().Set("X-Internal", "not copied")
	}))
	defer auth.Close()
	dead := freePort(t)
	e := startLabelEdge(t, fmt.Sprintf(`services:
  - name: fwd
    labels:
      traefik.frontend.rule: "Host:fwd.test"
      traefik.port: "%[1]s"
      traefik.frontend.auth.forward.address: "%[2]s/verify"
      traefik.frontend.auth.forward.authResponseHeaders: "X-Auth-User,X-Groups"
    servers: ["127.0.0.1"]
  - name: down
    labels:
      traefik.frontend.rule: "Host:down.test"
      traefik.port: "%[1]s"
      traefik.frontend.auth.forward.address: "http://127.0.0.1:%[3]d/verify"
    servers: ["127.0.0.1"]
`, port, auth.URL, dead), nil)
	c := loopbackClient()

	_, body := waitStatus(t, c, e, func() *http.Request {
		r, _ := http.NewRequest(http.MethodDelete, e.url("fwd.test", "/items/7?x=1"), nil)
		r.Header.Set("X-Token", "good")
		r.Header.Set("X-Groups", "forged")
		return r
	}, 200)
	if want := `backend DELETE /items/7?x=1 user="" auth="" x-auth-user="alice" x-groups="ops,dev"`; body != want {
		t.Errorf("allowed: backend saw %q, want %q", body, want)
	}
	if got, want := asked.Load(), "GET /verify method=DELETE uri=/items/7?x=1 host=fwd.test:"+strconv.Itoa(e.port)+" token=good"; got != want {
		t.Errorf("auth server was asked %q, want %q", got, want)
	}

	resp, body := waitStatus(t, c, e, get(e.url("fwd.test", "/secret"), "X-Token", "bad"), http.StatusFound)
	if body != "please log in" || resp.Header.Get("Location") != "https://login.test/?next=/secret" || resp.Header.Get("Set-Cookie") != "flow=1" {
		t.Errorf("denied: %q Location=%q Set-Cookie=%q, want the auth server's answer", body, resp.Header.Get("Location"), resp.Header.Get("Set-Cookie"))
	}

	_, body = waitStatus(t, c, e, get(e.url("down.test", "/"), "X-Token", "good"), http.StatusInternalServerError)
	if strings.Contains(body, "backend") {
		t.Errorf("unreachable auth server let the request through: %q", body)
	}
}

// TestCheckNumbersLikeTraefik: edge check serves what Traefik served — a
// weight of "kls" is 1 and a priority of "bar" the rule's length — and
// says so on the service; a protecting label it cannot honour (a users
// file that does not exist) fails the check.
func TestCheckNumbersLikeTraefik(t *testing.T) {
	dir := t.TempDir()
	routes := filepath.Join(dir, "routes.yaml")
	os.WriteFile(routes, []byte(`services:
  - name: loose
    labels:
      traefik.frontend.rule: "Host:loose.example.com"
      traefik.port: "8080"
      traefik.weight: "kls"
      traefik.frontend.priority: "bar"
    servers: ["10.0.0.5"]
`), 0o644)
	env := map[string]string{"TRAEFIK_HTTPS_ENABLE": "false", "TRAEFIK_FILE": routes, "TRAEFIK_SECRETS_DIR": dir}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"check"}, mapEnv(env), &out, io.Discard); err != nil {
		t.Fatalf("check: %v\n%s", err, out.String())
	}
	for _, want := range []string{"Host:loose.example.com", "http://10.0.0.5:8080",
		`traefik.weight "kls" is not a number; using 1`, `traefik.frontend.priority "bar" is not a number; using the rule's length`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, out.String())
		}
	}

	os.WriteFile(routes, []byte(`services:
  - name: closed
    labels:
      traefik.frontend.rule: "Host:closed.example.com"
      traefik.port: "8080"
      traefik.frontend.auth.basic.usersFile: "no_such_secret"
    servers: ["10.0.0.5"]
`), 0o644)
	out.Reset()
	if err := run(context.Background(), []string{"check"}, mapEnv(env), &out, io.Discard); err == nil {
		t.Errorf("check passed a route whose users file does not exist:\n%s", out.String())
	} else if !strings.Contains(out.String()+err.Error(), "basic auth") {
		t.Errorf("check did not say why: %v\n%s", err, out.String())
	}
}

// TestForwardAuthOverHTTP2: the edge's own HTTP/2 server hands a route
// with middlewares to the same chain: the auth server decides there too.
func TestForwardAuthOverHTTP2(t *testing.T) {
	port := echoBackend(t)
	auth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Token") != "good" || r.Header.Get("X-Forwarded-Proto") != "https" {
			http.Error(w, "denied by auth", http.StatusForbidden)
			return
		}
		w.Header().Set("X-Auth-User", "h2user")
	}))
	defer auth.Close()
	dir := t.TempDir()
	srvCert, srvKey, srvPEM := writeCert(t, dir, "srv", "*.example.com")
	httpsPort := freePort(t)
	e := startLabelEdge(t, fmt.Sprintf(`services:
  - name: fwd
    labels:
      traefik.frontend.rule: "Host:fwd.example.com"
      traefik.port: "%s"
      traefik.frontend.auth.forward.address: "%s"
      traefik.frontend.auth.forward.authResponseHeaders: "X-Auth-User"
    servers: ["127.0.0.1"]
`, port, auth.URL), map[string]string{
		"TRAEFIK_HTTPS_ENABLE":    "true",
		"TRAEFIK_HTTPS_PORT":      strconv.Itoa(httpsPort),
		"TRAEFIK_SSL_CERT":        srvCert,
		"TRAEFIK_SSL_PRIVATE_KEY": srvKey,
	})
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(srvPEM)
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		ForceAttemptHTTP2: true,
		TLSClientConfig:   &tls.Config{RootCAs: roots},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+strconv.Itoa(httpsPort))
		},
	}}
	u := fmt.Sprintf("https://fwd.example.com:%d/h2", httpsPort)
	resp, body := waitStatus(t, c, e, get(u, "X-Token", "bad"), http.StatusForbidden)
	if resp.ProtoMajor != 2 || !strings.Contains(body, "denied by auth") {
		t.Errorf("denied: HTTP/%d %q, want HTTP/2 and the auth server's body", resp.ProtoMajor, body)
	}
	resp, body = waitStatus(t, c, e, get(u, "X-Token", "good"), http.StatusOK)
	if resp.ProtoMajor != 2 || !strings.Contains(body, `x-auth-user="h2user"`) {
		t.Errorf("allowed: HTTP/%d %q", resp.ProtoMajor, body)
	}
}
