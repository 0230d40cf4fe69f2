package edge

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/rancher-edge/edge/edge/middleware"
	"github.com/rancher-edge/edge/route"
)

// A stage is one middleware of a route's handler chain. The stages list
// below is the one place that decides which middlewares run and in which
// order: routeHandler builds each route's chain from it, Route.Middlewares
// describes the chain from it (the dashboard and `edge check`), and a
// route is served by the fast paths only when the chain wrapped nothing
// but the stages they apply themselves. A new middleware is a new row;
// nothing else needs to know about it.
type stage struct {
	// kind names the middleware for people and the JSON API.
	kind string
	// fast is set on the stages the fast paths apply themselves; any
	// other stage that wraps a route sends its requests through the
	// net/http handler chain.
	fast bool
	// wrap returns next wrapped by the middleware the route configures,
	// or nil when it configures none.
	wrap func(s *Server, rt *Route, next http.Handler) (http.Handler, error)
	// describe says what the middleware does on rt, in words. It never
	// returns credentials or header values, which may be secrets.
	describe func(rt *Route) string
}

// stages is the chain, outermost first, in Traefik 1.7's order: the
// entry point's compression, then whitelist, redirect, headers, basic auth, then the rule's path
// modifiers in front of the proxy. CORS (ingress-nginx's) comes before
// authentication, as there: a browser's preflight carries no
// credentials. The redirect passes requests it does
// not apply to (already on its entry point, regex not matching) on, and
// comes before auth so nobody is asked for credentials over plain HTTP.
var stages = [...]stage{
	{kind: "compress", wrap: wrapCompress, describe: describeCompress},
	{kind: "whitelist", wrap: wrapWhiteList, describe: describeWhiteList},
	{kind: "redirect", wrap: wrapRedirect, describe: describeRedirect},
	{kind: "cors", wrap: wrapCORS, describe: describeCORS},
	{kind: "headers", wrap: wrapHeaders, describe: func(rt *Route) string { return headersDetail(rt.Service.Headers) }},
	{kind: "auth", wrap: wrapBasicAuth, describe: describeBasicAuth},
	{kind: "digest-auth", wrap: wrapDigestAuth, describe: describeDigestAuth},
	{kind: "forward-auth", wrap: wrapForwardAuth, describe: describeForwardAuth},
	{kind: "pass-client-cert", wrap: wrapPassClientCert, describe: describePassClientCert},
	{kind: "error-pages", wrap: wrapErrorPages, describe: describeErrorPages},
	{kind: "rate-limit", wrap: wrapRateLimit, describe: describeRateLimit},
	{kind: "maxconn", wrap: wrapMaxConn, describe: describeMaxConn},
	{kind: "answer", wrap: wrapAnswer, describe: describeAnswer},
	{kind: "path-rewrite", fast: true, wrap: wrapPathModifiers, describe: func(*Route) string { return "from the rule" }},
}

// stageSet has one bit per entry of stages.
type stageSet uint16

// Fails to compile when stages outgrows stageSet.
var _ = [16 - len(stages)]struct{}{}

// fastStages are the stages the fast paths apply themselves.
var fastStages = func() stageSet {
	var m stageSet
	for i, st := range stages {
		if st.fast {
			m |= 1 << i
		}
	}
	return m
}()

// routeHandler assembles rt's chain from stages around its reverse proxy
// and says which stages wrapped it.
func (s *Server) routeHandler(rt *Route) (http.Handler, stageSet, error) {
	var h http.Handler = &lazyProxy{s: s, rt: rt}
	rt.proxy = h
	var applied stageSet
	for i := len(stages) - 1; i >= 0; i-- {
		w, err := stages[i].wrap(s, rt, h)
		if err != nil {
			return nil, 0, err // the middlewares' errors name them
		}
		if w != nil {
			h = w
			applied |= 1 << i
		}
	}
	return h, applied, nil
}

// Middleware is one middleware in effect on a route, described for
// people. Detail never carries credentials or header values.
type Middleware struct {
	Kind   string
	Detail string
}

// Middlewares lists the middlewares in effect on the route, outermost
// first, in the order requests meet them.
func (r *Route) Middlewares() []Middleware {
	var out []Middleware
	for i := range stages {
		if r.stages&(1<<i) != 0 {
			out = append(out, Middleware{Kind: stages[i].kind, Detail: stages[i].describe(r)})
		}
	}
	return out
}

func wrapCORS(_ *Server, rt *Route, next http.Handler) (http.Handler, error) {
	if rt.Service.CORS == nil {
		return nil, nil
	}
	return middleware.CORS(*rt.Service.CORS, next)
}

func describeCORS(rt *Route) string {
	return "origins " + strings.Join(rt.Service.CORS.AllowOrigins, ", ") + "; preflights answered 204"
}

func wrapWhiteList(_ *Server, rt *Route, next http.Handler) (http.Handler, error) {
	if rt.Service.WhiteList == nil {
		return nil, nil
	}
	return middleware.WhiteList(*rt.Service.WhiteList, next)
}

func describeWhiteList(rt *Route) string {
	w := rt.Service.WhiteList
	d := "from " + strings.Join(w.SourceRange, ", ")
	if w.UseXForwardedFor {
		d += " (X-Forwarded-For trusted)"
	}
	return d
}

func wrapRedirect(s *Server, rt *Route, next http.Handler) (http.Handler, error) {
	if rt.Service.Redirect == nil {
		return nil, nil
	}
	return middleware.RedirectWithFallback(*rt.Service.Redirect, s.cfg.HTTPPort, s.cfg.HTTPSPort, next)
}

func describeRedirect(rt *Route) string {
	r := rt.Service.Redirect
	d := fmt.Sprintf("%s → %s", r.Regex, r.Replacement)
	if r.EntryPoint != "" {
		d = "to entry point " + r.EntryPoint
	}
	if r.Permanent {
		d += " (permanent)"
	}
	return d
}

// wrapAnswer answers route.Service.Answer in place of the proxy: the
// route's own status, no backend. Not a fast stage, so such routes take
// the handler chain. With an AnswerWeight, only that share of the
// requests is answered, spread evenly over them, and the rest go on to
// next.
func wrapAnswer(_ *Server, rt *Route, next http.Handler) (http.Handler, error) {
	code := rt.Service.Answer
	if code == 0 {
		return nil, nil
	}
	if code < 400 || code > 599 {
		return nil, fmt.Errorf("answer %d is not a 4xx or 5xx status", code)
	}
	answer := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { plainError(w, code) })
	a, total := answerShare(&rt.Service)
	if a == total {
		return answer, nil
	}
	var n atomic.Uint64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The k-th of every total requests is answered when k·a mod
		// total lands in the top a values: a of them, evenly spaced.
		k := (n.Add(1) - 1) % total
		if k*a%total >= total-a {
			answer(w, r)
			return
		}
		next.ServeHTTP(w, r)
	}), nil
}

// answerShare is the answered share of s's requests as a of total; a ==
// total when every request is answered.
func answerShare(s *route.Service) (a, total uint64) {
	if s.AnswerWeight <= 0 {
		return 1, 1
	}
	var w uint64
	for _, sv := range s.Servers {
		w += uint64(max(sv.Weight, 0))
	}
	if w == 0 {
		return 1, 1
	}
	a = uint64(s.AnswerWeight)
	return a, a + w
}

func describeAnswer(rt *Route) string {
	code := strconv.Itoa(rt.Service.Answer)
	a, total := answerShare(&rt.Service)
	if a == total {
		return "answers " + code + " itself"
	}
	return fmt.Sprintf("answers %s itself to %.3g%% of requests, the share of its backends that do not resolve", code, 100*float64(a)/float64(total))
}

func wrapHeaders(_ *Server, rt *Route, next http.Handler) (http.Handler, error) {
	if rt.Service.Headers == nil {
		return nil, nil
	}
	return middleware.Headers(*rt.Service.Headers, next)
}

func wrapBasicAuth(s *Server, rt *Route, next http.Handler) (http.Handler, error) {
	if rt.Service.Auth == nil {
		return nil, nil
	}
	return middleware.NewBasicAuth(*rt.Service.Auth, s.authOptions(), next)
}

func describeBasicAuth(rt *Route) string {
	a := rt.Service.Auth
	d := "basic, " + plural(len(a.Users), "user")
	if a.UsersFile != "" {
		d += " and the users file " + a.UsersFile
	}
	if a.HeaderField != "" {
		d += ", user name in " + a.HeaderField
	}
	if a.RemoveHeader {
		d += ", Authorization removed"
	}
	return d
}

// wrapPathModifiers applies the rule's path modifiers (PathStrip,
// AddPrefix, ReplacePath…) before the proxy; the fast paths apply them
// themselves.
func wrapPathModifiers(_ *Server, rt *Route, next http.Handler) (http.Handler, error) {
	r := rt.rule
	if !r.HasModifiers() {
		return nil, nil
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !r.Modify(req) {
			plainError(w, http.StatusNotFound)
			return
		}
		next.ServeHTTP(w, req)
	}), nil
}

// headersDetail lists what a headers middleware does. Custom header values
// are left out: they often carry tokens for the backend.
func headersDetail(h *route.Headers) string {
	var parts []string
	if len(h.CustomRequestHeaders) > 0 {
		parts = append(parts, "request: "+strings.Join(sortedKeys(h.CustomRequestHeaders), ", "))
	}
	if len(h.CustomResponseHeaders) > 0 {
		parts = append(parts, "response: "+strings.Join(sortedKeys(h.CustomResponseHeaders), ", "))
	}
	if len(h.AddRequestHeaders) > 0 {
		parts = append(parts, "request, added to: "+strings.Join(sortedKeys(h.AddRequestHeaders), ", "))
	}
	if len(h.AddResponseHeaders) > 0 {
		parts = append(parts, "response, added to: "+strings.Join(sortedKeys(h.AddResponseHeaders), ", "))
	}
	if len(h.AllowedHosts) > 0 {
		parts = append(parts, "allowed hosts: "+strings.Join(h.AllowedHosts, ", "))
	}
	if h.SSLRedirect || h.SSLTemporaryRedirect {
		parts = append(parts, "SSL redirect")
	}
	if h.STSSeconds > 0 {
		sts := fmt.Sprintf("HSTS %ds", h.STSSeconds)
		if h.STSIncludeSubdomains {
			sts += " +subdomains"
		}
		if h.STSPreload {
			sts += " +preload"
		}
		parts = append(parts, sts)
	}
	if h.FrameDeny || h.CustomFrameOptionsValue != "" {
		parts = append(parts, "frame options")
	}
	if h.ContentTypeNosniff {
		parts = append(parts, "nosniff")
	}
	if h.BrowserXSSFilter || h.CustomBrowserXSSValue != "" {
		parts = append(parts, "XSS filter")
	}
	if h.ContentSecurityPolicy != "" {
		parts = append(parts, "CSP")
	}
	if h.ReferrerPolicy != "" {
		parts = append(parts, "referrer policy "+h.ReferrerPolicy)
	}
	if len(parts) == 0 {
		return "no changes"
	}
	return strings.Join(parts, "; ")
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
