package etcdstore

import (
	"context"
	"log/slog"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/rancher-edge/edge/certs/etcdstore/internal/etcdjson"
	"github.com/rancher-edge/edge/certs/storagetest"
	"github.com/rancher-edge/edge/internal/testtools"
)

// testEtcd is a real single-member etcd server inside the test process,
// on loopback ports chosen once, so it can be stopped and started again
// on the same data directory and addresses.
type testEtcd struct {
	t          testing.TB
	dir        string
	clientPort int
	peerPort   int
	Endpoint   string

	// tls, when set, serves the client URL over TLS; authTokenTTL, when
	// not 0, is the lifetime of auth tokens in seconds.
	tls          *transport.TLSInfo
	authTokenTTL uint

	mu sync.Mutex
	e  *embed.Etcd
}

func startEtcd(t testing.TB) *testEtcd { return startEtcdWith(t, nil) }

// startEtcdWith starts etcd after opt, when not nil, has set its options.
func startEtcdWith(t testing.TB, opt func(*testEtcd)) *testEtcd {
	t.Helper()
	te := &testEtcd{t: t, dir: t.TempDir(), clientPort: freePort(t), peerPort: freePort(t)}
	te.Endpoint = "http://127.0.0.1:" + strconv.Itoa(te.clientPort)
	if opt != nil {
		opt(te)
	}
	te.Start()
	t.Cleanup(te.Stop)
	return te
}

// Start runs the server (again) and waits until it serves.
func (te *testEtcd) Start() {
	te.t.Helper()
	te.mu.Lock()
	defer te.mu.Unlock()
	if te.e != nil {
		return
	}
	cfg := embed.NewConfig()
	cfg.Name = "edge-test"
	cfg.Dir = te.dir
	cu, _ := url.Parse(te.Endpoint)
	pu, _ := url.Parse("http://127.0.0.1:" + strconv.Itoa(te.peerPort))
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	cfg.UnsafeNoFsync = true // test data; fsync only slows the suite
	if te.tls != nil {
		cfg.ClientTLSInfo = *te.tls
	}
	if te.authTokenTTL != 0 {
		cfg.AuthTokenTTL = te.authTokenTTL
	}
	var e *embed.Etcd
	var err error
	// The ports were free when chosen and are ours again after a stop;
	// a restart may still find them in TIME_WAIT for a moment.
	for range 50 {
		if e, err = embed.StartEtcd(cfg); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		te.t.Fatalf("starting etcd: %v", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(20 * time.Second):
		e.Close()
		te.t.Fatal("etcd did not become ready")
	}
	te.e = e
}

// Stop shuts the server down; Start brings it back with its data.
func (te *testEtcd) Stop() {
	te.mu.Lock()
	defer te.mu.Unlock()
	if te.e != nil {
		te.e.Close()
		te.e = nil
	}
}

func freePort(t testing.TB) int { return testtools.Port(t) }

// testLogger is the shared suite's: it discards unless
// EDGE_STORAGE_TEST_LOG is set.
func testLogger() *slog.Logger { return storagetest.Logger() }

// testConfig is a store config with short timings for te.
func testConfig(te *testEtcd, replica string) Config {
	return Config{
		Endpoints:      []string{te.Endpoint},
		Prefix:         "/edge-test",
		DialTimeout:    time.Second,
		RequestTimeout: 3 * time.Second, // -race on two cores is slow; fail-fast has its own test
		LockTTL:        2 * time.Second,
		StatusInterval: 200 * time.Millisecond,
		Replica:        replica,
		Logger:         testLogger(),
	}
}

// newStore opens a store on te, closed when the test ends.
func newStore(t testing.TB, te *testEtcd, replica string) *Store {
	t.Helper()
	s, err := New(testConfig(te, replica))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// lockKeys counts the lock keys left under te's test prefix.
func lockKeys(t testing.TB, s *Store) int {
	t.Helper()
	cli, err := s.client()
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r := etcdjson.Prefix(s.lockPrefix(""))
	r.CountOnly = true
	resp, err := cli.Range(ctx, r)
	if err != nil {
		t.Fatalf("counting lock keys: %v", err)
	}
	return int(resp.Count)
}

// crash stops s the way a killed process would: keep-alives stop and the
// connection drops, but nothing is released, so its locks stay until
// their lease expires.
func crash(s *Store) {
	s.mu.Lock()
	s.closed = true
	cli := s.cli
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	if cli != nil {
		cli.Close()
	}
}

// etcdBackend describes stores on te to the shared conformance suite;
// their lock sessions have lockTTL.
func etcdBackend(te *testEtcd, lockTTL time.Duration) storagetest.Backend {
	return storagetest.Backend{
		Open: func(t testing.TB, replica string) storagetest.Store {
			t.Helper()
			cfg := testConfig(te, replica)
			cfg.LockTTL = lockTTL
			s, err := New(cfg)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		Crash:        func(s storagetest.Store) { crash(s.(*Store)) },
		LockTTL:      lockTTL,
		MaxValueSize: MaxValueSize,
		ErrTooLarge:  ErrTooLarge,
		ErrNotLocked: ErrNotLocked,
		ErrClosed:    ErrClosed,
		Holder: func(s storagetest.Store, subject string) (storagetest.Lock, bool) {
			l, ok := s.(*Store).Status().Holder(subject)
			return storagetest.Lock{Replica: l.Replica, Held: l.Held, Released: l.Released}, ok
		},
		Healthy:   func(s storagetest.Store) bool { return s.(*Store).Status().Healthy },
		LocksLeft: func(t testing.TB, s storagetest.Store) int { return lockKeys(t, s.(*Store)) },
	}
}
