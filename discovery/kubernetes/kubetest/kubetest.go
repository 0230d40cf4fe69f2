// Package kubetest runs a real kube-apiserver (built by tools/build.sh from
// tools/kube-apiserver) over an etcd embedded in the test process, for the
// Kubernetes provider's tests. It binds loopback only.
package kubetest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/rancher-edge/edge/internal/kubeclient"
	"github.com/rancher-edge/edge/internal/testtools"
)

// Tokens of the two users the apiserver knows: an administrator
// (system:masters) and the edge, which has only what RBAC grants it.
const (
	AdminToken = "admin-token-for-tests"
	EdgeToken  = "edge-token-for-tests"
	EdgeUser   = "rancher-edge"
)

// Cluster is a running apiserver with its etcd.
type Cluster struct {
	t    testing.TB
	dir  string
	port int
	bin  string
	etcd string

	// URL is the apiserver's https URL; CA its serving certificate (PEM).
	URL string
	CA  []byte
	// Admin is a client with every permission, for the kinds the edge
	// uses (internal/kubeclient); Dynamic the same for any resource. Both
	// are made by Start: client-go reads klog's global logger when it
	// makes a client, which an edge running in the test process sets.
	Admin   *kubeclient.Clients
	Dynamic dynamic.Interface

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
	e      *embed.Etcd
}

// Start runs etcd and the apiserver and waits until /readyz answers.
func Start(t testing.TB) *Cluster {
	t.Helper()
	c := &Cluster{t: t, dir: t.TempDir(), bin: testtools.Binary(t, "kube-apiserver", "kube-apiserver")}
	c.startEtcd()
	c.writeFiles()
	c.port = freePort(t)
	c.URL = "https://127.0.0.1:" + strconv.Itoa(c.port)
	c.StartAPIServer()
	t.Cleanup(func() {
		c.StopAPIServer()
		c.e.Close()
	})
	ca, err := os.ReadFile(filepath.Join(c.dir, "certs", "apiserver.crt"))
	if err != nil {
		t.Fatal(err)
	}
	c.CA = ca
	admin, err := kubeclient.New(c.Rest(AdminToken))
	if err != nil {
		t.Fatal(err)
	}
	c.Admin = admin
	c.Dynamic = dynamic.NewForConfigOrDie(c.Rest(AdminToken))
	return c
}

// Rest is a client configuration with a user's token.
func (c *Cluster) Rest(token string) *rest.Config {
	return &rest.Config{Host: c.URL, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAData: c.CA}, QPS: 200, Burst: 400}
}

func (c *Cluster) startEtcd() {
	cfg := embed.NewConfig()
	cfg.Name = "kube-test"
	cfg.Dir = filepath.Join(c.dir, "etcd")
	cu, _ := url.Parse("http://127.0.0.1:" + strconv.Itoa(freePort(c.t)))
	pu, _ := url.Parse("http://127.0.0.1:" + strconv.Itoa(freePort(c.t)))
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	cfg.UnsafeNoFsync = true
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		c.t.Fatalf("starting etcd: %v", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		e.Close()
		c.t.Fatal("etcd did not become ready")
	}
	c.e, c.etcd = e, cu.String()
}

// writeFiles writes the token file and a service-account key pair.
func (c *Cluster) writeFiles() {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		c.t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		c.t.Fatal(err)
	}
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(c.dir, name), data, 0o600); err != nil {
			c.t.Fatal(err)
		}
	}
	write("sa.key", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	write("sa.pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	write("tokens.csv", []byte(fmt.Sprintf("%s,admin,1,\"system:masters\"\n%s,%s,2\n", AdminToken, EdgeToken, EdgeUser)))
}

// StartAPIServer starts the apiserver (again, on the same port and data)
// and waits until it is ready.
func (c *Cluster) StartAPIServer() {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd != nil {
		return
	}
	cmd := exec.Command(c.bin,
		"--etcd-servers="+c.etcd,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		// Since 1.37 the endpoint reconciler refuses a loopback address; the
		// tests never use the kubernetes Service's endpoints.
		"--endpoint-reconciler-type=none",
		"--secure-port="+strconv.Itoa(c.port),
		"--cert-dir="+filepath.Join(c.dir, "certs"),
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+filepath.Join(c.dir, "sa.pub"),
		"--service-account-signing-key-file="+filepath.Join(c.dir, "sa.key"),
		"--token-auth-file="+filepath.Join(c.dir, "tokens.csv"),
		"--authorization-mode=RBAC",
		"--service-cluster-ip-range=10.96.0.0/16", // room for the scale benchmark's 2,000 Services
		"--enable-priority-and-fairness=false",
	)
	logf, err := os.OpenFile(filepath.Join(c.dir, "apiserver.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("starting kube-apiserver: %v", err)
	}
	c.cmd = cmd
	exited := make(chan struct{})
	c.exited = exited
	go func() { _ = cmd.Wait(); logf.Close(); close(exited) }()
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // readiness only
	deadline := time.Now().Add(90 * time.Second)
	for {
		req, _ := http.NewRequest("GET", "https://127.0.0.1:"+strconv.Itoa(c.port)+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+AdminToken)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(c.dir, "apiserver.log"))
			if len(log) > 4000 {
				log = log[len(log)-4000:]
			}
			c.t.Fatalf("kube-apiserver not ready after 90 s: %v\n%s", err, log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// StopAPIServer stops the apiserver; etcd keeps the data.
func (c *Cluster) StopAPIServer() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil {
		return
	}
	_ = c.cmd.Process.Signal(os.Interrupt)
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
	c.cmd = nil
}

// GrantEdge applies the ClusterRole and Role of deploy/kubernetes/rbac.yaml
// (the chart's rules) and binds them to the edge's user; leaseNS is where
// the Role for Leases goes. It writes through the dynamic client: the
// edge's own client (internal/kubeclient) has no RBAC kinds.
func (c *Cluster) GrantEdge(ctx context.Context, rbacYAML []byte, leaseNS string) error {
	rbac := func(resource string) schema.GroupVersionResource {
		return schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: resource}
	}
	subjects := []any{map[string]any{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": EdgeUser}}
	binding := func(kind, name, ns, roleKind string) *unstructured.Unstructured {
		meta := map[string]any{"name": name}
		if ns != "" {
			meta["namespace"] = ns
		}
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": meta, "subjects": subjects,
			"roleRef": map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": roleKind, "name": name},
		}}
	}
	dec := yaml.NewYAMLOrJSONDecoder(bytesReader(rbacYAML), 4096)
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			break
		}
		u := &unstructured.Unstructured{Object: obj}
		switch u.GetKind() {
		case "ClusterRole":
			if _, err := c.Dynamic.Resource(rbac("clusterroles")).Create(ctx, u, metav1.CreateOptions{}); err != nil {
				return err
			}
			b := binding("ClusterRoleBinding", u.GetName(), "", "ClusterRole")
			if _, err := c.Dynamic.Resource(rbac("clusterrolebindings")).Create(ctx, b, metav1.CreateOptions{}); err != nil {
				return err
			}
		case "Role":
			u.SetNamespace(leaseNS)
			if _, err := c.Dynamic.Resource(rbac("roles")).Namespace(leaseNS).Create(ctx, u, metav1.CreateOptions{}); err != nil {
				return err
			}
			b := binding("RoleBinding", u.GetName(), leaseNS, "Role")
			if _, err := c.Dynamic.Resource(rbac("rolebindings")).Namespace(leaseNS).Create(ctx, b, metav1.CreateOptions{}); err != nil {
				return err
			}
		}
	}
	return nil
}

func freePort(t testing.TB) int { return testtools.Port(t) }
