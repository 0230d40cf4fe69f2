package web

import (
	"net/url"
	"slices"
	"strings"

	"github.com/rancher-edge/edge/route"
)

// RouteQuery narrows the routes page: /routes?q=…&problems=1&failing=1&provider=…
// Without JavaScript it is a plain GET form; app.js submits it as you type.
type RouteQuery struct {
	// Q are words that must all appear (case-insensitively) in the
	// route's rule (hosts, paths), service, stack or namespace, provider,
	// ID, or a backend's name or address.
	Q string `json:"q,omitempty"`
	// Problems keeps routes with a reported problem; Failing those with a
	// backend that is not available (failing, ejected); Provider those
	// of one provider.
	Problems bool   `json:"problems,omitempty"`
	Failing  bool   `json:"failing,omitempty"`
	Provider string `json:"provider,omitempty"`
}

func routeQuery(v url.Values) RouteQuery {
	return RouteQuery{
		Q:        strings.TrimSpace(v.Get("q")),
		Problems: v.Get("problems") != "",
		Failing:  v.Get("failing") != "",
		Provider: strings.TrimSpace(v.Get("provider")),
	}
}

// Active reports whether the query narrows anything.
func (q RouteQuery) Active() bool { return q.Q != "" || q.Problems || q.Failing || q.Provider != "" }

func (q RouteQuery) matches(rv RouteView) bool {
	if q.Provider != "" && rv.Source.Provider != q.Provider {
		return false
	}
	if q.Problems && len(rv.Problems) == 0 {
		return false
	}
	if q.Failing && !slices.ContainsFunc(rv.Backends, func(b BackendView) bool {
		return b.Health != "passing" && b.Health != "unchecked" && b.Health != "drained"
	}) {
		return false
	}
	if q.Q == "" {
		return true
	}
	fields := []string{rv.ID, rv.Rule, rv.Source.Text, rv.Source.Stack, rv.Source.Service, rv.Source.Provider}
	for _, b := range rv.Backends {
		fields = append(fields, b.Name, b.URL)
	}
	return matchWords(q.Q, fields)
}

func (q RouteQuery) matchesSkipped(p ProblemView) bool {
	if q.Failing || (q.Provider != "" && p.Source.Provider != q.Provider) {
		return false
	}
	return q.Q == "" || matchWords(q.Q, []string{p.Source.Text, p.Source.Stack, p.Source.Service, p.Message})
}

// matchWords reports whether every word of query is in one of fields.
func matchWords(query string, fields []string) bool {
	hay := strings.ToLower(strings.Join(fields, "\n"))
	for _, w := range strings.Fields(strings.ToLower(query)) {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

// SkippedStack is the services one provider's stack (or namespace) had
// skipped, for the routes page: they have no route, and this says why.
type SkippedStack struct {
	Provider string        `json:"provider"`
	Stack    string        `json:"stack"` // empty for providers without stacks
	Services []ProblemView `json:"services"`
}

// skippedStacks groups the problems that skipped a service by provider and
// stack.
func skippedStacks(problems []route.Problem, q RouteQuery) []SkippedStack {
	out := []SkippedStack{}
	index := make(map[[2]string]int)
	for _, pr := range problems {
		if pr.Severity != route.Error {
			continue
		}
		pv := problemView(pr)
		if !q.matchesSkipped(pv) {
			continue
		}
		k := [2]string{pr.Source.Provider, pr.Source.Stack}
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, SkippedStack{Provider: k[0], Stack: k[1]})
		}
		if !slices.Contains(out[i].Services, pv) {
			out[i].Services = append(out[i].Services, pv)
		}
	}
	slices.SortStableFunc(out, func(a, b SkippedStack) int {
		if c := strings.Compare(a.Provider, b.Provider); c != 0 {
			return c
		}
		return strings.Compare(a.Stack, b.Stack)
	})
	return out
}
