package acme

import (
	"context"
	"crypto/tls"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/certmagic"
	"github.com/rancher-edge/edge/certs/acme/pebbletest"
)

// outage is real file storage behind a switch: while down, every call
// fails the way an unreachable etcd does.
type outage struct {
	*certmagic.FileStorage
	down atomic.Bool
}

var errStorageDown = errors.New("storage unreachable")

func (o *outage) check() error {
	if o.down.Load() {
		return errStorageDown
	}
	return nil
}

func (o *outage) Lock(ctx context.Context, name string) error {
	if err := o.check(); err != nil {
		return err
	}
	return o.FileStorage.Lock(ctx, name)
}

func (o *outage) Store(ctx context.Context, key string, value []byte) error {
	if err := o.check(); err != nil {
		return err
	}
	return o.FileStorage.Store(ctx, key, value)
}

func (o *outage) Load(ctx context.Context, key string) ([]byte, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	return o.FileStorage.Load(ctx, key)
}

func (o *outage) Exists(ctx context.Context, key string) bool {
	return !o.down.Load() && o.FileStorage.Exists(ctx, key)
}

func (o *outage) Stat(ctx context.Context, key string) (certmagic.KeyInfo, error) {
	if err := o.check(); err != nil {
		return certmagic.KeyInfo{}, err
	}
	return o.FileStorage.Stat(ctx, key)
}

func (o *outage) List(ctx context.Context, path string, recursive bool) ([]string, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	return o.FileStorage.List(ctx, path, recursive)
}

// TestCertificateInSharedStoragePickedUpAfterOutage: edge A obtained a
// certificate into shared storage. Edge B starts managing the name while
// the storage is unreachable, which leaves certmagic nothing scheduled.
// Once the storage is back, B must load and serve A's certificate without
// an order of its own.
func TestCertificateInSharedStoragePickedUpAfterOutage(t *testing.T) {
	ca := pebbletest.Start(t)
	e := newEdge(t, ca)
	const name = "shared.example.test"

	cfgA := baseConfig(t, ca)
	a, _ := e.start(t, cfgA)
	a.SetHosts([]string{name}, nil)
	leaf := e.waitServed(t, name)
	orders := ca.Orders()

	store := &outage{FileStorage: &certmagic.FileStorage{Path: cfgA.StorageDir}}
	store.down.Store(true)
	cfgB := baseConfig(t, ca)
	cfgB.Storage = store
	cfgB.RecheckInterval = 100 * time.Millisecond
	b, err := New(cfgB)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		b.Close()
	})
	b.SetHosts([]string{name}, nil)
	time.Sleep(300 * time.Millisecond) // management starts and hits the outage
	if c, _ := b.GetCertificate(&tls.ClientHelloInfo{ServerName: name}); c != nil {
		t.Fatal("B served a certificate while its storage was unreachable")
	}
	store.down.Store(false)

	eventually(t, 15*time.Second, "B to serve the certificate from storage", func() bool {
		c, err := b.GetCertificate(&tls.ClientHelloInfo{ServerName: name})
		return err == nil && c != nil && c.Leaf != nil && c.Leaf.SerialNumber.Cmp(leaf.SerialNumber) == 0
	}, func() string { return dumpRows(b.Status()) })
	if got := ca.Orders(); got != orders {
		t.Errorf("B placed %d orders instead of loading the stored certificate", got-orders)
	}
}
