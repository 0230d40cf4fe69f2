package kubernetes

import (
	"maps"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/rancher-edge/edge/discovery/labels"
	"github.com/rancher-edge/edge/route"
	"github.com/rancher-edge/edge/route/rule"
)

// The parts of ingress-nginx's annotations that shape what only the
// provider knows: the rule (regex paths, rewrites), the TLS policy, the
// backend's protocol and the route fields no Traefik label has. The
// annotations that are plain labels go through discovery/labels.

const (
	// labelSolver marks cert-manager's HTTP-01 solver Ingresses.
	labelSolver = "acme.cert-manager.io/http01-solver"
	// solverPriority puts a solver's path before every other route of
	// its host: the challenge must be answered whatever else the host's
	// Ingresses route or redirect.
	solverPriority = 1 << 30
)

// ingressCtx is what every path of one Ingress shares.
type ingressCtx struct {
	ing    *networkingv1.Ingress
	t      ingressTLS
	lbls   map[string]string
	prov   map[string]string
	cors   *route.CORS
	nginx  bool // of an ingress-nginx class: its defaults apply
	solver bool // cert-manager's HTTP-01 solver
}

// nginxValue reads an ingress-nginx annotation the provider applies.
func (ic *ingressCtx) nginxValue(name string) string {
	return ic.prov[labels.NginxPrefix+name]
}

// nginxBool reads a "true"/"false" annotation; def when absent or not a
// boolean.
func (ic *ingressCtx) nginxBool(name string, def bool) bool {
	if v, err := strconv.ParseBool(ic.nginxValue(name)); err == nil {
		return v
	}
	return def
}

// nginxAlive reports an Ingress whose IngressClass still names
// ingress-nginx's controller: ingress-nginx may be running and writing its
// status, and two writers would overwrite each other, so the edge leaves
// it alone until that IngressClass is gone or handed to the edge.
func (b *builder) nginxAlive(ing *networkingv1.Ingress) bool {
	name := ""
	if n := ing.Spec.IngressClassName; n != nil {
		name = *n
	} else if v, ok := ing.Annotations[annotationClass]; ok {
		name = v
	}
	if name == "" {
		for _, c := range b.w.Classes {
			if c.Spec.Controller == NginxController && c.Annotations[annotationDefaultClass] == "true" {
				return true
			}
		}
		return false
	}
	c := b.class(name)
	return c != nil && c.Spec.Controller == NginxController
}

// regexPaths reports whether the Ingress's paths on host are regular
// expressions: use-regex, or rewrite-target, which forces it since
// ingress-nginx 0.22 — on its own Ingress, and for ingress-nginx's on
// every Ingress of the same host, as ingress-nginx enforces the regex
// location modifier per server.
func (b *builder) regexPaths(ic *ingressCtx, host string) bool {
	return ic.nginxBool("use-regex", false) || ic.nginxValue("rewrite-target") != "" || (ic.nginx && b.regexHost(host))
}

// usesRegex reports an Ingress with regex paths of its own.
func usesRegex(ing *networkingv1.Ingress) bool {
	v, _ := strconv.ParseBool(strings.TrimSpace(ing.Annotations[labels.NginxPrefix+"use-regex"]))
	return v || strings.TrimSpace(ing.Annotations[labels.NginxPrefix+"rewrite-target"]) != ""
}

// tlsPolicy is the route's HTTPS policy: a host listed in spec.tls is
// redirected from plain HTTP unless ssl-redirect is false — for
// ingress-nginx's Ingresses, a host any of its Ingresses lists (nginxTLS),
// as ingress-nginx redirects per server; force-ssl-redirect redirects any
// host. ingress-nginx answers 308, and so do its Ingresses here. A
// cert-manager solver is always served on HTTP.
func (b *builder) tlsPolicy(ic *ingressCtx, host string) *route.TLS {
	covered := ic.t.covers(host) || (ic.nginx && b.tlsHost(host))
	redirect := covered && ic.nginxBool("ssl-redirect", true)
	redirect = redirect || ic.nginxBool("force-ssl-redirect", false)
	p := &route.TLS{PlainHTTP: !redirect || ic.solver, ACMEHosts: ic.t.acmeHosts}
	if ic.nginx {
		p.RedirectCode = http.StatusPermanentRedirect
	}
	return p
}

// regexRule writes the path part of a regex path: RE2, case-insensitive,
// anchored at the start as ingress-nginx's `location ~*` is, and the
// rewrite of rewrite-target with its $n groups. ok is false when the path
// was skipped with a problem.
func (b *builder) regexRule(source route.Source, kind pathKind, path string, ic *ingressCtx) (parts []string, ok bool) {
	re := path
	if kind == kindExact {
		re += "$"
	}
	if _, err := regexp.Compile("(?i)^" + re); err != nil {
		b.problem(source, route.Error, "skipped: path %q is not a regular expression RE2 can express (ingress-nginx's are PCRE): %v", path, err)
		return nil, false
	}
	if strings.ContainsAny(re, " ;") {
		b.problem(source, route.Error, "skipped: regex path %q must not contain spaces or ;", path)
		return nil, false
	}
	parts = append(parts, "PathPrefix:{path:(?i)"+re+"}")
	if target := ic.nginxValue("rewrite-target"); target != "" {
		if strings.ContainsAny(target, " ;") {
			b.problem(source, route.Error, "skipped: annotation %srewrite-target %q must not contain spaces or ;", labels.NginxPrefix, target)
			return nil, false
		}
		// nginx's rewrite replaces the whole URI with the target, $1…
		// standing for the path's groups.
		parts = append(parts, "ReplacePathRegex:(?i)^(?:"+re+").* "+dollarGroups.ReplaceAllString(target, "$${$1}"))
	}
	return parts, true
}

var dollarGroups = regexp.MustCompile(`\$([0-9])`)

// nginxVariables are the nginx variables a redirect target may use.
var nginxVariables = regexp.MustCompile(`\$\{?[a-z_]+\}?`)

// nginxRedirect sets the labels of temporal-redirect or
// permanent-redirect (temporal wins, as in ingress-nginx) and returns the
// status code; 0 when neither is set.
func (b *builder) nginxRedirect(source route.Source, ic *ingressCtx, ls map[string]string) int {
	name, target, code := "temporal-redirect", ic.nginxValue("temporal-redirect"), http.StatusFound
	if target == "" {
		name, target, code = "permanent-redirect", ic.nginxValue("permanent-redirect"), http.StatusMovedPermanently
	}
	if target == "" {
		return 0
	}
	if raw := ic.nginxValue(name + "-code"); raw != "" {
		n, err := strconv.Atoi(raw)
		switch {
		case err == nil && (n == 301 || n == 302 || n == 303 || n == 307 || n == 308):
			code = n
		default:
			b.problem(source, route.Warning, "annotation %s%s-code %q is not 301, 302, 303, 307 or 308; using %d", labels.NginxPrefix, name, raw, code)
		}
	}
	for _, v := range nginxVariables.FindAllString(target, -1) {
		switch strings.Trim(v, "${}") {
		case "request_uri", "host", "scheme":
		default:
			b.problem(source, route.Warning, "annotation %s%s: nginx variable %s is not known to the edge and is left empty", labels.NginxPrefix, name, v)
		}
	}
	repl := strings.NewReplacer("${request_uri}", "${3}", "$request_uri", "${3}", "${host}", "${2}", "$host", "${2}", "${scheme}", "${1}", "$scheme", "${1}").Replace(target)
	ls["traefik.frontend.redirect.regex"] = `^(https?)://([^/]+)(.*)$`
	ls["traefik.frontend.redirect.replacement"] = repl
	return code
}

// authURL resolves the nginx variables of auth-url for one host, as
// nginx would per request: $host and $http_host are the rule's host, which
// only an exact host makes safe — under a wildcard or without a host the
// client would choose where the edge sends its question, so the path is
// skipped (fails closed). $scheme is https. ok is false when skipped.
func (b *builder) authURL(source route.Source, host string, ls map[string]string) bool {
	const key = "traefik.frontend.auth.forward.address"
	addr, set := ls[key]
	if !set || !strings.Contains(addr, "$") {
		return true
	}
	if host == "" || strings.HasPrefix(host, "*.") {
		b.problem(source, route.Error, "skipped: annotation %sauth-url uses nginx variables, which need an exact host (here the client would choose the authentication server); the path is not served without the protection it asks for", labels.NginxPrefix)
		return false
	}
	addr = strings.NewReplacer("$http_host", host, "${host}", host, "$host", host, "$scheme", "https", "${scheme}", "https").Replace(addr)
	if strings.Contains(addr, "$") {
		b.problem(source, route.Error, "skipped: annotation %sauth-url: only $host, $http_host and $scheme are known to the edge; the path is not served without the protection it asks for", labels.NginxPrefix)
		return false
	}
	ls[key] = addr
	return true
}

// backendProtocol applies backend-protocol to the servers' scheme; ok is
// false when the path was skipped with a problem.
func (b *builder) backendProtocol(source route.Source, ic *ingressCtx, servers []labels.Address, scheme string) (string, bool) {
	v := strings.ToUpper(ic.nginxValue("backend-protocol"))
	want := ""
	switch v {
	case "":
		return scheme, true
	case "HTTP", "HTTPS":
		want = strings.ToLower(v)
	case "GRPC":
		// gRPC servers speak HTTP/2 only: cleartext with prior
		// knowledge, or over TLS.
		want = "h2c"
	case "GRPCS":
		want = "h2"
	default:
		b.problem(source, route.Error, "skipped: annotation %sbackend-protocol %q is not supported: the edge speaks HTTP (HTTP, HTTPS) and gRPC (GRPC, GRPCS) to backends", labels.NginxPrefix, v)
		return "", false
	}
	if (want == "https" || want == "h2") && !b.s.backendInsecure {
		b.problem(source, route.Warning, "annotation %sbackend-protocol %s: the edge verifies the backend's certificate (ingress-nginx does not, unless proxy-ssl-verify), so a self-signed backend answers 502; set TRAEFIK_BACKEND_INSECURE=true or give the backend a certificate the edge trusts", labels.NginxPrefix, v)
	}
	for i := range servers {
		if rest, ok := strings.CutPrefix(servers[i].Addr, scheme+"://"); ok {
			servers[i].Addr = want + "://" + rest
		}
	}
	return want, true
}

// serviceUpstream is ingress-nginx's service-upstream: the Service's
// cluster IP and port as the one server instead of its endpoints (kube-proxy
// balances; the edge's stickiness and retries then see one server). A
// headless Service keeps its endpoints, with a warning.
func (b *builder) serviceUpstream(ic *ingressCtx, source route.Source, be networkingv1.IngressBackend, servers []labels.Address, scheme string) []labels.Address {
	if !ic.nginxBool("service-upstream", false) || be.Service == nil {
		return servers
	}
	svc := b.service(ic.ing.Namespace + "/" + be.Service.Name)
	if svc == nil || svc.Spec.Type == corev1.ServiceTypeExternalName {
		return servers
	}
	ip := svc.Spec.ClusterIP
	if ip == "" || ip == corev1.ClusterIPNone {
		b.problem(source, route.Warning, "annotation %sservice-upstream: Service %s is headless; its endpoints are used", labels.NginxPrefix, be.Service.Name)
		return servers
	}
	for _, sp := range svc.Spec.Ports {
		if (be.Service.Port.Name != "" && sp.Name == be.Service.Port.Name) || (be.Service.Port.Name == "" && sp.Port == be.Service.Port.Number) {
			return []labels.Address{{Addr: scheme + "://" + net.JoinHostPort(ip, strconv.Itoa(int(sp.Port))), Name: svc.Name}}
		}
	}
	return servers
}

// defaultBackend is ingress-nginx's default-backend: a Service of the
// Ingress's namespace (its first port) whose endpoints answer while the
// path's Service has none ready. servers and scheme are kept when it is
// not set or has no endpoint either.
func (b *builder) defaultBackend(ic *ingressCtx, source route.Source, servers []labels.Address, scheme string) ([]labels.Address, string) {
	name := ic.nginxValue("default-backend")
	if name == "" {
		return servers, scheme
	}
	svc := b.service(ic.ing.Namespace + "/" + name)
	if svc == nil || len(svc.Spec.Ports) == 0 {
		b.problem(source, route.Warning, "annotation %sdefault-backend: Service %s/%s not found or without ports", labels.NginxPrefix, ic.ing.Namespace, name)
		return servers, scheme
	}
	be := networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name,
		Port: networkingv1.ServiceBackendPort{Number: svc.Spec.Ports[0].Port}}}
	ds, dscheme, ok := b.backend(ic.ing, source, be)
	if !ok || len(ds) == 0 {
		return servers, scheme
	}
	b.problem(source, route.Warning, "annotation %sdefault-backend: Service %s answers while the path's Service has no ready endpoint", labels.NginxPrefix, name)
	return ds, dscheme
}

// nginxFields sets the route fields no Traefik label has.
func (b *builder) nginxFields(source route.Source, ic *ingressCtx, svc *route.Service, code int) {
	if svc.Redirect != nil && code != 0 {
		svc.Redirect.Code = code
	}
	svc.CORS = ic.cors
	if v := ic.nginxValue("proxy-connect-timeout"); v != "" {
		if n, err := strconv.Atoi(strings.TrimSuffix(v, "s")); err == nil && n > 0 {
			svc.DialTimeout = time.Duration(n) * time.Second
		} else {
			b.problem(source, route.Warning, "annotation %sproxy-connect-timeout %q is not a positive number of seconds; ignored", labels.NginxPrefix, v)
		}
	}
	if v := ic.nginxValue("upstream-vhost"); v != "" {
		if strings.ContainsAny(v, " \t\r\n/") {
			b.problem(source, route.Warning, "annotation %supstream-vhost %q is not a host name; ignored", labels.NginxPrefix, v)
		} else {
			svc.UpstreamHost = v
		}
	}
	if v := ic.nginxValue("auth-realm"); v != "" && svc.Auth != nil {
		if strings.ContainsAny(v, "\"\\\r\n") {
			b.problem(source, route.Warning, "annotation %sauth-realm must not hold quotes, backslashes or line breaks; the realm is traefik", labels.NginxPrefix)
		} else {
			svc.Auth.Realm = v
		}
	}
	if svc.LoadBalancer.Sticky {
		if v := ic.nginxValue("session-cookie-path"); v != "" {
			if strings.HasPrefix(v, "/") && !strings.ContainsAny(v, "; \t\r\n") {
				svc.LoadBalancer.CookiePath = v
			} else {
				b.problem(source, route.Warning, "annotation %ssession-cookie-path %q is not a path; using /", labels.NginxPrefix, v)
			}
		}
		for _, k := range []string{"session-cookie-expires", "session-cookie-max-age"} { // max-age wins
			if v := ic.nginxValue(k); v != "" {
				if n, err := strconv.Atoi(v); err == nil && n > 0 {
					svc.LoadBalancer.CookieMaxAge = n
				} else {
					b.problem(source, route.Warning, "annotation %s%s %q is not a positive number of seconds; ignored", labels.NginxPrefix, k, v)
				}
			}
		}
	}
	if v := ic.nginxValue("auth-signin"); v != "" && svc.ForwardAuth != nil {
		svc.ForwardAuth.SignIn = v
	}
	if m := ic.nginxValue("auth-method"); m != "" && !strings.EqualFold(m, http.MethodGet) && svc.ForwardAuth != nil {
		b.problem(source, route.Warning, "annotation %sauth-method %q: the edge asks the authentication server with GET", labels.NginxPrefix, m)
	}
}

// wwwRedirect is from-to-www-redirect: requests for www.<host> go to
// <host>, or the other way round, with 308 and the same scheme, path and
// query — unless another served Ingress has that name, which then wins as
// in ingress-nginx.
func (b *builder) wwwRedirect(ic *ingressCtx, host string) {
	if host == "" || strings.HasPrefix(host, "*.") {
		return
	}
	other := "www." + host
	if h, ok := strings.CutPrefix(host, "www."); ok {
		other = h
	}
	source := src(ic.ing, other+" (from-to-www-redirect)")
	if b.hostServed(other) {
		b.problem(source, route.Warning, "annotation %sfrom-to-www-redirect: %s has its own Ingress, which is served instead of the redirect", labels.NginxPrefix, other)
		return
	}
	b.takeHost(other) // one redirect per name
	ls := map[string]string{
		"traefik.frontend.rule":                 "Host:" + other + ";PathPrefix:/",
		"traefik.port":                          "80",
		"traefik.frontend.redirect.regex":       `^(https?)://[^/]+(.*)$`,
		"traefik.frontend.redirect.replacement": "${1}://" + host + "${2}",
	}
	name := ic.ing.Namespace + "/" + ic.ing.Name + "/" + other + " (from-to-www-redirect)"
	svcs, probs := labels.Build(labels.Input{Stack: ic.ing.Namespace, Service: ic.ing.Name, DefaultHost: name, Labels: ls, Created: ic.ing.CreationTimestamp.Time}, b.s.labels)
	for _, pr := range probs {
		pr.Source = source
		b.problems = append(b.problems, pr)
	}
	for _, svc := range svcs {
		svc.Name, svc.Source = name, source
		svc.Redirect.Code = http.StatusPermanentRedirect
		// The redirect keeps the scheme: plain HTTP is answered too.
		svc.TLS = &route.TLS{PlainHTTP: true}
		b.services = append(b.services, svc)
	}
}

// serverAliases are server-alias's names: more hosts the Ingress's rules
// answer for. A name another served Ingress has is left to it, as
// ingress-nginx ignores an alias that is a server's name.
func (b *builder) serverAliases(source route.Source, ic *ingressCtx) []string {
	var out []string
	for _, a := range strings.Split(ic.nginxValue("server-alias"), ",") {
		a = strings.ToLower(strings.TrimSpace(a))
		switch {
		case a == "":
		case strings.HasPrefix(a, "*.") || !validHost(a):
			b.problem(source, route.Warning, "annotation %sserver-alias: %q is not a host name (wildcards are not taken); left out", labels.NginxPrefix, a)
		case b.hostServed(a):
			b.problem(source, route.Warning, "annotation %sserver-alias: %s has its own Ingress, which is served for it", labels.NginxPrefix, a)
		default:
			out = append(out, a)
		}
	}
	return out
}

// canary is a canary Ingress waiting for the primary route of its host
// and path.
type canary struct {
	ing  *networkingv1.Ingress
	be   networkingv1.IngressBackend
	seg  string
	used bool
}

// isCanary reports a canary Ingress.
func isCanary(ing *networkingv1.Ingress) bool {
	return strings.TrimSpace(ing.Annotations[labels.NginxPrefix+"canary"]) == "true"
}

// collectCanaries indexes the paths of the canary Ingresses by host and
// path, as path keys them. The canary's other annotations are its
// primary's business, as in ingress-nginx: each is named in a warning.
func (b *builder) collectCanaries(ing *networkingv1.Ingress) {
	var ignored []string
	for name := range ing.Annotations {
		if k, ok := strings.CutPrefix(name, labels.NginxPrefix); ok && !strings.HasPrefix(k, "canary") {
			ignored = append(ignored, name)
		}
	}
	if len(ignored) > 0 {
		slices.Sort(ignored)
		b.problem(src(ing, ""), route.Warning, "canary: %s ignored — a canary takes them from its primary Ingress, as in ingress-nginx", strings.Join(ignored, ", "))
	}
	add := func(host string, p *networkingv1.HTTPIngressPath, be networkingv1.IngressBackend) {
		kind, matchPath, seg := pathShape(host, p)
		key := claimKey(host, kind, matchPath)
		if prev, ok := b.canaries[key]; ok {
			b.problem(src(ing, seg), route.Error, "skipped: Ingress %s/%s is already the canary of this host and path (one canary per path, as in ingress-nginx)", prev.ing.Namespace, prev.ing.Name)
			return
		}
		b.canaries[key] = &canary{ing: ing, be: be, seg: seg}
	}
	if len(ing.Spec.Rules) == 0 && ing.Spec.DefaultBackend != nil {
		add("", nil, *ing.Spec.DefaultBackend)
	}
	for _, r := range ing.Spec.Rules {
		if r.HTTP == nil {
			continue
		}
		host := strings.ToLower(strings.TrimSpace(r.Host))
		for i := range r.HTTP.Paths {
			add(host, &r.HTTP.Paths[i], r.HTTP.Paths[i].Backend)
		}
	}
}

// unusedCanaries reports canaries without a primary route, in the order
// of their hosts and paths: a snapshot's problems are compared with the
// last one's to tell whether anything changed.
func (b *builder) unusedCanaries() {
	for _, key := range slices.Sorted(maps.Keys(b.canaries)) {
		if c := b.canaries[key]; !c.used {
			b.problem(src(c.ing, c.seg), route.Warning, "canary without a primary: no served Ingress has this host and path, so the canary gets no traffic")
		}
	}
}

// canaryWeights spreads canary-weight over the primary's and the canary's
// servers: the canary gets weight/total of the requests.
func (b *builder) canaryWeights(c *canary, primary, can []labels.Address) {
	get := func(k string) string { return strings.TrimSpace(c.ing.Annotations[labels.NginxPrefix+k]) }
	total, w := 100, 0
	if v := get("canary-weight-total"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			total = n
		} else {
			b.problem(src(c.ing, c.seg), route.Warning, "annotation %scanary-weight-total %q is not a positive number; using 100", labels.NginxPrefix, v)
		}
	}
	if v := get("canary-weight"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 && n <= total {
			w = n
		} else {
			b.problem(src(c.ing, c.seg), route.Warning, "annotation %scanary-weight %q is not a number from 0 to %d; using 0", labels.NginxPrefix, v, total)
		}
	}
	np, nc := len(primary), len(can)
	pw, cw := (total-w)*max(nc, 1), w*max(np, 1)
	for i := range primary {
		primary[i].Weight = strconv.Itoa(pw)
	}
	for i := range can {
		can[i].Weight = strconv.Itoa(cw)
	}
}

// canaryRoutes are the header- and cookie-matched routes a canary adds in
// front of its primary svc: always (or the header's value) goes to the
// canary, never to the primary.
func (b *builder) canaryRoutes(c *canary, primary route.Service, primaryServers, can []route.Server) []route.Service {
	get := func(k string) string { return strings.TrimSpace(c.ing.Annotations[labels.NginxPrefix+k]) }
	type match struct {
		expr    string
		servers []route.Server
		what    string
	}
	var ms []match
	if h := get("canary-by-header"); h != "" {
		switch {
		case get("canary-by-header-value") != "":
			ms = append(ms, match{"Headers:" + h + "," + get("canary-by-header-value"), can, "header " + h})
		case get("canary-by-header-pattern") != "":
			ms = append(ms, match{"HeadersRegexp:" + h + "," + get("canary-by-header-pattern"), can, "header " + h})
		default:
			ms = append(ms, match{"Headers:" + h + ",always", can, "header " + h},
				match{"Headers:" + h + ",never", primaryServers, "header " + h + " never"})
		}
	}
	if ck := get("canary-by-cookie"); ck != "" {
		cookie := func(v string) string {
			return `HeadersRegexp:Cookie,(?:^|\x3b\s*)` + regexp.QuoteMeta(ck) + "=" + v + `(?:\x3b|$)`
		}
		ms = append(ms, match{cookie("always"), can, "cookie " + ck}, match{cookie("never"), primaryServers, "cookie " + ck + " never"})
	}
	var out []route.Service
	for i, m := range ms {
		expr := primary.Rule + ";" + m.expr
		source := src(c.ing, c.seg)
		if _, err := rule.Parse(expr); err != nil {
			b.problem(source, route.Error, "skipped: canary by %s: %v", m.what, err)
			continue
		}
		svc := primary
		svc.Rule = expr
		svc.Priority = primary.Priority + len(ms) - i
		svc.Name = primary.Name + " (canary by " + m.what + ")"
		svc.Source = source
		svc.Servers = m.servers
		out = append(out, svc)
	}
	return out
}
