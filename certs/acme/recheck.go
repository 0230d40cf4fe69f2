package acme

import (
	"cmp"
	"context"
	"strings"
	"time"
)

// Storage re-checks. certmagic looks in storage only when it starts
// managing a name and before it orders or renews. Two situations need more:
//
//   - Several edges share storage (etcd): exactly one orders each name and
//     the others must pick the certificate up. A replica whose own attempt
//     is waiting out a backoff would otherwise serve nothing for that name
//     until its next retry, which can be hours away.
//   - A storage read that failed when management started (etcd down)
//     leaves certmagic with nothing scheduled for the name at all.
//
// So every recheckInterval, each wanted name with no certificate in memory
// and no order under way is looked up in storage; a name whose management
// has gone quiet without a certificate or a scheduled retry is started
// again (certmagic then loads or orders under the storage lock) once it
// has been quiet, with neither a certificate nor an error, for two
// intervals.
const (
	recheckInterval = 20 * time.Second
	// recheckTimeout bounds one storage lookup.
	recheckTimeout = 10 * time.Second
)

func (m *Manager) recheck() {
	now := m.cfg.Now()
	idleAfter := 2 * cmp.Or(m.cfg.RecheckInterval, recheckInterval)
	type item struct {
		name string
		idle bool
	}
	var items []item
	m.mu.Lock()
	if m.closed || m.runCtx == nil {
		m.mu.Unlock()
		return
	}
	runCtx := m.runCtx
	for name, e := range m.names {
		if e.skip != "" || !e.goneSince.IsZero() || e.cancel == nil || e.origin == originOnDemand || e.obtaining {
			continue
		}
		idle := e.lastError == "" && e.nextRetry.IsZero() && now.Sub(e.startedAt) > idleAfter
		items = append(items, item{name: name, idle: idle})
	}
	set := m.configs.Load()
	m.mu.Unlock()

	for _, it := range items {
		if _, ok := m.certFor(it.name); ok {
			continue
		}
		cfg := set.http
		if strings.HasPrefix(it.name, "*.") && set.dns != nil {
			cfg = set.dns
		}
		ctx, cancel := context.WithTimeout(runCtx, recheckTimeout)
		_, err := cfg.CacheManagedCertificate(ctx, it.name)
		cancel()
		if err == nil {
			m.log.Info("loaded a certificate another edge obtained", "name", it.name)
			m.update(it.name, func(e *entry) {
				e.managed, e.loadedAt = true, now
				e.lastError, e.lastErrorAt, e.failures, e.nextRetry = "", time.Time{}, 0, time.Time{}
			})
			continue
		}
		if !it.idle {
			continue
		}
		m.mu.Lock()
		e := m.names[it.name]
		if e == nil || e.cancel == nil || m.closed {
			m.mu.Unlock()
			continue
		}
		e.cancel()
		jctx, jcancel := context.WithCancel(runCtx)
		e.cancel, e.startedAt = jcancel, now
		m.mu.Unlock()
		m.log.Info("restarting certificate management: nothing was scheduled for the name", "name", it.name)
		if err := cfg.ManageAsync(jctx, []string{it.name}); err != nil {
			m.log.Error("restarting certificate management", "name", it.name, "error", err)
		}
	}
}
