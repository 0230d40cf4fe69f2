package etcdstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rancher-edge/edge/certs/etcdstore/internal/etcdjson"
)

// issueLockPrefix starts certmagic's lock names around obtaining and
// renewing a certificate ("issue_cert_example.com").
const issueLockPrefix = "issue_cert_"

// Status is a snapshot of the store for the certificate page and
// metrics.
type Status struct {
	Backend   string // "etcd"
	Endpoints []string
	Prefix    string
	Replica   string // this instance

	// Healthy is true while etcd answers. Until the first answer (see
	// Checked) it is false with no LastError.
	Healthy bool
	// LastError is the last failure to reach etcd; it stays after
	// recovery, for the record.
	LastError   string
	LastErrorAt time.Time
	// Since is when Healthy took its current value.
	Since time.Time
	// Checked is when etcd last answered the status probe, or zero.
	Checked time.Time

	// Locks lists every lock name any replica has taken, sorted by name,
	// as of Checked.
	Locks []Lock
}

// Lock says which replica holds, or last held, one lock.
type Lock struct {
	Name     string // certmagic's lock name, e.g. "issue_cert_example.com"
	Subject  string // "example.com" for certificate locks; else ""
	Replica  string // "" if the holder has not recorded itself yet
	Held     bool   // false once released or expired with its holder
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

// Status returns the store's state without contacting etcd: health comes
// from the outcome of recent requests, locks from the last status probe.
func (s *Store) Status() Status {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	h := &s.health
	return Status{
		Backend:     "etcd",
		Endpoints:   slices.Clone(s.cfg.Endpoints),
		Prefix:      s.cfg.Prefix,
		Replica:     s.cfg.Replica,
		Healthy:     h.healthy,
		LastError:   h.lastErr,
		LastErrorAt: h.lastErrAt,
		Since:       h.since,
		Checked:     h.checked,
		Locks:       slices.Clone(h.locks),
	}
}

// health is the store's view of etcd, fed by every request.
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

// statusLoop probes etcd and reads lock holders every StatusInterval,
// so that Status reflects an outage even when nothing else asks, and
// retries deleting stale lock keys.
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
	var resp *etcdjson.TxnResponse
	err := s.do(ctx, "reading lock holders", func(ctx context.Context, cli *etcdjson.Client) error {
		locks := etcdjson.Prefix(s.lockPrefix(""))
		locks.KeysOnly, locks.SortOrder, locks.SortTarget = true, "ASCEND", "CREATE"
		var err error
		resp, err = cli.Txn(ctx, etcdjson.Txn{Then: []etcdjson.Op{
			etcdjson.Get(etcdjson.Prefix(s.holderKey(""))),
			etcdjson.Get(locks),
		}})
		if err == nil && len(resp.Responses) != 2 {
			err = fmt.Errorf("etcd answered %d operations of 2", len(resp.Responses))
		}
		return err
	})
	if err != nil {
		// do recorded it in the health; there is nothing else to do.
		return
	}
	locks := s.decodeLocks(resp)
	s.health.mu.Lock()
	s.health.checked = time.Now()
	s.health.locks = locks
	s.health.mu.Unlock()
	s.cleanStale(ctx)
}

// decodeLocks joins the holder records with the lock keys present: the
// oldest key under a name owns it, and its suffix is the owner's lease.
func (s *Store) decodeLocks(resp *etcdjson.TxnResponse) []Lock {
	owners := map[string]string{} // lock name -> lease hex
	lp := s.lockPrefix("")
	for _, kv := range resp.Responses[1].Kvs() {
		rest := strings.TrimPrefix(string(kv.Key), lp)
		i := strings.LastIndexByte(rest, '/')
		if i < 0 {
			continue
		}
		if _, ok := owners[rest[:i]]; !ok {
			owners[rest[:i]] = rest[i+1:]
		}
	}
	byName := map[string]Lock{}
	hp := s.holderKey("")
	for _, kv := range resp.Responses[0].Kvs() {
		name := strings.TrimPrefix(string(kv.Key), hp)
		var rec holderRecord
		if json.Unmarshal(kv.Value, &rec) != nil {
			continue // not ours to judge; skip rather than fail the page
		}
		owner, locked := owners[name]
		byName[name] = Lock{
			Name: name, Replica: rec.Replica,
			Held:     locked && owner == rec.Lease && rec.Released.IsZero(),
			Acquired: rec.Acquired, Released: rec.Released,
		}
	}
	for name := range owners {
		if _, ok := byName[name]; !ok {
			byName[name] = Lock{Name: name, Held: true}
		}
	}
	locks := make([]Lock, 0, len(byName))
	for _, l := range byName {
		l.Subject, _ = strings.CutPrefix(l.Name, issueLockPrefix)
		if !strings.HasPrefix(l.Name, issueLockPrefix) {
			l.Subject = ""
		}
		locks = append(locks, l)
	}
	slices.SortFunc(locks, func(a, b Lock) int { return strings.Compare(a.Name, b.Name) })
	return locks
}
