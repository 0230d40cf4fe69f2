package kubestore

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// issueLockPrefix starts certmagic's lock names around obtaining and
// renewing a certificate ("issue_cert_example.com").
const issueLockPrefix = "issue_cert_"

// Status is a snapshot of the store for the certificate page and
// metrics.
type Status struct {
	Backend   string // "kubernetes"
	Namespace string
	Source    string // how the apiserver is reached, never a token
	Replica   string // this instance

	// Healthy is true while the apiserver answers and allows the store's
	// requests. Until the first answer (see Checked) it is false with no
	// LastError.
	Healthy bool
	// LastError is the last failure; it stays after recovery, for the
	// record.
	LastError   string
	LastErrorAt time.Time
	// Since is when Healthy took its current value.
	Since time.Time
	// Checked is when the apiserver last answered the status probe, or
	// zero.
	Checked time.Time

	// Locks lists every lock any replica has taken, sorted by name, as
	// of Checked.
	Locks []Lock
}

// Lock says which replica holds, or last held, one lock.
type Lock struct {
	Name     string // certmagic's lock name, e.g. "issue_cert_example.com"
	Subject  string // "example.com" for certificate locks; else ""
	Replica  string
	Held     bool // false once released or expired with its holder
	Acquired time.Time
	Released time.Time // zero while held, and when the holder died
}

// Holder returns the certificate lock of subject (a managed name), if
// any replica ever took it.
func (st Status) Holder(subject string) (Lock, bool) {
	i := slices.IndexFunc(st.Locks, func(l Lock) bool { return l.Subject == subject })
	if i < 0 {
		return Lock{}, false
	}
	return st.Locks[i], true
}

// Status returns the store's state without contacting the apiserver:
// health comes from the outcome of recent requests, locks from the last
// status probe.
func (s *Store) Status() Status {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	h := &s.health
	return Status{
		Backend:     "kubernetes",
		Namespace:   s.cfg.Namespace,
		Source:      s.cfg.Source,
		Replica:     s.cfg.Replica,
		Healthy:     h.healthy,
		LastError:   h.lastErr,
		LastErrorAt: h.lastErrAt,
		Since:       h.since,
		Checked:     h.checked,
		Locks:       slices.Clone(h.locks),
	}
}

// health is the store's view of the apiserver, fed by every request.
type health struct {
	mu        sync.Mutex
	healthy   bool
	lastErr   string
	lastErrAt time.Time
	since     time.Time
	checked   time.Time
	locks     []Lock
}

// record notes the outcome of one request: nil for an answer.
func (h *health) record(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	if err == nil {
		if !h.healthy {
			h.healthy, h.since = true, now
		}
		return
	}
	if h.healthy {
		h.healthy, h.since = false, now
	}
	h.lastErr, h.lastErrAt = err.Error(), now
}

// statusLoop reads the lock Leases every StatusInterval, so that Status
// reflects an outage even when nothing else asks.
func (s *Store) statusLoop() {
	t := time.NewTicker(s.cfg.StatusInterval)
	defer t.Stop()
	for {
		s.poll(s.ctx)
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Store) poll(ctx context.Context) {
	var list *coordinationv1.LeaseList
	err := s.do(ctx, "reading lock holders", func(ctx context.Context) error {
		var err error
		list, err = s.kube.CoordinationV1().Leases(s.cfg.Namespace).List(ctx, metav1.ListOptions{LabelSelector: lockSelector})
		return err
	})
	if err != nil {
		return // do recorded it in the health
	}
	locks := decodeLocks(list.Items, time.Now())
	s.health.mu.Lock()
	s.health.checked = time.Now()
	s.health.locks = locks
	s.health.mu.Unlock()
}

func decodeLocks(items []coordinationv1.Lease, now time.Time) []Lock {
	locks := make([]Lock, 0, len(items))
	for i := range items {
		l := &items[i]
		name := l.Annotations[annotationLock]
		if name == "" || leaseName(name) != l.Name {
			continue // not ours to judge; skip rather than fail the page
		}
		lk := Lock{Name: name, Replica: l.Annotations[annotationReplica], Held: current(l, now)}
		if l.Spec.AcquireTime != nil {
			lk.Acquired = l.Spec.AcquireTime.Time
		}
		lk.Released, _ = time.Parse(time.RFC3339Nano, l.Annotations[annotationReleased])
		if sub, ok := strings.CutPrefix(name, issueLockPrefix); ok {
			lk.Subject = sub
		}
		locks = append(locks, lk)
	}
	slices.SortFunc(locks, func(a, b Lock) int { return strings.Compare(a.Name, b.Name) })
	return locks
}
