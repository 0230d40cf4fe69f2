package web

import (
	"slices"
	"strings"
	"time"

	"github.com/rancher-edge/edge/certs"
	"github.com/rancher-edge/edge/route/rule"
)

// certStates lists the states a certificate row can be in, in the order the
// filters show them. "skipped" is certs/acme's state for names it does not
// order on purpose.
func certStates() []string {
	return []string{"valid", "renewing", "expiring", "expired", "failed", "skipped"}
}

// CertificatesPage is the certificate status page and /api/certificates.
type CertificatesPage struct {
	Now time.Time `json:"now"`
	// Filter is the state the rows were filtered by; empty means all.
	Filter string `json:"filter,omitempty"`
	// Sort is "expiry" (soonest first, rows without a certificate
	// first of all) or empty (the store's order).
	Sort string `json:"sort,omitempty"`
	// Counts has every state of certStates, before filtering.
	Counts       map[string]int    `json:"counts"`
	Certificates []CertificateView `json:"certificates"`
	// Uncovered lists routed hosts without a valid certificate of their
	// own: their handshakes get the default certificate or fail.
	Uncovered []UncoveredHost `json:"uncovered_hosts"`
	Storage   *StorageStatus  `json:"storage,omitempty"`
}

// CertificateView is one certificate row. It never holds key material.
type CertificateView struct {
	ID     string   `json:"id"`
	Anchor string   `json:"anchor"`
	Names  []string `json:"names"`
	Source string   `json:"source"` // "file" or "acme"
	// Origin is the setting and file path or secret alias for file
	// certificates, the CA directory URL for ACME.
	Origin             string `json:"origin"`
	Issuer             string `json:"issuer"`
	Serial             string `json:"serial"`
	KeyType            string `json:"key_type"`
	KeyBits            int    `json:"key_bits"`
	SignatureAlgorithm string `json:"signature_algorithm"`
	SHA256             string `json:"sha256"`

	NotBefore time.Time `json:"not_before,omitzero"`
	NotAfter  time.Time `json:"not_after,omitzero"`
	// SecondsLeft is negative once expired; absent without a certificate.
	SecondsLeft *int64 `json:"seconds_left,omitempty"`
	// LifetimeLeft is the fraction of the validity period still ahead,
	// from 0 to 1; absent without a certificate.
	LifetimeLeft *float64 `json:"lifetime_left,omitempty"`

	// State is valid, renewing, expiring, expired, failed or skipped.
	State   string `json:"state"`
	Default bool   `json:"default"`

	// LastRenewal is absent for files, which are renewed by replacing
	// them.
	LastRenewal time.Time `json:"last_renewal,omitzero"`
	NextRenewal time.Time `json:"next_renewal,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`

	// Hosts are the routed hosts whose handshakes this certificate
	// answers.
	Hosts []string `json:"hosts"`
}

// UncoveredHost is a routed host with no valid certificate for it.
type UncoveredHost struct {
	Host   string `json:"host"`
	Reason string `json:"reason"`
	// ServedBy is the ID of the certificate its handshakes get instead,
	// usually the default; empty when handshakes fail.
	ServedBy string   `json:"served_by,omitempty"`
	Routes   []string `json:"routes"`
}

func (s *Server) certificatesPage(st state, filter, sortBy string) CertificatesPage {
	if !slices.Contains(certStates(), filter) {
		filter = ""
	}
	if sortBy != "expiry" {
		sortBy = ""
	}
	p := CertificatesPage{
		Now: st.now, Filter: filter, Sort: sortBy, Counts: make(map[string]int),
		Certificates: []CertificateView{}, Uncovered: []UncoveredHost{}, Storage: st.storage,
	}
	for _, k := range certStates() {
		p.Counts[k] = 0
	}
	served, uncovered := hostCoverage(st)
	p.Uncovered = uncovered
	for _, c := range st.certs {
		p.Counts[string(c.State)]++
		if filter != "" && string(c.State) != filter {
			continue
		}
		v := certificateView(c, st.now)
		if h := served[c.ID]; h != nil {
			v.Hosts = h
		}
		p.Certificates = append(p.Certificates, v)
	}
	if sortBy == "expiry" {
		slices.SortStableFunc(p.Certificates, func(a, b CertificateView) int {
			switch {
			case a.NotAfter.IsZero() != b.NotAfter.IsZero():
				if a.NotAfter.IsZero() {
					return -1
				}
				return 1
			}
			return a.NotAfter.Compare(b.NotAfter)
		})
	}
	return p
}

func certificateView(c certs.Status, now time.Time) CertificateView {
	v := CertificateView{
		ID: c.ID, Anchor: "cert-" + slug(c.ID), Names: append([]string{}, c.Names...),
		Source: c.Source, Origin: redactURL(c.Origin),
		Issuer: c.Issuer, Serial: c.Serial, KeyType: c.KeyType, KeyBits: c.KeyBits,
		SignatureAlgorithm: c.SignatureAlgorithm, SHA256: c.SHA256,
		NotBefore: c.NotBefore, NotAfter: c.NotAfter,
		State: string(c.State), Default: c.Default,
		NextRenewal: c.NextRenewal,
		LastError:   c.LastError, LastErrorAt: c.LastErrorAt,
		Hosts: []string{},
	}
	// A file is renewed by replacing it: the edge never renewed it, so
	// it has no last renewal (the store stamps the load time there).
	if c.Source != "file" {
		v.LastRenewal = c.LastRenewal
	}
	if !c.NotAfter.IsZero() {
		left := int64(c.NotAfter.Sub(now) / time.Second)
		v.SecondsLeft = &left
		frac := 0.0
		if life := c.NotAfter.Sub(c.NotBefore); life > 0 {
			frac = min(max(float64(c.NotAfter.Sub(now))/float64(life), 0), 1)
		}
		v.LifetimeLeft = &frac
	}
	return v
}

// hostCoverage works out, for every exact routed host, which certificate
// its handshakes get: served maps a certificate ID to the hosts it serves
// well, uncovered lists the hosts it does not.
func hostCoverage(st state) (served map[string][]string, uncovered []UncoveredHost) {
	served = make(map[string][]string)
	uncovered = []UncoveredHost{}
	if st.table == nil {
		return served, uncovered
	}
	hosts := st.table.Hosts()
	slices.Sort(hosts)
	routesOf := hostRoutes(st)
	certFor := st.certFor
	if certFor == nil {
		certFor = func(h string) (certs.Status, bool) { return lookupCert(st.certs, h) }
	}
	for _, h := range hosts {
		c, ok := certFor(h)
		if ok && certs.NamesCover(c.Names, h) && !c.NotAfter.IsZero() && st.now.Before(c.NotAfter) {
			served[c.ID] = append(served[c.ID], h)
			continue
		}
		u := UncoveredHost{Host: h, Routes: routesOf[h]}
		if u.Routes == nil {
			u.Routes = []string{}
		}
		switch {
		case !ok:
			u.Reason = "no certificate at all: TLS handshakes for it fail"
		case c.NotAfter.IsZero():
			u.Reason = "its certificate is not available"
			if c.LastError != "" {
				u.Reason += ": " + c.LastError
			}
		case !certs.NamesCover(c.Names, h):
			u.ServedBy = c.ID
			u.Reason = "no certificate names it: it gets the default certificate (" +
				strings.Join(c.Names, ", ") + "), which browsers reject"
		default:
			u.ServedBy = c.ID
			u.Reason = "its certificate expired on " + c.NotAfter.UTC().Format("2006-01-02 15:04 MST")
		}
		if why := acmeReason(st.certs, h); why != "" {
			u.Reason += "; " + why
		}
		uncovered = append(uncovered, u)
	}
	return served, uncovered
}

// acmeReason explains what ACME is doing about host, if anything.
func acmeReason(rows []certs.Status, host string) string {
	for _, c := range rows {
		if c.Source != "acme" || !slices.Contains(c.Names, host) || !c.NotAfter.IsZero() {
			continue
		}
		switch {
		case c.State == certs.StateFailed:
			return "ACME order failed: " + c.LastError
		case strings.HasPrefix(c.ID, "skipped:"):
			return "ACME: " + c.LastError
		default:
			return "ACME order in progress"
		}
	}
	return ""
}

// hostRoutes maps each exact host to the IDs of the routes whose rules name
// it, in match order.
func hostRoutes(st state) map[string][]string {
	out := make(map[string][]string)
	for _, rt := range st.routes() {
		r, err := rule.Parse(rt.Service.Rule)
		if err != nil {
			continue
		}
		for _, h := range r.Hosts() {
			out[h] = append(out[h], rt.ID())
		}
	}
	return out
}

// lookupCert picks a certificate for host from the rows when no
// CertificateFor source is given: an unexpired one that names it, else an
// expired one, else the default.
func lookupCert(rows []certs.Status, host string) (certs.Status, bool) {
	var expired, def *certs.Status
	for i := range rows {
		c := &rows[i]
		if c.NotAfter.IsZero() {
			continue
		}
		if certs.NamesCover(c.Names, host) {
			if c.State != certs.StateExpired {
				return *c, true
			}
			expired = c
		}
		if c.Default {
			def = c
		}
	}
	switch {
	case expired != nil:
		return *expired, true
	case def != nil:
		return *def, true
	}
	return certs.Status{}, false
}
