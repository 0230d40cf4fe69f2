package acme

import (
	"context"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/certmagic"
)

// origin says why a name is managed.
type origin int

const (
	originHost     origin = iota // an exact name from a Host: rule
	originDomain                 // listed in Config.Domains
	originOnDemand               // obtained during a handshake
)

// entry is what the manager knows about one name. It is guarded by
// Manager.mu.
type entry struct {
	name   string
	origin origin
	// skip is why the name is not ordered; "" when it is eligible.
	skip string
	// goneSince is when the name stopped being wanted; zero while wanted.
	goneSince time.Time
	// cancel stops the name's ManageAsync retries; nil when not started.
	cancel context.CancelFunc
	// startedAt is when management (ManageAsync) last started.
	startedAt time.Time
	// managed is true once certmagic holds a certificate for the name.
	managed bool

	obtaining   bool      // an obtain or renewal is under way
	loadedAt    time.Time // when a certificate was last obtained or loaded
	lastError   string
	lastErrorAt time.Time
	failures    int // consecutive
	nextRetry   time.Time
}

// SetHosts tells the manager the routing table's names: hosts are the
// exact names of Host: rules, regexpRules the rules that use HostRegexp
// (never eligible; listed in the status with that reason). With
// OnHostRule it starts obtaining certificates for new eligible names in
// the background and never blocks; names whose routes have been gone for
// ReleaseAfter stop being renewed.
func (m *Manager) SetHosts(hosts []string, regexpRules []string) {
	set := make(map[string]bool, len(hosts))
	for _, h := range hosts {
		if n := normalize(h); n != "" {
			set[n] = true
		}
	}
	rules := slices.Clone(regexpRules)
	slices.Sort(rules)
	rules = slices.Compact(rules)

	m.mu.Lock()
	m.hosts = set
	m.regexps = rules
	m.mu.Unlock()
	m.reconcile()
}

// candidate is one name reconcile looks at.
type candidate struct {
	name   string
	origin origin
	inHost bool // named by the latest SetHosts
	want   bool
	skip   string
}

// reconcile brings management in line with the wanted names. The
// callbacks (Covers, Allow) and certmagic calls run outside m.mu, so
// neither can deadlock against the manager.
func (m *Manager) reconcile() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	var cands []candidate
	for name, e := range m.names {
		cands = append(cands, candidate{name: name, origin: e.origin, inHost: m.hosts[name]})
	}
	if m.cfg.OnHostRule {
		for h := range m.hosts {
			if _, ok := m.names[h]; !ok {
				cands = append(cands, candidate{name: h, origin: originHost, inHost: true})
			}
		}
	}
	m.mu.Unlock()

	for i := range cands {
		c := &cands[i]
		switch c.origin {
		case originDomain:
			c.skip = m.skipReason(c.name, true)
			c.want = c.skip == ""
		case originHost:
			if c.inHost && m.cfg.OnHostRule {
				c.skip = m.skipReason(c.name, false)
				c.want = c.skip == ""
			}
		case originOnDemand:
			c.want = m.cfg.OnDemand && m.refuse(c.name) == ""
		}
	}

	now := m.cfg.Now()
	type job struct {
		name string
		ctx  context.Context
	}
	var start []job
	var release []certmagic.SubjectIssuer

	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	for _, c := range cands {
		e := m.names[c.name]
		if e == nil {
			e = &entry{name: c.name, origin: c.origin}
			m.names[c.name] = e
		}
		e.skip = c.skip
		if c.want {
			e.goneSince = time.Time{}
			if e.cancel == nil && m.runCtx != nil && e.origin != originOnDemand {
				ctx, cancel := context.WithCancel(m.runCtx)
				e.cancel, e.startedAt = cancel, now
				start = append(start, job{c.name, ctx})
			}
			continue
		}
		// Configured domains and names a route still has keep their row
		// (as skipped); other names go once nothing is held for them.
		keep := c.origin == originDomain || (c.inHost && m.cfg.OnHostRule)
		if e.cancel == nil && !e.managed {
			if keep {
				e.goneSince = time.Time{}
			} else {
				delete(m.names, c.name)
			}
			continue
		}
		if e.goneSince.IsZero() {
			e.goneSince = now
		}
		if now.Sub(e.goneSince) < m.cfg.ReleaseAfter {
			continue
		}
		// Gone long enough: stop retries and renewals; storage keeps the
		// files, so the name comes back without an order if it returns
		// while its certificate is still valid.
		if e.cancel != nil {
			e.cancel()
		}
		release = append(release, certmagic.SubjectIssuer{Subject: c.name})
		if keep {
			*e = entry{name: c.name, origin: c.origin, skip: c.skip}
		} else {
			delete(m.names, c.name)
		}
	}
	set := m.configs.Load()
	m.mu.Unlock()

	if len(release) > 0 {
		m.cache.RemoveManaged(release)
		for _, r := range release {
			m.log.Info("released certificate: no route for it any more", "name", r.Subject)
		}
	}
	for _, j := range start {
		cfg := set.http
		if strings.HasPrefix(j.name, "*.") && set.dns != nil {
			cfg = set.dns
		}
		// ManageAsync only fails before any ACME work starts; certmagic
		// logs and retries everything after that itself.
		if err := cfg.ManageAsync(j.ctx, []string{j.name}); err != nil {
			m.log.Error("starting certificate management", "name", j.name, "error", err)
		}
	}
}

// skipReason says why name is not ordered, or "". Configured domains are
// not checked against the configured wildcards: listing both is a choice.
func (m *Manager) skipReason(name string, configured bool) string {
	base := strings.TrimPrefix(name, "*.")
	if reason := invalidName(base); reason != "" {
		return reason
	}
	if !configured && strings.Contains(name, "*") {
		return "wildcards from routes are not eligible; list them in TRAEFIK_ACME_DOMAINS"
	}
	if m.cfg.Covers(name) {
		return "covered by a valid certificate from secrets"
	}
	if !configured {
		for _, w := range m.wildcards {
			if certmagic.MatchWildcard(name, w) {
				return "covered by the ACME wildcard certificate " + w
			}
		}
	}
	return ""
}

// invalidName says why name cannot get a publicly trusted certificate,
// or "".
func invalidName(name string) string {
	switch {
	case name == "":
		return "empty name"
	case net.ParseIP(name) != nil:
		return "an IP address: only DNS names get ACME certificates here"
	case name == "localhost" || strings.HasSuffix(name, ".localhost"):
		return "localhost is not a public name"
	case !strings.Contains(name, "."):
		return "no dot: not a public DNS name"
	case strings.Contains(name, "_"):
		return "underscores are not allowed in certificate names"
	case len(name) > 253:
		return "longer than 253 characters"
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "not a valid DNS name"
		}
		for _, r := range label {
			if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
				return "not a valid DNS name (internationalized names must be in punycode)"
			}
		}
	}
	return ""
}

// normalize lowercases name and drops a trailing dot and any port.
func normalize(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if h, _, err := net.SplitHostPort(name); err == nil {
		name = h
	}
	return strings.TrimSuffix(name, ".")
}
