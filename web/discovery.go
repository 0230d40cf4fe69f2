package web

import (
	"slices"
	"strings"
	"time"

	"github.com/rancher-edge/edge/route"
)

// DiscoveryPage is the discovery page and /api/discovery.
type DiscoveryPage struct {
	Now       time.Time      `json:"now"`
	Providers []ProviderView `json:"providers"`
}

// ProviderView is one discovery provider. It never holds credentials:
// KeySource names the setting the keys came from, not their values.
type ProviderView struct {
	Name      string `json:"name"`
	Anchor    string `json:"anchor"`
	Endpoint  string `json:"endpoint"`
	Mode      string `json:"mode"` // "events", "polling", "watching"
	KeySource string `json:"key_source,omitempty"`
	// State is "ok", "error" (the last sync failed; the last good routes
	// stay in service), "starting" (no sync finished yet) or "unknown"
	// (the table has routes from it but it reports no status).
	State       string    `json:"state"`
	LastSync    time.Time `json:"last_sync,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	ErrorSince  time.Time `json:"error_since,omitzero"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`

	Stacks     int `json:"stacks"`
	Services   int `json:"services"`
	Containers int `json:"containers"`
	Instances  int `json:"instances,omitempty"`
	Routes     int `json:"routes"`

	// Notes are the provider's plain statements about its setup, such as
	// "every registered service is published".
	Notes []string `json:"notes,omitempty"`

	Syncs  uint64 `json:"syncs"`
	Errors uint64 `json:"errors"`

	// Problems are the per-service problems: what the provider skipped or
	// warned about, and what the table compiler refused (bad rules,
	// conflicts).
	Problems []ProblemView `json:"problems"`
}

func (s *Server) discoveryPage(st state) DiscoveryPage {
	return DiscoveryPage{Now: st.now, Providers: providerViews(st)}
}

// providerViews merges the providers' own status with the table's
// problems, which include the compiler's, by provider name.
func providerViews(st state) []ProviderView {
	out := []ProviderView{}
	index := make(map[string]int)
	for _, ps := range st.providers {
		index[ps.Name] = len(out)
		out = append(out, providerView(ps))
	}
	// Providers that report no status still show their problems.
	for _, snap := range snapshots(st) {
		if _, ok := index[snap.Provider]; !ok {
			index[snap.Provider] = len(out)
			out = append(out, ProviderView{Name: snap.Provider, Anchor: "provider-" + slug(snap.Provider),
				State: "unknown", LastSuccess: snap.Built, Routes: st.table.ServiceCount(snap.Provider), Problems: []ProblemView{}})
		}
	}
	for _, pr := range st.problems() {
		i, ok := index[pr.Source.Provider]
		if !ok {
			index[pr.Source.Provider] = len(out)
			i = len(out)
			out = append(out, ProviderView{Name: pr.Source.Provider, Anchor: "provider-" + slug(pr.Source.Provider),
				State: "unknown", Problems: []ProblemView{}})
		}
		pv := problemView(pr)
		if !slices.Contains(out[i].Problems, pv) {
			out[i].Problems = append(out[i].Problems, pv)
		}
	}
	for i := range out {
		out[i].Problems = mergeProblems(out[i].Problems)
		slices.SortStableFunc(out[i].Problems, func(a, b ProblemView) int {
			if a.Severity != b.Severity {
				return strings.Compare(a.Severity, b.Severity) // "error" before "warning"
			}
			return strings.Compare(a.Source.Text, b.Source.Text)
		})
	}
	return out
}

func providerView(ps route.ProviderStatus) ProviderView {
	v := ProviderView{
		Name: ps.Name, Anchor: "provider-" + slug(ps.Name),
		Endpoint: redactURL(ps.Endpoint), Mode: ps.Mode, KeySource: ps.KeySource,
		LastSync: ps.LastSync, LastSuccess: ps.LastSuccess, LastError: ps.LastError,
		ErrorSince: ps.ErrorSince, NextAttempt: ps.NextAttempt,
		Stacks: ps.Stacks, Services: ps.Services, Containers: ps.Containers, Instances: ps.Instances, Routes: ps.Routes,
		Notes: ps.Notes,
		Syncs: ps.Syncs, Errors: ps.Errors, Problems: []ProblemView{},
	}
	switch {
	case ps.LastError != "":
		v.State = "error"
	case ps.LastSuccess.IsZero():
		v.State = "starting"
	default:
		v.State = "ok"
	}
	for _, p := range ps.Problems {
		v.Problems = append(v.Problems, problemView(p))
	}
	return v
}

func snapshots(st state) []route.Snapshot {
	if st.table == nil {
		return nil
	}
	return st.table.Snapshots()
}

// mergeProblems lists a problem reported with the same words for several
// services once, naming them all: the compiler tells every service that
// claims a rule about the clash.
func mergeProblems(in []ProblemView) []ProblemView {
	type key struct{ severity, message string }
	first := make(map[key]int, len(in))
	out := in[:0]
	for _, p := range in {
		k := key{p.Severity, p.Message}
		if i, ok := first[k]; ok {
			out[i].Source.Text += ", " + p.Source.Text
			continue
		}
		first[k] = len(out)
		out = append(out, p)
	}
	return out
}
