package kubestore

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/rancher-edge/edge/certs/storagetest"
	"github.com/rancher-edge/edge/discovery/kubernetes/kubetest"
)

// TestUnreachableFailsFast: with nothing listening, New returns at once,
// operations fail within RequestTimeout with ErrUnavailable (never "not
// found", which would make certmagic order again), Status says so, and
// Lock waits only as long as its context.
func TestUnreachableFailsFast(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	start := time.Now()
	s, err := New(Config{
		Rest:           &rest.Config{Host: "https://" + addr, BearerToken: "t0ken-never-shown"},
		Namespace:      "edge",
		RequestTimeout: 500 * time.Millisecond,
		StatusInterval: 100 * time.Millisecond,
		Replica:        "lonely",
		Logger:         storagetest.Logger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("New took %v; it must not wait for the apiserver", d)
	}
	ctx := t.Context()
	start = time.Now()
	_, err = s.Load(ctx, "certificates/x")
	if !errors.Is(err, ErrUnavailable) || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load = %v, want ErrUnavailable and not fs.ErrNotExist", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Load took %v with a 500ms RequestTimeout", d)
	}
	if s.Exists(ctx, "certificates/x") {
		t.Error("Exists = true on an unreachable apiserver")
	}
	storagetest.Eventually(t, 5*time.Second, "an unhealthy status", func() bool {
		st := s.Status()
		return !st.Healthy && st.LastError != "" && !st.LastErrorAt.IsZero()
	})
	if st := s.Status(); st.Backend != "kubernetes" || st.Namespace != "edge" || st.Replica != "lonely" || strings.Contains(st.LastError, "t0ken") {
		t.Errorf("status = %+v", st)
	}
	lctx, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	defer cancel()
	start = time.Now()
	if err := s.Lock(lctx, "issue_cert_x"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Lock = %v, want the context's deadline", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Lock returned %v after its deadline", d-1500*time.Millisecond)
	}
}

// TestOnAPIServer: what the conformance suite does not cover, on one
// real apiserver.
func TestOnAPIServer(t *testing.T) {
	c := startCluster(t)
	t.Run("Permissions", func(t *testing.T) { testPermissions(t, c) })
	t.Run("Renewal", func(t *testing.T) { testRenewal(t, c) })
}

// testPermissions: in a namespace where RBAC gives the edge no Role,
// writing fails with an error naming the rules the edge needs, and the
// status turns unhealthy with it; `edge check --online` (Probe) says
// whether the edge may do what the store does: yes in its namespace with
// deploy/kubernetes/rbac.yaml, and elsewhere a list of every missing
// permission.
func testPermissions(t *testing.T, c *kubetest.Cluster) {
	cfg := testConfig(c, "r1", 2*time.Second)
	cfg.Namespace = "default" // no Role there
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Store(t.Context(), "certificates/ca/x/x.crt", []byte("x"))
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "the edge needs get, list, create, update and delete on secrets and leases in namespace default") {
		t.Fatalf("Store = %v, want a forbidden error naming the rules", err)
	}
	t.Logf("refused: %v", err)
	if ok, err := s.TryLock(t.Context(), "issue_cert_x"); ok || !errors.Is(err, ErrUnavailable) {
		t.Errorf("TryLock = %v, %v; want refused", ok, err)
	}
	if st := s.Status(); st.Healthy || !strings.Contains(st.LastError, "the edge needs") {
		t.Errorf("status = %+v", st)
	}

	if err := Probe(t.Context(), testConfig(c, "check", 0)); err != nil {
		t.Errorf("Probe in the edge's namespace: %v", err)
	}
	cfg = testConfig(c, "check", 0)
	cfg.Namespace = "default"
	err = Probe(t.Context(), cfg)
	// The ClusterRole lets the provider read Secrets everywhere; nothing
	// else is granted outside the edge's namespace.
	want := "in namespace default the edge may not create secrets, update secrets, delete secrets, get leases, list leases, create leases, update leases"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Probe elsewhere = %v, want %q", err, want)
	}
}

// testRenewal: a renewal that landed after its timeout (the Lease moved
// on, still ours) does not lose the lock; a Lease another instance took
// over is reported and left alone.
func testRenewal(t *testing.T, c *kubetest.Cluster) {
	wipe(t, c)
	ctx := t.Context()
	s, err := New(testConfig(c, "r1", 30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const name = "issue_cert_renew.test"
	if err := s.Lock(ctx, name); err != nil {
		t.Fatal(err)
	}
	leases := c.Admin.CoordinationV1().Leases(testNamespace)
	touch := func(holder *string) {
		t.Helper()
		l, err := leases.Get(ctx, leaseName(name), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		now := metav1.NewMicroTime(time.Now())
		l.Spec.RenewTime = &now
		if holder != nil {
			l.Spec.HolderIdentity = holder
		}
		if _, err := leases.Update(ctx, l, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	touch(nil) // as the late renewal would
	if err := s.RenewLockLease(ctx, name, time.Minute); err != nil {
		t.Errorf("RenewLockLease after a late write of its own: %v", err)
	}
	other := "someone-else_0000"
	touch(&other)
	if err := s.RenewLockLease(ctx, name, time.Minute); err == nil || !strings.Contains(err.Error(), "taken over") {
		t.Errorf("RenewLockLease after a takeover = %v, want taken over", err)
	}
	if err := s.Unlock(ctx, name); err != nil {
		t.Errorf("Unlock after a takeover = %v, want nil (nothing of ours to release)", err)
	}
	if l, err := leases.Get(ctx, leaseName(name), metav1.GetOptions{}); err != nil || l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != other {
		t.Errorf("the new holder's Lease was changed: %+v, %v", l.Spec, err)
	}
}
