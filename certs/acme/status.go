package acme

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/certmagic"
	"github.com/mholt/acmez/v3/acme"

	"github.com/rancher-edge/edge/certs"
)

// StateSkipped marks a name that gets no ACME certificate on purpose
// (invalid, HostRegexp, or already covered); LastError says why.
const StateSkipped certs.State = "skipped"

// regexpReason explains HostRegexp rows.
const regexpReason = "HostRegexp rules are not eligible for ACME certificates; " +
	"list their names in TRAEFIK_ACME_DOMAINS (a wildcard needs DNS-01)"

// ariMemo caches the ARI renewal time read from storage per certificate.
type ariMemo struct {
	selected time.Time
	readAt   time.Time
}

// Status lists one row per managed certificate, one per name still
// pending or failing, and one per skipped name or HostRegexp rule.
func (m *Manager) Status() []certs.Status {
	now := m.cfg.Now()
	type snap struct {
		entry
		held bool // a certificate is managed, or being obtained, for it
	}
	m.mu.Lock()
	entries := make([]snap, 0, len(m.names))
	for _, e := range m.names {
		c := snap{entry: *e, held: e.cancel != nil || e.managed}
		c.cancel = nil
		entries = append(entries, c)
	}
	regexps := slices.Clone(m.regexps)
	m.mu.Unlock()
	slices.SortFunc(entries, func(a, b snap) int { return strings.Compare(a.name, b.name) })

	var rows []certs.Status
	seen := map[string]bool{}
	for _, e := range entries {
		// A skipped name has a row of its own even when another
		// certificate (a wildcard) serves it.
		if e.skip != "" && !e.held {
			rows = append(rows, certs.Status{
				ID: "skipped:" + e.name, Names: []string{e.name}, Source: "acme",
				Origin: m.caURL, State: StateSkipped, LastError: "not ordered: " + e.skip,
			})
			continue
		}
		if cert, ok := m.certFor(e.name); ok {
			if !seen[cert.Hash()] {
				seen[cert.Hash()] = true
				rows = append(rows, m.certRow(cert, e.entry, now))
			}
			continue
		}
		state := certs.StateRenewing // waiting for its first certificate
		if e.lastError != "" {
			state = certs.StateFailed
		}
		rows = append(rows, certs.Status{
			ID: "pending:" + e.name, Names: []string{e.name}, Source: "acme", Origin: m.caURL,
			State: state, NextRenewal: e.nextRetry, LastError: e.lastError, LastErrorAt: e.lastErrorAt,
		})
	}
	for _, r := range regexps {
		rows = append(rows, certs.Status{
			ID: "skipped:" + r, Names: []string{r}, Source: "acme", Origin: m.caURL,
			State: StateSkipped, LastError: "not ordered: " + regexpReason,
		})
	}
	return rows
}

// certFor finds the managed certificate serving name: an exact one with
// the latest expiry, else a wildcard.
func (m *Manager) certFor(name string) (certmagic.Certificate, bool) {
	var best certmagic.Certificate
	found, exact := false, false
	for _, c := range m.cache.AllMatchingCertificates(name) {
		if c.Leaf == nil {
			continue
		}
		isExact := slices.Contains(c.Names, name)
		better := !found || (isExact && !exact) ||
			(isExact == exact && c.Leaf.NotAfter.After(best.Leaf.NotAfter))
		if better {
			best, found, exact = c, true, isExact
		}
	}
	return best, found
}

func (m *Manager) certRow(c certmagic.Certificate, e entry, now time.Time) certs.Status {
	leaf := c.Leaf
	st := certs.Describe(leaf, m.caURL, e.loadedAt)
	st.Source = "acme"
	m.mu.Lock()
	if from, ok := m.imported[st.SHA256]; ok {
		st.Origin += " (" + from + ")"
	}
	m.mu.Unlock()
	st.State = certs.StateFor(leaf.NotBefore, leaf.NotAfter, now)
	st.NextRenewal = m.renewAt(c, now)
	st.LastError, st.LastErrorAt = e.lastError, e.lastErrorAt
	if e.obtaining && st.State != certs.StateExpired {
		st.State = certs.StateRenewing
	}
	if e.lastError != "" && !e.nextRetry.IsZero() {
		st.NextRenewal = e.nextRetry
	}
	return st
}

// renewAt estimates when certmagic will renew c: at the ARI time the CA
// suggested, or when the renewal window opens, whichever is first.
func (m *Manager) renewAt(c certmagic.Certificate, now time.Time) time.Time {
	ratio := m.cfg.RenewalWindowRatio
	if ratio == 0 {
		ratio = certmagic.DefaultRenewalWindowRatio
	}
	life := c.Leaf.NotAfter.Sub(c.Leaf.NotBefore)
	at := c.Leaf.NotAfter.Add(-time.Duration(float64(life) * ratio))
	if ari := m.ariSelected(c, now); !ari.IsZero() && ari.Before(at) {
		at = ari
	}
	return at
}

// ariSelected reads the renewal time certmagic picked from the CA's ARI
// window, stored beside the certificate. It is read at most every ten
// minutes per certificate, since status pages poll.
func (m *Manager) ariSelected(c certmagic.Certificate, now time.Time) time.Time {
	m.mu.Lock()
	memo, ok := m.ari[c.Hash()]
	m.mu.Unlock()
	if ok && now.Sub(memo.readAt) < 10*time.Minute {
		return memo.selected
	}
	memo = ariMemo{readAt: now}
	if len(c.Names) > 0 {
		key := certmagic.StorageKeys.SiteMeta(m.configs.Load().issuer.IssuerKey(), c.Names[0])
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		raw, err := m.cfg.Storage.Load(ctx, key)
		cancel()
		var meta struct {
			IssuerData struct {
				RenewalInfo *acme.RenewalInfo `json:"renewal_info"`
			} `json:"issuer_data"`
		}
		if err == nil && json.Unmarshal(raw, &meta) == nil && meta.IssuerData.RenewalInfo != nil {
			memo.selected = meta.IssuerData.RenewalInfo.SelectedTime
		}
	}
	m.mu.Lock()
	m.ari[c.Hash()] = memo
	if len(m.ari) > 4*len(m.names)+16 {
		clear(m.ari) // renewed certificates leave stale hashes behind
	}
	m.mu.Unlock()
	return memo.selected
}
