package web

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
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
	Tiles      []Tile            `json:"tiles"`
	Discovery  []ProviderSummary `json:"discovery"`
	Storage    *StorageStatus    `json:"storage,omitempty"`
	// Warnings are errors first, then warnings; each links to its detail.
	Warnings []Warning `json:"warnings"`
}

// Counts are the overview's numbers.
type Counts struct {
	Routes   int `json:"routes"`
	Services int `json:"services"` // distinct provider/stack/service
	Backends int `json:"backends"`
	// BackendsAvailable may receive requests: passing their health
	// check, or on a route without one.
	BackendsAvailable int `json:"backends_available"`
	BackendsUp        int `json:"backends_up"`        // passing a health check
	BackendsUnchecked int `json:"backends_unchecked"` // on a route without a health check
	BackendsDown      int `json:"backends_down"`      // failing, or ejected
	BackendsDrained   int `json:"backends_drained"`   // weight 0
	Certificates      int `json:"certificates"`       // rows, skipped names included
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
	// Providers and ProvidersSynced count discovery providers, and those
	// whose last sync succeeded.
	Providers       int `json:"providers"`
	ProvidersSynced int `json:"providers_synced"`
}

// Tile is one summary tile of the overview. State is "ok", "warn" (amber:
// look soon) or "bad" (red: something is broken now), and never "ok" while
// a warning of its kind stands.
type Tile struct {
	ID    string `json:"id"` // "discovery", "routes", "backends", "certificates", "hosts", "problems", "storage"
	State string `json:"state"`
	Value string `json:"value"`
	Of    string `json:"of,omitempty"` // "/8" after the value
	Label string `json:"label"`
	More  string `json:"more"`
	Link  string `json:"link"`
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
	// "discovery", "backend" (failing or ejected), "certificate", "host"
	// (a routed host without a valid certificate) or "storage".
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
	var backendWarnings []Warning
	routesDown := 0 // routes with backends, none of them available
	for _, rt := range st.routes() {
		c.Routes++
		svc := rt.Service.Source
		svc.Segment = ""
		services[svc] = true
		rv := routeView(rt, st.now)
		available := 0
		for _, b := range rv.Backends {
			c.Backends++
			switch b.Health {
			case "passing":
				c.BackendsUp++
				available++
			case "unchecked":
				c.BackendsUnchecked++
				available++
			case "drained":
				c.BackendsDrained++
			default: // failing, or ejected by passive health checks
				c.BackendsDown++
			}
		}
		c.BackendsAvailable += available
		sev := "warning"
		if available == 0 && len(rv.Backends) > 0 {
			sev = "error"
			routesDown++
		}
		for _, b := range rv.Backends {
			if b.Health == "passing" || b.Health == "unchecked" || b.Health == "drained" {
				continue
			}
			msg := b.Health
			if !b.HealthSince.IsZero() {
				msg += " for " + humanDuration(st.now.Sub(b.HealthSince))
			}
			if sev == "error" {
				msg += "; the route has no other backend: its requests get 503"
			} else {
				msg += "; it gets no requests"
			}
			backendWarnings = append(backendWarnings, Warning{Kind: "backend", Severity: sev,
				Subject: rv.ID + " → " + b.Name + " (" + b.URL + ")", Message: msg, Link: "/routes#" + rv.Anchor})
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
	// A provider that has never synced is red once an attempt failed (no
	// routes from it, none coming); before that it is starting: amber.
	neverSynced, starting, failing := 0, 0, 0
	for _, v := range views {
		p.Discovery = append(p.Discovery, ProviderSummary{Name: v.Name, Mode: v.Mode, State: v.State,
			LastSuccess: v.LastSuccess, LastError: v.LastError, Link: "/discovery#" + v.Anchor})
		c.Providers++
		switch {
		case v.LastSuccess.IsZero() && v.State == "starting":
			starting++
		case v.LastSuccess.IsZero() && v.State != "unknown":
			neverSynced++
		case v.State == "error":
			failing++
		default:
			c.ProvidersSynced++
		}
	}
	_, uncovered := hostCoverage(st)
	c.UncoveredHosts = len(uncovered)
	skipped := 0
	for _, v := range views {
		c.Problems += len(v.Problems)
		for _, pr := range v.Problems {
			if pr.Severity == string(route.Error) {
				skipped++
			}
		}
	}
	p.Warnings = warnings(st, views, uncovered, backendWarnings)

	// The tiles. Each one's state follows the warnings of its kind.
	tile := func(t Tile, bad, warn bool) {
		t.State = "ok"
		switch {
		case bad:
			t.State = "bad"
		case warn:
			t.State = "warn"
		}
		p.Tiles = append(p.Tiles, t)
	}
	more := plural(c.Providers, "provider")
	switch {
	case c.Providers == 0:
		more = "no provider is configured"
	case neverSynced > 0:
		more = strconv.Itoa(neverSynced) + " never synced"
	case starting > 0:
		more = strconv.Itoa(starting) + " starting"
	case failing > 0:
		more = strconv.Itoa(failing) + " failing, serving their last good routes"
	}
	tile(Tile{ID: "discovery", Value: strconv.Itoa(c.ProvidersSynced), Of: "/" + strconv.Itoa(c.Providers),
		Label: noun(c.Providers, "provider") + " synced", More: more, Link: "/discovery"},
		neverSynced > 0, starting > 0 || failing > 0 || c.Providers == 0)
	tile(Tile{ID: "routes", Value: strconv.Itoa(c.Routes), Label: noun(c.Routes, "route"),
		More: plural(c.Services, "service") + " · " + plural(c.UnroutedRequests, "unrouted request"), Link: "/routes"},
		c.Routes == 0 && neverSynced > 0, c.Routes == 0)
	bmore := []string{strconv.Itoa(c.BackendsDown) + " failing"}
	if c.BackendsUnchecked > 0 {
		bmore = append(bmore, strconv.Itoa(c.BackendsUnchecked)+" not checked")
	}
	bmore = append(bmore, strconv.Itoa(c.BackendsDrained)+" drained")
	tile(Tile{ID: "backends", Value: strconv.Itoa(c.BackendsAvailable), Of: "/" + strconv.Itoa(c.Backends),
		Label: noun(c.Backends, "backend") + " available", More: strings.Join(bmore, " · "), Link: backendsLink(c.BackendsDown)},
		routesDown > 0, c.BackendsDown > 0)
	// Skipped names were deliberately not ordered: not certificates that
	// could be ok.
	certRows := c.Certificates - c.CertificatesByState["skipped"]
	tile(Tile{ID: "certificates", Value: strconv.Itoa(c.CertificatesOK), Of: "/" + strconv.Itoa(certRows),
		Label: noun(certRows, "certificate") + " ok",
		More:  strconv.Itoa(c.CertificatesExpiring) + " expiring · " + strconv.Itoa(c.CertificatesFailed) + " failed or expired",
		Link:  "/certificates"},
		c.CertificatesFailed > 0, c.CertificatesExpiring > 0)
	tile(Tile{ID: "hosts", Value: strconv.Itoa(c.UncoveredHosts), Label: noun(c.UncoveredHosts, "host") + " without a valid certificate",
		More: "handshakes fail or browsers warn", Link: "/certificates#uncovered"},
		false, c.UncoveredHosts > 0)
	tile(Tile{ID: "problems", Value: strconv.Itoa(c.Problems), Label: "service " + noun(c.Problems, "problem"),
		More: strconv.Itoa(skipped) + " skipped · " + strconv.Itoa(c.Problems-skipped) + " served with a warning", Link: "/discovery"},
		false, c.Problems > 0)
	if ss := st.storage; ss != nil {
		tile(Tile{ID: "storage", Value: ss.State, Label: "ACME storage", More: ss.Backend, Link: "/certificates#storage"},
			ss.State == "unavailable", ss.State != "ok" || ss.LastError != "")
	}
	return p
}

// warnings collects everything that needs attention, errors first. A
// message reported for several subjects (a rule two services claim) is
// listed once, naming them all.
func warnings(st state, providers []ProviderView, uncovered []UncoveredHost, backends []Warning) []Warning {
	out := []Warning{}
	for _, v := range providers {
		switch {
		case v.LastSuccess.IsZero() && v.State != "unknown":
			msg := "has not synced yet: no routes from it yet"
			sev := "warning"
			if v.LastError != "" {
				sev = "error"
				msg = "has never synced: no routes from it; the last attempt failed: " + v.LastError
				if !v.ErrorSince.IsZero() {
					msg += " (failing for " + humanDuration(st.now.Sub(v.ErrorSince)) + ")"
				}
			}
			out = append(out, Warning{Kind: "discovery", Severity: sev, Subject: v.Name, Message: msg,
				Link: "/discovery#" + v.Anchor})
		case v.LastError != "":
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
	out = append(out, backends...)
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
	out = mergeWarnings(out)
	slices.SortStableFunc(out, func(a, b Warning) int { return cmp.Compare(a.Severity, b.Severity) })
	return out
}

// mergeWarnings folds warnings of one kind, severity and message into the
// first of them, joining the subjects: a rule conflict is reported for
// each service that claims the rule, with the same words.
func mergeWarnings(in []Warning) []Warning {
	type key struct{ kind, severity, message string }
	first := make(map[key]int, len(in))
	out := in[:0]
	for _, w := range in {
		k := key{w.Kind, w.Severity, w.Message}
		if i, ok := first[k]; ok {
			if !slices.Contains(strings.Split(out[i].Subject, ", "), w.Subject) {
				out[i].Subject += ", " + w.Subject
			}
			continue
		}
		first[k] = len(out)
		out = append(out, w)
	}
	return out
}

// noun is word, or its plural unless n is 1: for labels under a number.
func noun(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// backendsLink opens the routes with failing backends when there are any.
func backendsLink(down int) string {
	if down > 0 {
		return "/routes?failing=1"
	}
	return "/routes"
}
