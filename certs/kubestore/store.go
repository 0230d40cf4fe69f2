package kubestore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/caddyserver/certmagic"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"github.com/rancher-edge/edge/internal/kubeclient"
)

// Errors callers can match with errors.Is.
var (
	// ErrUnavailable wraps every failure to reach the apiserver in time
	// or to be allowed by it.
	ErrUnavailable = errors.New("the Kubernetes API is unavailable")
	// ErrTooLarge is returned by Store for values over MaxValueSize.
	ErrTooLarge = errors.New("value too large for a Kubernetes Secret")
	// ErrNotLocked is returned by Unlock and RenewLockLease for a lock
	// this instance does not hold.
	ErrNotLocked = errors.New("lock not held by this instance")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("kubestore: store is closed")
)

// MaxValueSize is the largest value Store accepts: the apiserver refuses
// Secrets whose data exceeds 1 MiB.
const MaxValueSize = 1 << 20

// Store is a certmagic.Storage, Locker, TryLocker and LockLeaseRenewer
// on Kubernetes Secrets and coordination.k8s.io/v1 Leases in one
// namespace.
//
// Its lifecycle is [New], then use, then [Store.Close]. All methods are
// safe for concurrent use.
type Store struct {
	cfg  Config
	log  *slog.Logger
	kube *kubeclient.Clients
	meta metadata.Interface
	// id is this instance's holder identity: the replica name and a
	// random suffix, so that two instances with one name never share a
	// lock.
	id string

	// ctx ends the status loop and the lock renewals.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	closed bool
	held   map[string]*heldLock // by lock name

	health health
}

// New builds a Store from cfg. It does not contact the apiserver: the
// status loop starts in the background, so an unreachable cluster never
// delays start-up.
func New(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults(os.Hostname)
	rc := rest.CopyConfig(cfg.Rest)
	if rc.QPS == 0 {
		// client-go's default of 5 per second would queue the lock waiters
		// of a burst of orders behind each other.
		rc.QPS, rc.Burst = 50, 100
	}
	if rc.UserAgent == "" {
		rc.UserAgent = "rancher-edge/acme-storage"
	}
	kube, err := kubeclient.New(rc)
	if err != nil {
		return nil, fmt.Errorf("kubestore: %w", err)
	}
	meta, err := metadata.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("kubestore: %w", err)
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	ctx, cancel := context.WithCancel(context.Background())
	s := &Store{
		cfg:    cfg,
		log:    cfg.Logger.With("component", "certs.kubestore"),
		kube:   kube,
		meta:   meta,
		id:     cfg.Replica + "_" + hex.EncodeToString(rnd[:]),
		ctx:    ctx,
		cancel: cancel,
		held:   map[string]*heldLock{},
	}
	s.health.since = time.Now()
	s.wg.Go(s.statusLoop)
	return s, nil
}

// String names the store; certmagic logs storages with it.
func (s *Store) String() string {
	return "kubernetes://" + s.cfg.Namespace
}

// Close releases this instance's locks (each Lease is emptied, so the
// next holder need not wait for it to expire), then stops the
// background work. It is safe to call more than once.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	held := s.held
	s.held = map[string]*heldLock{}
	s.mu.Unlock()

	var errs []error
	for name, h := range held {
		h.stop()
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.RequestTimeout)
		if err := s.release(ctx, name); err != nil {
			// The Lease then expires by itself after LockTTL.
			errs = append(errs, err)
		}
		cancel()
	}
	s.cancel()
	s.wg.Wait()
	return errors.Join(errs...)
}

func (s *Store) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// do runs one apiserver request with RequestTimeout, recording the
// outcome in the store's health. Answers that are part of the protocol
// (not found, already exists, conflict) are answers, not failures.
func (s *Store) do(ctx context.Context, what string, f func(context.Context) error) error {
	if s.isClosed() {
		return ErrClosed
	}
	return s.request(ctx, what, f)
}

// request is do without the closed check, for Close's own releases.
func (s *Store) request(ctx context.Context, what string, f func(context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("kubestore: %s: %w", what, err)
	}
	rctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	err := f(rctx)
	switch {
	case err == nil, apierrors.IsNotFound(err), apierrors.IsAlreadyExists(err), apierrors.IsConflict(err):
		s.health.record(nil)
		return err
	case ctx.Err() != nil:
		return fmt.Errorf("kubestore: %s: %w", what, ctx.Err())
	case apierrors.IsRequestEntityTooLargeError(err) || apierrors.IsInvalid(err):
		// The apiserver answered; the request was wrong.
		s.health.record(nil)
		return fmt.Errorf("kubestore: %s: %w", what, err)
	case apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err):
		wrapped := fmt.Errorf("kubestore: %s: %w: %s (the edge needs get, list, create, update and delete on secrets and leases in namespace %s)",
			what, ErrUnavailable, err.Error(), s.cfg.Namespace)
		s.health.record(wrapped)
		return wrapped
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err // the URL adds nothing the status needs
	}
	wrapped := fmt.Errorf("kubestore: %s: %w: %w", what, ErrUnavailable, err)
	s.health.record(wrapped)
	return wrapped
}

var (
	_ certmagic.Storage          = (*Store)(nil)
	_ certmagic.TryLocker        = (*Store)(nil)
	_ certmagic.LockLeaseRenewer = (*Store)(nil)
)
