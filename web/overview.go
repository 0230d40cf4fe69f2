package web

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rancher-edge/edge/certs"
	"github.com/rancher-edge/edge/route"
)

// OverviewPage is the overview page and /api/overview.
type OverviewPage struct {
	Now           time.Time `json:"now"`
	Version       string    `json:"version"`
	Started       time.Time `json:"started,omitzero"`
	UptimeSeconds int64     `json:"uptime_seconds"`
	// Generation counts routing tables published; 0 before the first.
	Generation uint64            `json:"generation"`
	TableBuilt time.Time         `json:"table_built,omitzero"`
	Listeners  []Listener        `json:"listeners"`
	Counts     Counts            `json:"counts"`
	Discovery  []ProviderSummary `json:"discovery"`
	Storage    *StorageStatus    `json:"storage,omitempty"`
	// Warnings are errors first, then warnings; each links to its detail.
	Warnings []Warning `json:"warnings"`
}

// Counts are the overview's numbers.
type Counts struct {
	Routes          int `json:"routes"`
	Services        int `json:"services"` // distinct provider/stack/service
	Backends        int `json:"backends"`
	BackendsUp      int `json:"backends_up"`      // passing
	BackendsDown    int `json:"backends_down"`    // failing
	BackendsDrained int `json:"backends_drained"` // weight 0
	Certificates    int `json:"certificates"`     // rows, skipped names included
	// CertificatesOK are valid, or renewing while still in date.
	CertificatesOK       int `json:"certificates_ok"`
	CertificatesExpiring int `json:"certificates_expiring"`
	// CertificatesFailed are failed or expired.
	CertificatesFailed int `json:"certificates_failed"`
	// CertificatesByState has every state, skipped included.
	CertificatesByState map[string]int `json:"certificates_by_state"`
	UncoveredHosts      int            `json:"uncovered_hosts"`
	Problems            int            `json:"problems"`
	UnroutedRequests    uint64         `json:"unrouted_requests"`
}

// ProviderSummary is a provider's line on the overview.
type ProviderSummary struct {
	Name        string    `json:"name"`
	Mode        string    `json:"mode"`
	State       string    `json:"state"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	Link        string    `json:"link"`
}

// Warning is one thing the operator should look at.
type Warning struct {
	// Kind is "service" (a label or rule problem, a conflict),
	// "discovery", "certificate", "host" (a routed host without a valid
	// certificate) or "storage".
	Kind     string `json:"kind"`
	Severity string `json:"severity"` // "error" or "warning"
	Subject  string `json:"subject"`
	Message  string `json:"message"`
	Link     string `json:"link"` // dashboard path and fragment
}

func (s *Server) overviewPage(st state) OverviewPage {
	src := s.cfg.Sources
	p := OverviewPage{Now: st.now, Version: src.Version, Started: src.Started,
		Listeners: []Listener{}, Discovery: []ProviderSummary{}, Warnings: []Warning{}, Storage: st.storage}
	if !src.Started.IsZero() {
		p.UptimeSeconds = int64(st.now.Sub(src.Started) / time.Second)
	}
	if src.Listeners != nil {
		p.Listeners = append(p.Listeners, src.Listeners()...)
	}
	if st.table != nil {
		p.Generation, p.TableBuilt = st.table.Generation(), st.table.Built()
	}
	c := &p.Counts
	if src.Unrouted != nil {
		c.UnroutedRequests = src.Unrouted()
	}
	services := make(map[route.Source]bool)
	for _, rt := range st.routes() {
		c.Routes++
		svc := rt.Service.Source
		svc.Segment = ""
		services[svc] = true
		for _, b := range rt.Backends() {
			c.Backends++
			switch b.Health {
			case "passing":
				c.BackendsUp++
			case "failing":
				c.BackendsDown++
			default:
				c.BackendsDrained++
			}
		}
	}
	c.Services = len(services)

	c.CertificatesByState = make(map[string]int)
	for _, k := range certStates() {
		c.CertificatesByState[k] = 0
	}
	for _, cs := range st.certs {
		c.Certificates++
		c.CertificatesByState[string(cs.State)]++
		switch {
		case cs.State == certs.StateValid,
			cs.State == certs.StateRenewing && !cs.NotAfter.IsZero() && st.now.Before(cs.NotAfter):
			c.CertificatesOK++
		case cs.State == certs.StateExpiring:
			c.CertificatesExpiring++
		case cs.State == certs.StateFailed, cs.State == certs.StateExpired:
			c.CertificatesFailed++
		}
	}

	views := providerViews(st)
	for _, v := range views {
		p.Discovery = append(p.Discovery, ProviderSummary{Name: v.Name, Mode: v.Mode, State: v.State,
			LastSuccess: v.LastSuccess, LastError: v.LastError, Link: "/discovery#" + v.Anchor})
	}
	_, uncovered := hostCoverage(st)
	c.UncoveredHosts = len(uncovered)
	p.Warnings = warnings(st, views, uncovered)
	for _, v := range views {
		c.Problems += len(v.Problems)
	}
	return p
}

// warnings collects everything that needs attention, errors first.
func warnings(st state, providers []ProviderView, uncovered []UncoveredHost) []Warning {
	out := []Warning{}
	for _, v := range providers {
		if v.LastError != "" {
			msg := v.LastError
			if !v.ErrorSince.IsZero() {
				msg += " (failing for " + humanDuration(st.now.Sub(v.ErrorSince)) + "; the last good routes stay in service)"
			}
			out = append(out, Warning{Kind: "discovery", Severity: "error", Subject: v.Name, Message: msg,
				Link: "/discovery#" + v.Anchor})
		}
		for _, pr := range v.Problems {
			out = append(out, Warning{Kind: "service", Severity: pr.Severity, Subject: pr.Source.Text,
				Message: pr.Message, Link: "/discovery#" + pr.Anchor})
		}
	}
	for _, cs := range st.certs {
		link := "/certificates#cert-" + slug(cs.ID)
		subject := strings.Join(cs.Names, ", ")
		switch cs.State {
		case certs.StateExpired:
			out = append(out, Warning{Kind: "certificate", Severity: "error", Subject: subject,
				Message: "expired on " + cs.NotAfter.UTC().Format("2006-01-02 15:04 MST"), Link: link})
		case certs.StateFailed:
			msg := "could not be obtained or loaded"
			if cs.LastError != "" {
				msg = cs.LastError
			}
			out = append(out, Warning{Kind: "certificate", Severity: "error", Subject: subject, Message: msg, Link: link})
		case certs.StateExpiring:
			out = append(out, Warning{Kind: "certificate", Severity: "warning", Subject: subject,
				Message: "expires in " + humanDuration(cs.NotAfter.Sub(st.now)) + ", with less than a third of its lifetime left", Link: link})
		case certs.StateValid, certs.StateRenewing:
			if cs.LastError != "" {
				out = append(out, Warning{Kind: "certificate", Severity: "warning", Subject: subject,
					Message: "last renewal attempt failed: " + cs.LastError, Link: link})
			}
		}
	}
	for _, u := range uncovered {
		out = append(out, Warning{Kind: "host", Severity: "warning", Subject: u.Host, Message: u.Reason,
			Link: "/certificates#uncovered"})
	}
	if ss := st.storage; ss != nil && (ss.State != "ok" || ss.LastError != "") {
		msg := fmt.Sprintf("%s storage is %s", ss.Backend, ss.State)
		if ss.LastError != "" {
			msg += ": " + ss.LastError
		}
		sev := "warning"
		if ss.State == "unavailable" {
			sev = "error"
		}
		out = append(out, Warning{Kind: "storage", Severity: sev, Subject: ss.Location, Message: msg,
			Link: "/certificates#storage"})
	}
	slices.SortStableFunc(out, func(a, b Warning) int { return cmp.Compare(a.Severity, b.Severity) })
	return out
}
