package kubernetes

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gw "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/rancher-edge/edge/discovery/labels"
	"github.com/rancher-edge/edge/route"
)

// attachment is where one parentRef of a route attached.
type attachment struct {
	listeners []*listener
	hosts     []string // the intersected hostnames; nil means any host
	plainHTTP bool     // attached to an HTTP listener
}

// route attaches an HTTPRoute to its parents, sets its status per parent
// and builds its rules once for the union of the parents' hostnames.
func (b *gbuilder) route(r *gw.HTTPRoute, order int, listeners map[string][]*listener) {
	gen := r.Generation
	key := r.Namespace + "/" + r.Name
	var parents []gw.RouteParentStatus
	var att attachment
	anyHost := false
	for _, pr := range r.Spec.ParentRefs {
		if (pr.Group != nil && *pr.Group != gw.GroupName) || (pr.Kind != nil && *pr.Kind != "Gateway") {
			continue // not a Gateway: not ours to judge
		}
		ns := r.Namespace
		if pr.Namespace != nil && *pr.Namespace != "" {
			ns = string(*pr.Namespace)
		}
		ls, ok := listeners[ns+"/"+string(pr.Name)]
		if !ok {
			continue // not one of our Gateways
		}
		ps := gw.RouteParentStatus{ParentRef: pr, ControllerName: GatewayController}
		accepted, reason, msg := b.attach(r, pr, ls, &att, &anyHost)
		ps.Conditions = []metav1.Condition{cond(string(gw.RouteConditionAccepted), accepted, reason, msg, gen)}
		parents = append(parents, ps)
	}
	if len(parents) == 0 {
		return
	}
	if anyHost {
		att.hosts = nil
	}
	resolved, rReason, rMsg := true, string(gw.RouteReasonResolvedRefs), ""
	invalid, total := 0, len(r.Spec.Rules)
	var invalidMsg string
	invalidReason := gw.RouteReasonUnsupportedValue
	if len(att.listeners) > 0 {
		for i := range r.Spec.Rules {
			b.ruleReason = gw.RouteReasonUnsupportedValue
			ok, why, refReason, refMsg := b.rule(r, i, order, att)
			if !ok {
				invalid++
				invalidMsg, invalidReason = why, b.ruleReason
			}
			if refReason != "" && resolved {
				resolved, rReason, rMsg = false, refReason, refMsg
			}
		}
	}
	for i := range parents {
		c := &parents[i].Conditions
		if invalid > 0 && (*c)[0].Status == metav1.ConditionTrue {
			if invalid == total {
				(*c)[0] = cond(string(gw.RouteConditionAccepted), false, string(invalidReason), invalidMsg, gen)
			} else {
				*c = append(*c, cond(string(gw.RouteConditionPartiallyInvalid), true, string(gw.RouteReasonUnsupportedValue), invalidMsg, gen))
			}
		}
		*c = append(*c, cond(string(gw.RouteConditionResolvedRefs), resolved, rReason, rMsg, gen))
	}
	b.st.Routes[key] = parents
}

// attach finds the listeners of one parent a route attaches to, as the
// spec orders the reasons: no such section, not allowed, no hostname.
func (b *gbuilder) attach(r *gw.HTTPRoute, pr gw.ParentReference, ls []*listener, att *attachment, anyHost *bool) (bool, string, string) {
	var named []*listener
	for _, l := range ls {
		if pr.SectionName != nil && *pr.SectionName != l.l.Name {
			continue
		}
		if pr.Port != nil && *pr.Port != l.l.Port {
			continue
		}
		named = append(named, l)
	}
	if len(named) == 0 {
		return false, string(gw.RouteReasonNoMatchingParent), "no listener matches the parentRef's sectionName or port"
	}
	var allowed []*listener
	for _, l := range named {
		if l.usable && b.admits(l, r.Namespace) {
			allowed = append(allowed, l)
		}
	}
	if len(allowed) == 0 {
		return false, string(gw.RouteReasonNotAllowedByListeners), "no listener of the parent admits routes from this namespace"
	}
	n := 0
	for _, l := range allowed {
		hosts, ok := intersect(hostOf(l.l.Hostname), r.Spec.Hostnames)
		if !ok {
			continue
		}
		n++
		l.attached++
		if !slices.Contains(att.listeners, l) {
			att.listeners = append(att.listeners, l)
		}
		if !l.https {
			att.plainHTTP = true
		}
		if hosts == nil {
			*anyHost = true
		}
		for _, h := range hosts {
			if !slices.Contains(att.hosts, h) {
				att.hosts = append(att.hosts, h)
			}
		}
	}
	if n == 0 {
		return false, string(gw.RouteReasonNoMatchingListenerHostname), "no hostname of the route matches a listener's"
	}
	return true, string(gw.RouteReasonAccepted), ""
}

// intersect is the spec's hostname intersection of a listener (empty:
// any) and a route's hostnames (none: any). nil with ok means any host.
func intersect(listenerHost string, routeHosts []gw.Hostname) ([]string, bool) {
	if len(routeHosts) == 0 {
		if listenerHost == "" {
			return nil, true
		}
		return []string{listenerHost}, true
	}
	var out []string
	for _, rh := range routeHosts {
		h := strings.ToLower(string(rh))
		switch {
		case listenerHost == "" || h == listenerHost:
			out = append(out, h)
		case wildcardCovers(listenerHost, h):
			out = append(out, h)
		case wildcardCovers(h, listenerHost):
			out = append(out, listenerHost)
		}
	}
	return out, len(out) > 0
}

// wildcardCovers reports whether the wildcard w ("*.a.com") covers h
// ("b.a.com", "c.b.a.com" or "*.b.a.com"): one or more labels, as the
// Gateway API says.
func wildcardCovers(w, h string) bool {
	suffix, ok := strings.CutPrefix(w, "*")
	if !ok {
		return false
	}
	return strings.HasSuffix(h, suffix) && len(strings.TrimPrefix(h, "*")) > len(suffix)
}

// ruleHosts are the Traefik host matchers of the hostnames: the exact ones
// in one Host matcher, each wildcard its own HostRegexp (a rule ANDs its
// matchers, so each needs its own route).
func ruleHosts(hosts []string) []string {
	if hosts == nil {
		return []string{""}
	}
	var exact, out []string
	for _, h := range hosts {
		if suffix, ok := strings.CutPrefix(h, "*."); ok {
			out = append(out, "HostRegexp:{subdomain:.+}."+suffix)
		} else {
			exact = append(exact, h)
		}
	}
	if len(exact) > 0 {
		out = append([]string{"Host:" + strings.Join(exact, ",")}, out...)
	}
	return out
}

// grammarSafe rejects what would break the rule grammar's separators.
func grammarSafe(s string) bool { return !strings.ContainsAny(s, ";,{} \t\n") }

// rule builds one HTTPRoute rule: one route per match and host matcher.
// ok is false when the rule is invalid (not served); refReason is set when
// a backendRef does not resolve.
func (b *gbuilder) rule(r *gw.HTTPRoute, idx, order int, att attachment) (ok bool, why, refReason, refMsg string) {
	rl := &r.Spec.Rules[idx]
	seg := "rule-" + strconv.Itoa(idx)
	if rl.Name != nil {
		seg = string(*rl.Name)
	}
	source := gwSrc("httproute", r.Namespace, r.Name, seg)
	fail := func(format string, args ...any) (bool, string, string, string) {
		msg := fmt.Sprintf(format, args...)
		b.problem(source, route.Error, "skipped: %s", msg)
		return false, msg, refReason, refMsg
	}
	ls := map[string]string{"traefik.port": "80"}
	var modifiers []string
	redirect := false
	var reqH, respH []string
	// add has no Traefik label: it goes onto the routes' Headers directly.
	reqAdd, respAdd := map[string]string{}, map[string]string{}
	for _, f := range rl.Filters {
		switch f.Type {
		case gw.HTTPRouteFilterRequestHeaderModifier, gw.HTTPRouteFilterResponseHeaderModifier:
			hf := f.RequestHeaderModifier
			if f.Type == gw.HTTPRouteFilterResponseHeaderModifier {
				hf = f.ResponseHeaderModifier
			}
			if hf == nil {
				return fail("filter %s has no settings", f.Type)
			}
			add := reqAdd
			if f.Type == gw.HTTPRouteFilterResponseHeaderModifier {
				add = respAdd
			}
			for _, h := range hf.Add {
				if h.Value == "" {
					return fail("filter %s: header %s: add needs a value", f.Type, h.Name)
				}
				add[string(h.Name)] = h.Value
			}
			var hs []string
			for _, h := range hf.Set {
				if strings.Contains(h.Value, "||") || h.Value == "" {
					return fail("filter %s: header %s's value cannot be expressed", f.Type, h.Name)
				}
				hs = append(hs, string(h.Name)+":"+h.Value)
			}
			for _, n := range hf.Remove {
				hs = append(hs, n+":")
			}
			if f.Type == gw.HTTPRouteFilterRequestHeaderModifier {
				reqH = append(reqH, hs...)
			} else {
				respH = append(respH, hs...)
			}
		case gw.HTTPRouteFilterRequestRedirect:
			if f.RequestRedirect == nil {
				return fail("filter RequestRedirect has no settings")
			}
			re, repl, perm, err := redirectOf(f.RequestRedirect, rl, att.listeners)
			if err != nil {
				return fail("filter RequestRedirect: %v", err)
			}
			ls["traefik.frontend.redirect.regex"] = re
			ls["traefik.frontend.redirect.replacement"] = repl
			ls["traefik.frontend.redirect.permanent"] = strconv.FormatBool(perm)
			redirect = true
		case gw.HTTPRouteFilterURLRewrite:
			if f.URLRewrite == nil {
				return fail("filter URLRewrite has no settings")
			}
			if f.URLRewrite.Hostname != nil {
				return fail("filter URLRewrite: hostname is not supported yet")
			}
			if p := f.URLRewrite.Path; p != nil {
				m, err := rewriteOf(p, rl)
				if err != nil {
					return fail("filter URLRewrite: %v", err)
				}
				modifiers = append(modifiers, m)
			}
		default:
			return fail("filter %s is not supported", f.Type)
		}
	}
	if redirect && len(modifiers) > 0 {
		b.ruleReason = gw.RouteReasonIncompatibleFilters
		return fail("RequestRedirect and URLRewrite together are incompatible")
	}
	if len(reqH) > 0 {
		ls["traefik.frontend.headers.customRequestHeaders"] = strings.Join(reqH, "||")
	}
	if len(respH) > 0 {
		ls["traefik.frontend.headers.customResponseHeaders"] = strings.Join(respH, "||")
	}
	if rl.Timeouts != nil || rl.Retry != nil || rl.SessionPersistence != nil {
		return fail("timeouts, retry and sessionPersistence are not supported yet")
	}

	var servers []labels.Address
	scheme := "http"
	answer, answerWeight := 0, 0
	if !redirect {
		var refOK bool
		var resolved, failed int
		servers, scheme, resolved, failed, refOK, refReason, refMsg = b.backends(r, rl, source)
		if !refOK && refReason == "" {
			return fail("%s", refMsg)
		}
		// No backendRef resolves (or there is none): the spec's 500, not
		// the 503 of a Service without ready endpoints. Some do not: the
		// requests their weights would have had get 500, the rest are
		// served.
		switch {
		case resolved == 0:
			answer = 500
		case failed > 0:
			answer, answerWeight = 500, failed
		}
	}
	ls["traefik.protocol"] = scheme

	matches := rl.Matches
	if len(matches) == 0 {
		matches = []gw.HTTPRouteMatch{{}}
	}
	type built struct {
		expr string
		prio int
	}
	var rules []built
	for _, m := range matches {
		expr, prio, err := matchOf(m)
		if err != nil {
			return fail("%v", err)
		}
		rules = append(rules, built{expr, prio})
	}
	for mi, m := range rules {
		for hi, hostExpr := range ruleHosts(att.hosts) {
			parts := []string{}
			if hostExpr != "" {
				parts = append(parts, hostExpr)
			}
			parts = append(parts, m.expr)
			parts = append(parts, modifiers...)
			l := make(map[string]string, len(ls)+2)
			for k, v := range ls {
				l[k] = v
			}
			l["traefik.frontend.rule"] = strings.Join(parts, ";")
			l["traefik.frontend.priority"] = strconv.Itoa(gatewayPriority(hostExpr, m.prio, order))
			name := fmt.Sprintf("%s/%s/%s/%d/%d", r.Namespace, r.Name, seg, mi, hi)
			svcs, probs := labels.Build(labels.Input{Stack: r.Namespace, Service: r.Name, DefaultHost: name, Labels: l, Servers: servers, Created: r.CreationTimestamp.Time}, b.s.labels)
			for _, pr := range probs {
				pr.Source = source
				b.problems = append(b.problems, pr)
			}
			for _, svc := range svcs {
				svc.Name = name
				svc.Source = source
				svc.TLS = &route.TLS{PlainHTTP: att.plainHTTP}
				svc.Answer = answer
				svc.AnswerWeight = answerWeight
				if len(reqAdd) > 0 || len(respAdd) > 0 {
					if svc.Headers == nil {
						svc.Headers = &route.Headers{}
					}
					if len(reqAdd) > 0 {
						svc.Headers.AddRequestHeaders = reqAdd
					}
					if len(respAdd) > 0 {
						svc.Headers.AddResponseHeaders = respAdd
					}
				}
				b.services = append(b.services, svc)
			}
		}
	}
	return true, "", refReason, refMsg
}

// matchOf writes one match as rule matchers, with its precedence score:
// Exact path, then the longest prefix, then method, then the most header
// and query matches (the spec's order).
func matchOf(m gw.HTTPRouteMatch) (string, int, error) {
	var parts []string
	score := 0
	typ, val := gw.PathMatchPathPrefix, "/"
	if m.Path != nil {
		if m.Path.Type != nil {
			typ = *m.Path.Type
		}
		if m.Path.Value != nil {
			val = *m.Path.Value
		}
	}
	switch typ {
	case gw.PathMatchExact:
		if !strings.HasPrefix(val, "/") || !grammarSafe(val) {
			return "", 0, fmt.Errorf("path %q cannot be matched exactly", val)
		}
		parts = append(parts, "Path:"+val)
		score = 2<<16 + min(len(val), 1<<15)
	case gw.PathMatchPathPrefix:
		if !strings.HasPrefix(val, "/") || !grammarSafe(val) {
			return "", 0, fmt.Errorf("path prefix %q is not supported", val)
		}
		p := strings.TrimRight(val, "/")
		if p == "" {
			parts = append(parts, "PathPrefix:/")
		} else {
			parts = append(parts, "Path:"+p+","+p+"/{rest:.*}")
		}
		score = 1<<16 + min(len(p), 1<<15)
	case gw.PathMatchRegularExpression:
		if strings.ContainsAny(val, ";{}") {
			return "", 0, fmt.Errorf("path regular expression %q must not contain ; { or }", val)
		}
		parts = append(parts, "Path:{path:"+val+"}")
		score = 1<<16 + min(len(val), 1<<15)
	default:
		return "", 0, fmt.Errorf("path match type %s is not supported", typ)
	}
	score <<= 1
	if m.Method != nil {
		parts = append(parts, "Method:"+string(*m.Method))
		score++
	}
	for _, h := range m.Headers {
		if !grammarSafe(string(h.Name)) || strings.ContainsAny(h.Value, ",;") {
			return "", 0, fmt.Errorf("header match %s cannot be expressed", h.Name)
		}
		if h.Type != nil && *h.Type == gw.HeaderMatchRegularExpression {
			parts = append(parts, "HeadersRegexp:"+string(h.Name)+","+h.Value)
		} else {
			parts = append(parts, "Headers:"+string(h.Name)+","+h.Value)
		}
	}
	score = score<<5 + min(len(m.Headers), 31)
	for _, q := range m.QueryParams {
		if !grammarSafe(string(q.Name)) || strings.ContainsAny(q.Value, ",;{}") {
			return "", 0, fmt.Errorf("query match %s cannot be expressed", q.Name)
		}
		if q.Type != nil && *q.Type == gw.QueryParamMatchRegularExpression {
			parts = append(parts, "Query:"+string(q.Name)+"={v:"+q.Value+"}")
		} else {
			parts = append(parts, "Query:"+string(q.Name)+"="+q.Value)
		}
	}
	score = score<<5 + min(len(m.QueryParams), 31)
	return strings.Join(parts, ";"), score, nil
}

// gatewayPriority ranks a route: an exact host before a wildcard (longer
// suffix first) before any host, then the match's score, then the older
// route (order is the route's rank by age).
func gatewayPriority(hostExpr string, score, order int) int {
	host := 0
	switch {
	case strings.HasPrefix(hostExpr, "Host:"):
		host = 2 << 9
	case hostExpr != "":
		host = 1<<9 + min(len(hostExpr), 511)
	}
	return (host<<30+score)<<16 + (1<<16 - 1 - min(order, 1<<16-1))
}

// redirectOf writes a RequestRedirect as the edge's redirect regex and
// replacement over the full request URL.
func redirectOf(f *gw.HTTPRequestRedirectFilter, rl *gw.HTTPRouteRule, listeners []*listener) (string, string, bool, error) {
	re := `^(https?)://([^/:]+)(:[0-9]+)?`
	repl := "$1://"
	if f.Scheme != nil {
		repl = *f.Scheme + "://"
	}
	if f.Hostname != nil {
		repl += string(*f.Hostname)
	} else {
		repl += "$2"
	}
	repl += redirectPort(f, listeners)
	if f.Path == nil {
		re += `(.*)$`
		repl += "$4"
	} else {
		switch f.Path.Type {
		case gw.FullPathHTTPPathModifier:
			if f.Path.ReplaceFullPath == nil {
				return "", "", false, fmt.Errorf("replaceFullPath is missing")
			}
			re += `(/[^?]*)?(\?.*)?$`
			repl += *f.Path.ReplaceFullPath + "$5"
		case gw.PrefixMatchHTTPPathModifier:
			prefix, err := onlyPrefix(rl)
			if err != nil || f.Path.ReplacePrefixMatch == nil {
				return "", "", false, fmt.Errorf("replacePrefixMatch needs one PathPrefix match")
			}
			re += regexpQuote(prefix) + `(/[^?]*)?(\?.*)?$`
			repl += joinPrefix(*f.Path.ReplacePrefixMatch) + "$4$5"
		default:
			return "", "", false, fmt.Errorf("path type %s is not supported", f.Path.Type)
		}
	}
	code := 302
	if f.StatusCode != nil {
		code = *f.StatusCode
	}
	if code != 301 && code != 302 {
		return "", "", false, fmt.Errorf("statusCode %d is not supported (301 and 302 are)", code)
	}
	if strings.ContainsAny(repl, " ") {
		return "", "", false, fmt.Errorf("the target must not contain spaces")
	}
	return re, repl, code == 301, nil
}

// redirectPort is the ":port" the Location carries, by the spec's rules:
// an explicit port, else the scheme's well-known port when the filter sets
// a scheme, else the port of the listener the request came in on; and no
// port at all when it is the scheme's well-known one (http 80, https 443).
// A route attached to listeners that would need different ports (HTTP on
// 8080 and HTTPS on 443, say) cannot say so in one replacement: it keeps
// the port the client asked for, which is the listener's whenever the
// client's Host header carries one.
func redirectPort(f *gw.HTTPRequestRedirectFilter, listeners []*listener) string {
	suffix, first := "", true
	for _, l := range listeners {
		scheme := "http"
		if l.https {
			scheme = "https"
		}
		if f.Scheme != nil {
			scheme = *f.Scheme
		}
		port := int(l.l.Port)
		switch {
		case f.Port != nil:
			port = int(*f.Port)
		case f.Scheme != nil && wellKnownPort(scheme) != 0:
			port = wellKnownPort(scheme)
		}
		s := ""
		if port != wellKnownPort(scheme) {
			s = ":" + strconv.Itoa(port)
		}
		if !first && s != suffix {
			return "$3"
		}
		suffix, first = s, false
	}
	if first { // no listener: cannot happen for an attached route
		return "$3"
	}
	return suffix
}

func wellKnownPort(scheme string) int {
	switch scheme {
	case "http":
		return 80
	case "https":
		return 443
	}
	return 0
}

// joinPrefix is a replacement prefix to which the rest of the path ("",
// or "/…") is appended: "/" becomes "", so /foo/bar → /bar, not //bar.
func joinPrefix(p string) string { return strings.TrimRight(p, "/") }

// onlyPrefix is the path prefix of a rule whose matches all share one
// PathPrefix, as ReplacePrefixMatch requires.
func onlyPrefix(rl *gw.HTTPRouteRule) (string, error) {
	prefix := ""
	for i, m := range rl.Matches {
		if m.Path == nil || m.Path.Type == nil || *m.Path.Type != gw.PathMatchPathPrefix || m.Path.Value == nil {
			return "", fmt.Errorf("not a PathPrefix match")
		}
		p := strings.TrimRight(*m.Path.Value, "/")
		if i > 0 && p != prefix {
			return "", fmt.Errorf("different prefixes")
		}
		prefix = p
	}
	if len(rl.Matches) == 0 {
		return "", nil // the default match is PathPrefix /
	}
	return prefix, nil
}

// rewriteOf writes a URLRewrite path as a rule modifier.
func rewriteOf(p *gw.HTTPPathModifier, rl *gw.HTTPRouteRule) (string, error) {
	switch p.Type {
	case gw.FullPathHTTPPathModifier:
		if p.ReplaceFullPath == nil || !grammarSafe(*p.ReplaceFullPath) {
			return "", fmt.Errorf("replaceFullPath cannot be expressed")
		}
		return "ReplacePath:" + *p.ReplaceFullPath, nil
	case gw.PrefixMatchHTTPPathModifier:
		prefix, err := onlyPrefix(rl)
		if err != nil || p.ReplacePrefixMatch == nil || !grammarSafe(*p.ReplacePrefixMatch) {
			return "", fmt.Errorf("replacePrefixMatch needs one PathPrefix match")
		}
		to := joinPrefix(*p.ReplacePrefixMatch)
		// /prefix alone becomes the replacement itself (or /).
		if to == "" {
			return "ReplacePathRegex:^" + regexpQuote(prefix) + `/?(.*)$ /$1`, nil
		}
		return "ReplacePathRegex:^" + regexpQuote(prefix) + `(/.*)?$ ` + to + "$1", nil
	}
	return "", fmt.Errorf("path type %s is not supported", p.Type)
}

// backends resolves a rule's backendRefs into weighted servers: each
// Service's share of requests is its weight, spread over its ready
// endpoints; weight 0 drains it. A ref that does not resolve is left out
// and reported (refReason), the rest still serve.
func (b *gbuilder) backends(r *gw.HTTPRoute, rl *gw.HTTPRouteRule, source route.Source) (out []labels.Address, scheme string, resolvedN, failedWeight int, ok bool, refReason, refMsg string) {
	scheme = "http"
	type resolved struct {
		addrs  []labels.Address
		weight int
	}
	var rs []resolved
	failed := 0
	for _, br := range rl.BackendRefs {
		if len(br.Filters) > 0 {
			return nil, "", 0, 0, false, "", "per-backend filters are not supported yet"
		}
		w := 1
		if br.Weight != nil {
			w = int(*br.Weight)
		}
		refFail := func(reason gw.RouteConditionReason, format string, args ...any) {
			failed += w
			msg := fmt.Sprintf(format, args...)
			b.problem(source, route.Error, "backendRef %s: %s", br.Name, msg)
			if refReason == "" {
				refReason, refMsg = string(reason), msg
			}
		}
		if (br.Group != nil && *br.Group != "") || (br.Kind != nil && *br.Kind != "Service") {
			refFail(gw.RouteReasonInvalidKind, "only core Services are supported")
			continue
		}
		ns := r.Namespace
		if br.Namespace != nil && *br.Namespace != "" {
			ns = string(*br.Namespace)
		}
		if ns != r.Namespace && !b.granted(r.Namespace, gw.GroupName, "HTTPRoute", ns, "", "Service", string(br.Name)) {
			refFail(gw.RouteReasonRefNotPermitted, "Service %s/%s is in another namespace and no ReferenceGrant there allows it", ns, br.Name)
			continue
		}
		if b.w.Services[ns+"/"+string(br.Name)] == nil {
			refFail(gw.RouteReasonBackendNotFound, "Service %s/%s not found", ns, br.Name)
			continue
		}
		if br.Port == nil {
			refFail(gw.RouteReasonUnsupportedValue, "a Service backendRef needs a port")
			continue
		}
		before := len(b.ib.problems)
		addrs, sch, good := b.ib.backend(&networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns}}, source,
			networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: string(br.Name), Port: networkingv1.ServiceBackendPort{Number: int32(*br.Port)}}})
		b.problems = append(b.problems, b.ib.problems[before:]...)
		if !good {
			failed += w
			if refReason == "" {
				refReason, refMsg = string(gw.RouteReasonBackendNotFound), fmt.Sprintf("Service %s/%s has no port %d", ns, br.Name, *br.Port)
			}
			continue
		}
		scheme = sch
		rs = append(rs, resolved{addrs, w})
	}
	// Each Service gets weight × L / n per endpoint, L the least common
	// multiple of the endpoint counts, so shares follow the weights.
	l := 1
	for _, x := range rs {
		if n := len(x.addrs); n > 0 {
			l = lcm(l, n)
		}
	}
	for _, x := range rs {
		for _, a := range x.addrs {
			a.Weight = strconv.Itoa(x.weight * l / len(x.addrs))
			out = append(out, a)
		}
	}
	// The refs that failed keep their share, in the same units, for the
	// route's 500s.
	return out, scheme, len(rs), failed * l, true, refReason, refMsg
}

func lcm(a, b int) int {
	g, h := a, b
	for h != 0 {
		g, h = h, g%h
	}
	if v := a / g * b; v <= 10_000 {
		return v
	}
	return a // too many endpoints to be exact; shares stay close
}
