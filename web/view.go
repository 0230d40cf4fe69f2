package web

import (
	"hash/crc32"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rancher-edge/edge/certs"
	"github.com/rancher-edge/edge/edge"
	"github.com/rancher-edge/edge/route"
)

// state is one consistent read of every source, taken once per request so
// that all sections of a page describe the same moment.
type state struct {
	now       time.Time
	table     *edge.Table // nil before the first table
	certs     []certs.Status
	providers []route.ProviderStatus
	certFor   func(host string) (certs.Status, bool)
	storage   *StorageStatus
}

// read calls the sources. Nil sources yield empty sections.
func (s *Server) read() state {
	src := s.cfg.Sources
	st := state{now: s.now(), certFor: src.CertificateFor}
	if src.Table != nil {
		st.table = src.Table()
	}
	if src.Certificates != nil {
		st.certs = src.Certificates()
	}
	if src.Providers != nil {
		st.providers = src.Providers()
	}
	if src.Storage != nil {
		ss := src.Storage()
		ss.Location = redactURL(ss.Location)
		st.storage = &ss
	}
	return st
}

// routes returns the table's routes, or none before the first table.
func (st state) routes() []*edge.Route {
	if st.table == nil {
		return nil
	}
	return st.table.Routes()
}

// problems returns the table's problems, or none before the first table.
func (st state) problems() []route.Problem {
	if st.table == nil {
		return nil
	}
	return st.table.Problems()
}

// SourceView says where a route or problem came from.
type SourceView struct {
	Provider string `json:"provider"`
	Stack    string `json:"stack,omitempty"`
	Service  string `json:"service"`
	Segment  string `json:"segment,omitempty"`
	// Text is provider:stack/service[#segment].
	Text string `json:"text"`
}

func sourceView(s route.Source) SourceView {
	return SourceView{Provider: s.Provider, Stack: s.Stack, Service: s.Service, Segment: s.Segment, Text: s.String()}
}

// ProblemView is one problem a provider or the table compiler reported.
type ProblemView struct {
	Source   SourceView `json:"source"`
	Severity string     `json:"severity"` // "error" (skipped) or "warning" (served)
	Message  string     `json:"message"`
	// Anchor is the HTML id of the problem's row on the discovery page;
	// it stays the same while the problem does.
	Anchor string `json:"anchor"`
}

func problemView(p route.Problem) ProblemView {
	return ProblemView{
		Source:   sourceView(p.Source),
		Severity: string(p.Severity),
		Message:  p.Message,
		Anchor:   "problem-" + slug(p.Source.String()) + "-" + strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(p.Message))), 36),
	}
}

// slug turns s into something safe and readable as an HTML id and URL
// fragment.
func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

// redactURL removes credentials from a URL-looking string. Providers
// promise not to report any; this is a second line of defence.
func redactURL(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	var out []string
	for _, part := range strings.Split(s, ",") {
		u, err := url.Parse(strings.TrimSpace(part))
		if err != nil || u.User == nil {
			if err != nil && strings.Contains(part, "@") {
				part = "(address hidden: it may hold credentials)"
			}
			out = append(out, part)
			continue
		}
		u.User = nil
		out = append(out, u.String())
	}
	return strings.Join(out, ",")
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
