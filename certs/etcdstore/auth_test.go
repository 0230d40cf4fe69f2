package etcdstore

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// TestTLSAndPasswordAuth: etcd over TLS with client certificates and
// authentication on, as a production cluster runs. The store stores,
// loads and locks with a password; it fetches a new token when etcd
// forgets the old one (tokens live one second here); a wrong password is
// a clear error that does not carry the password; and a client
// certificate etcd refuses on its JSON gateway (one with a Common Name,
// while authentication is on) gets etcd's own explanation.
func TestTLSAndPasswordAuth(t *testing.T) {
	pki := newTestPKI(t)
	te := startEtcdWith(t, func(te *testEtcd) {
		te.Endpoint = strings.Replace(te.Endpoint, "http://", "https://", 1)
		te.tls = &transport.TLSInfo{
			CertFile: pki.serverCert, KeyFile: pki.serverKey,
			TrustedCAFile: pki.caFile, ClientCertAuth: true,
		}
		te.authTokenTTL = 1
	})
	enableAuth(t, te, pki, "edge", "etcd-pa55word")

	cfg := testConfig(te, "tls")
	cfg.TLS = pki.clientTLS
	cfg.Username, cfg.Password = "edge", "etcd-pa55word"
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	if err := s.Store(ctx, "certificates/a.test/a.test.crt", []byte("pem")); err != nil {
		t.Fatalf("Store: %v", err)
	}
	if err := s.Lock(ctx, "issue_cert_a.test"); err != nil {
		t.Fatalf("Lock: %v", err)
	}
	time.Sleep(2500 * time.Millisecond) // the token expires
	if v, err := s.Load(ctx, "certificates/a.test/a.test.crt"); err != nil || string(v) != "pem" {
		t.Fatalf("Load after the token expired = %q, %v", v, err)
	}
	if err := s.Unlock(ctx, "issue_cert_a.test"); err != nil {
		t.Fatalf("Unlock: %v", err)
	}

	bad := cfg
	bad.Password, bad.Replica = "not-the-pa55word", "bad"
	b, err := New(bad)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_, err = b.Load(ctx, "certificates/a.test/a.test.crt")
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "authenticating") {
		t.Errorf("Load with a wrong password = %v, want an authentication failure", err)
	}
	if err != nil && strings.Contains(err.Error(), "pa55word") {
		t.Errorf("the error carries the password: %v", err)
	}
	if st := b.Status(); strings.Contains(st.LastError, "pa55word") {
		t.Errorf("the status carries the password: %q", st.LastError)
	}

	named := cfg
	named.TLS, named.Replica = pki.namedClientTLS, "named"
	nm, err := New(named)
	if err != nil {
		t.Fatal(err)
	}
	defer nm.Close()
	if _, err := nm.Load(ctx, "certificates/a.test/a.test.crt"); err == nil || !strings.Contains(err.Error(), "CommonName") {
		t.Errorf("Load with a client certificate that has a Common Name = %v, want etcd's refusal quoted", err)
	}

	noCert := cfg
	noCert.TLS, noCert.Replica = &tls.Config{RootCAs: pki.clientTLS.RootCAs}, "no-cert"
	n, err := New(noCert)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if _, err := n.Load(ctx, "certificates/a.test/a.test.crt"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Load without a client certificate = %v, want ErrUnavailable", err)
	}
}

// enableAuth turns authentication on in te with a root user and user,
// who may read and write everything, through etcd's own client.
func enableAuth(t *testing.T, te *testEtcd, pki *testPKI, user, password string) {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{
		Endpoints: []string{te.Endpoint}, TLS: pki.clientTLS, DialTimeout: 5 * time.Second,
		Logger: zap.NewNop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx := t.Context()
	steps := []func() error{
		func() error { _, err := cli.UserAdd(ctx, "root", "root-pa55word"); return err },
		func() error { _, err := cli.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := cli.RoleAdd(ctx, "edge"); return err },
		func() error {
			_, err := cli.RoleGrantPermission(ctx, "edge", "\x00", "\x00", clientv3.PermissionType(clientv3.PermReadWrite))
			return err
		},
		func() error { _, err := cli.UserAdd(ctx, user, password); return err },
		func() error { _, err := cli.UserGrantRole(ctx, user, "edge"); return err },
		func() error { _, err := cli.AuthEnable(ctx); return err },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("enabling etcd authentication, step %d: %v", i, err)
		}
	}
}

// testPKI is a CA with a server certificate for 127.0.0.1 and a client
// certificate, written where etcd reads them.
type testPKI struct {
	caFile, serverCert, serverKey string
	clientTLS                     *tls.Config
	// namedClientTLS's certificate has a Common Name.
	namedClientTLS *tls.Config
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "etcd test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	// etcd refuses gateway requests whose client certificate has a
	// Common Name while authentication is on (the name would have
	// authenticated a gRPC client): the client's has none.
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	keyDER := func(k *ecdsa.PrivateKey) []byte { b, _ := x509.MarshalECPrivateKey(k); return b }
	// The server certificate also serves as the gateway's client
	// certificate inside etcd: its name must not be a user's.
	srvDER, srvKey := issue(2, "etcd-server", x509.ExtKeyUsageAny)
	cliDER, cliKey := issue(3, "", x509.ExtKeyUsageClientAuth)
	namedDER, namedKey := issue(4, "edge", x509.ExtKeyUsageClientAuth)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &testPKI{
		namedClientTLS: &tls.Config{
			RootCAs:      pool,
			Certificates: []tls.Certificate{{Certificate: [][]byte{namedDER}, PrivateKey: namedKey}},
		},
		caFile:     write("ca.pem", "CERTIFICATE", caDER),
		serverCert: write("server.pem", "CERTIFICATE", srvDER),
		serverKey:  write("server-key.pem", "EC PRIVATE KEY", keyDER(srvKey)),
		clientTLS: &tls.Config{
			RootCAs:      pool,
			Certificates: []tls.Certificate{{Certificate: [][]byte{cliDER}, PrivateKey: cliKey}},
			MinVersion:   tls.VersionTLS12,
		},
	}
}
