// Package consultest runs a real Consul agent (v1.14.3, built once per
// machine by `make tools` from tools/consul) on loopback for tests, and
// registers services with tags and TTL checks through its HTTP API.
//
// Every agent binds 127.0.0.1 only, on free ports, and keeps its data in the
// test's temporary directory. [Start] waits until the agent has a leader;
// [Agent.Stop] and [Agent.Start] let outage tests take it away and bring it
// back on the same address.
package consultest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rancher-edge/edge/internal/testtools"
)

// ManagementToken is the bootstrap (initial management) token of an agent
// started with [Options.ACL]. It is a test value, not a secret.
const ManagementToken = "8b3c4b1e-0b9f-4c4e-9b8e-5d3c0e7f7a11"

// Options shape the agent.
type Options struct {
	// ACL enables ACLs with default policy deny and [ManagementToken] as
	// the initial management token, as a locked-down production cluster.
	ACL bool

	// HTTPS also serves the HTTP API over TLS on [Agent.HTTPSAddr], with
	// a certificate from a test CA ([Agent.TLS]), and requires a client
	// certificate from the same CA there.
	HTTPS bool

	// Persist runs a single-server cluster that keeps its catalog in the
	// data directory, instead of -dev mode's memory, so that the catalog
	// survives [Agent.Stop] and [Agent.Start]. Its leader takes a second or
	// two longer to appear.
	Persist bool
}

// Agent is one running Consul agent.
type Agent struct {
	// Addr is the HTTP API address, 127.0.0.1:<port>.
	Addr string

	// HTTPSAddr and TLS are set with [Options.HTTPS].
	HTTPSAddr string
	TLS       *TLSFiles

	t      testing.TB
	bin    string
	args   []string
	token  string
	log    *syncBuffer
	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// Start runs an agent and waits (at most 30 s) until it has a leader. The
// agent is stopped when the test ends.
func Start(t testing.TB, opts Options) *Agent {
	t.Helper()
	bin := testtools.Binary(t, "consul", "consul")
	ports := freePorts(t, 5)
	a := &Agent{
		Addr: "127.0.0.1:" + strconv.Itoa(ports[0]),
		t:    t,
		bin:  bin,
		log:  &syncBuffer{},
		args: []string{"agent",
			"-bind=127.0.0.1", "-client=127.0.0.1", "-advertise=127.0.0.1",
			"-http-port=" + strconv.Itoa(ports[0]), "-dns-port=-1", "-grpc-port=-1", "-grpc-tls-port=-1",
			"-serf-lan-port=" + strconv.Itoa(ports[1]), "-serf-wan-port=" + strconv.Itoa(ports[2]),
			"-server-port=" + strconv.Itoa(ports[3]),
			"-log-level=warn", "-node=edge-test",
		},
	}
	if opts.HTTPS {
		a.TLS = newTLSFiles(t, t.TempDir())
		a.HTTPSAddr = "127.0.0.1:" + strconv.Itoa(ports[4])
		a.args = append(a.args, "-https-port="+strconv.Itoa(ports[4]), fmt.Sprintf(`-hcl=tls {
  defaults { ca_file = %q
    cert_file = %q
    key_file = %q }
  https { verify_incoming = true }
}`, a.TLS.CA, a.TLS.serverCert, a.TLS.serverKey))
	}
	if opts.Persist {
		a.args = append(a.args, "-server", "-bootstrap-expect=1", "-data-dir="+t.TempDir(),
			"-hcl=performance { raft_multiplier = 1 }", "-hcl=disable_update_check = true")
	} else {
		a.args = append(a.args, "-dev")
	}
	if opts.ACL {
		a.token = ManagementToken
		a.args = append(a.args, `-hcl=acl { enabled = true
  default_policy = "deny"
  enable_token_persistence = false
  tokens { initial_management = "`+ManagementToken+`" }
}`)
	}
	t.Cleanup(func() {
		a.Stop()
		if t.Failed() {
			t.Logf("consul agent log:\n%s", a.log.String())
		}
	})
	a.Start()
	return a
}

// Start starts the agent again after [Agent.Stop], on the same ports, and
// waits for its leader.
func (a *Agent) Start() {
	a.t.Helper()
	a.mu.Lock()
	if a.cmd != nil {
		a.mu.Unlock()
		a.t.Fatal("consultest: agent already running")
	}
	cmd := exec.Command(a.bin, a.args...)
	cmd.Stdout, cmd.Stderr = a.log, a.log
	// Killed with the test binary: a test killed by a timeout leaves no
	// agent behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		a.mu.Unlock()
		a.t.Fatalf("consultest: starting consul: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	a.cmd, a.exited = cmd, exited
	a.mu.Unlock()
	if err := a.waitLeader(30 * time.Second); err != nil {
		a.t.Fatalf("consultest: %v\n%s", err, a.log.String())
	}
}

// Stop kills the agent and waits for it to exit. It is a no-op when the
// agent is not running.
func (a *Agent) Stop() {
	a.mu.Lock()
	cmd, exited := a.cmd, a.exited
	a.cmd = nil
	a.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}

// waitLeader polls /v1/status/leader until the agent names a leader and
// answers catalog reads.
func (a *Agent) waitLeader(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-a.exited:
			return errors.New("consul exited during start")
		default:
		}
		var leader string
		if err := a.do(http.MethodGet, "/v1/status/leader", nil, &leader); err == nil && leader != "" {
			if err := a.do(http.MethodGet, "/v1/catalog/services", nil, nil); err == nil {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("consul had no leader after %v", limit)
}

// Service is one instance to register.
type Service struct {
	ID, Name string
	Tags     []string
	Address  string // empty: the node's address
	Port     int
	Meta     map[string]string
	// Check is the initial status of the instance's TTL check: "passing",
	// "warning" or "critical". Empty registers no check.
	Check string
}

// CheckID is the ID of a service's TTL check.
func CheckID(serviceID string) string { return "ttl-" + serviceID }

// Register registers (or re-registers) an instance with the agent.
func (a *Agent) Register(s Service) {
	a.t.Helper()
	body := map[string]any{"ID": s.ID, "Name": s.Name, "Tags": s.Tags, "Address": s.Address, "Port": s.Port, "Meta": s.Meta}
	if s.Check != "" {
		body["Check"] = map[string]any{"CheckID": CheckID(s.ID), "Name": "ttl", "TTL": "10m", "Status": s.Check}
	}
	if err := a.do(http.MethodPut, "/v1/agent/service/register", body, nil); err != nil {
		a.t.Fatalf("consultest: register %s: %v", s.ID, err)
	}
}

// Deregister removes an instance.
func (a *Agent) Deregister(id string) {
	a.t.Helper()
	if err := a.do(http.MethodPut, "/v1/agent/service/deregister/"+id, nil, nil); err != nil {
		a.t.Fatalf("consultest: deregister %s: %v", id, err)
	}
}

// SetCheck sets the TTL check of an instance: "passing", "warning" or
// "critical".
func (a *Agent) SetCheck(serviceID, status string) {
	a.t.Helper()
	body := map[string]string{"Status": status, "Output": "set by the test"}
	if err := a.do(http.MethodPut, "/v1/agent/check/update/"+CheckID(serviceID), body, nil); err != nil {
		a.t.Fatalf("consultest: check %s %s: %v", serviceID, status, err)
	}
}

// Maintenance puts an instance into maintenance mode or takes it out.
func (a *Agent) Maintenance(serviceID string, on bool) {
	a.t.Helper()
	path := "/v1/agent/service/maintenance/" + serviceID + "?enable=" + strconv.FormatBool(on) + "&reason=test"
	if err := a.do(http.MethodPut, path, nil, nil); err != nil {
		a.t.Fatalf("consultest: maintenance %s: %v", serviceID, err)
	}
}

// Token creates an ACL token with the given policy rules (HCL; empty for a
// token with no policy) and returns its secret. The agent must have been
// started with [Options.ACL].
func (a *Agent) Token(rules string) string {
	a.t.Helper()
	var policies []map[string]string
	if rules != "" {
		var pol struct{ ID string }
		name := "edge-test-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		if err := a.do(http.MethodPut, "/v1/acl/policy", map[string]string{"Name": name, "Rules": rules}, &pol); err != nil {
			a.t.Fatalf("consultest: policy: %v", err)
		}
		policies = append(policies, map[string]string{"ID": pol.ID})
	}
	var tok struct{ SecretID string }
	if err := a.do(http.MethodPut, "/v1/acl/token", map[string]any{"Description": "edge test", "Policies": policies}, &tok); err != nil {
		a.t.Fatalf("consultest: token: %v", err)
	}
	return tok.SecretID
}

// do calls the agent's HTTP API with the management token (if any).
func (a *Agent) do(method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "http://"+a.Addr+path, body)
	if err != nil {
		return err
	}
	if a.token != "" {
		req.Header.Set("X-Consul-Token", a.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// freePorts returns n ports free for both TCP and UDP on 127.0.0.1 (Serf
// uses both).
func freePorts(t testing.TB, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = testtools.Port(t)
	}
	return out
}

// syncBuffer collects the agent's output for a failing test's log.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
