package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/rancher-edge/edge/certs/kubestore"
	"github.com/rancher-edge/edge/secrets"
	"github.com/rancher-edge/edge/web"
)

// kubeStorage is TRAEFIK_ACME_STORAGE=kubernetes[://namespace]: the store's
// settings and the Kubernetes connection it uses.
type kubeStorage struct {
	Store kubestore.Config // without Rest: built from Conn when serving
	Conn  *kubernetesConfig
}

// loadKubeStorage reads a kubernetes storage setting. The connection is
// the provider's (TRAEFIK_KUBERNETES_ENDPOINT/TOKEN/CA/KUBECONFIG, else
// the in-cluster service account), read again only when the provider is
// off; "kubernetes" alone names the pod's own namespace.
func loadKubeStorage(e env, r secrets.Resolver, raw string, provider *kubernetesConfig, p *problems) *kubeStorage {
	if !kubestore.IsURL(raw) {
		return nil
	}
	conn := provider
	if conn == nil {
		conn = loadKubeConnection(e, r, p)
	}
	sc, err := kubestore.ParseURL(raw, conn.LeaseNamespace)
	if err != nil {
		p.add("TRAEFIK_ACME_STORAGE: %w", err)
		return nil
	}
	sc.Replica = conn.Identity
	return &kubeStorage{Store: sc, Conn: conn}
}

// loadKubeConnection reads how to reach the apiserver and the pod's own
// namespace and name, for users of the API other than the provider.
func loadKubeConnection(e env, r secrets.Resolver, p *problems) *kubernetesConfig {
	kc := &kubernetesConfig{
		Endpoint:   strings.TrimSpace(e.get("TRAEFIK_KUBERNETES_ENDPOINT")),
		Kubeconfig: strings.TrimSpace(e.get("TRAEFIK_KUBERNETES_KUBECONFIG")),
	}
	if kc.Kubeconfig == "" {
		kc.Kubeconfig = strings.TrimSpace(e.getenv("KUBECONFIG"))
	}
	kc.LeaseNamespace, kc.Identity = strings.TrimSpace(e.getenv("POD_NAMESPACE")), strings.TrimSpace(e.getenv("POD_NAME"))
	if kc.LeaseNamespace == "" {
		if b, err := os.ReadFile(serviceAccountNamespace); err == nil {
			kc.LeaseNamespace = strings.TrimSpace(string(b))
		}
	}
	var err error
	kc.Token, err = r.Lookup("TRAEFIK_KUBERNETES_TOKEN", false)
	p.addErr(err)
	kc.CA, err = r.Lookup("TRAEFIK_KUBERNETES_CA", true)
	p.addErr(err)
	if kc.Endpoint == "" && (!kc.Token.IsZero() || !kc.CA.IsZero()) {
		p.add("TRAEFIK_KUBERNETES_TOKEN and TRAEFIK_KUBERNETES_CA need TRAEFIK_KUBERNETES_ENDPOINT")
	}
	if _, _, err := kc.rest(); err != nil && kc.Endpoint != "" {
		p.addErr(err)
	}
	return kc
}

// serviceAccountNamespace names the pod's namespace inside a cluster.
const serviceAccountNamespace = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// newKubeStore opens the ACME storage in the cluster.
func newKubeStore(ks *kubeStorage, logger *slog.Logger) (*kubestore.Store, error) {
	rc, source, err := ks.Conn.rest()
	if err != nil {
		return nil, err
	}
	sc := ks.Store
	sc.Rest, sc.Source = rc, source
	sc.Logger = logger.With("component", "acme.storage")
	return kubestore.New(sc)
}

// probeKubeStore asks whether the edge may keep its ACME state in the
// namespace, for edge check --online.
func probeKubeStore(ctx context.Context, ks *kubeStorage) error {
	rc, source, err := ks.Conn.rest()
	if err != nil {
		return err
	}
	sc := ks.Store
	sc.Rest, sc.Source = rc, source
	return kubestore.Probe(ctx, sc)
}

// kubeStorageStatus describes the storage in the cluster for the
// certificate page: the namespace, whether the apiserver answers, and
// which edge holds or last held each certificate's lock.
func kubeStorageStatus(s *kubestore.Store) web.StorageStatus {
	st := s.Status()
	out := web.StorageStatus{
		Backend:   "kubernetes",
		Location:  "namespace " + st.Namespace + " (Secrets and Leases; " + st.Source + ")",
		State:     "ok",
		LastError: st.LastError,
	}
	if !st.Healthy {
		out.State = "unavailable"
	}
	for _, l := range st.Locks {
		out.Locks = append(out.Locks, storageLockOf(l.Name, l.Subject, l.Replica, l.Held, l.Acquired, l.Released, "its lease expired"))
	}
	return out
}

// storageLockOf is one line of the locks table: who holds or last held
// a lock, whatever the backend.
func storageLockOf(name, subject, replica string, held bool, acquired, released time.Time, expired string) web.StorageLock {
	if subject != "" {
		name = subject
	}
	holder := replica
	if holder == "" {
		holder = "unknown edge"
	}
	switch {
	case held:
		holder += " (holds it)"
	case !released.IsZero():
		holder += fmt.Sprintf(" (last held, released %s)", released.UTC().Format(time.RFC3339))
	default:
		holder += " (last held; " + expired + ")"
	}
	return web.StorageLock{Name: name, Holder: holder, Since: acquired}
}
