package kubernetes

import (
	"cmp"
	"crypto/sha256"
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/rancher-edge/edge/certs"
	"github.com/rancher-edge/edge/discovery/labels"
	"github.com/rancher-edge/edge/route"
)

// Names the edge answers to in the cluster.
const (
	// Controller is the spec.controller of the edge's IngressClass.
	Controller = "rancher-edge.io/ingress-controller"
	// DefaultClass is the IngressClass name the edge serves by default.
	DefaultClass = "rancher-edge"
	// NginxController is ingress-nginx's spec.controller. The edge serves
	// the Ingresses of such a class when TRAEFIK_KUBERNETES_INGRESSCLASS
	// lists it, as ingress-nginx would.
	NginxController = "k8s.io/ingress-nginx"
	// NginxClass is ingress-nginx's default class name, which the legacy
	// annotation used before IngressClasses existed.
	NginxClass = "nginx"

	annotationClass        = "kubernetes.io/ingress.class"
	annotationDefaultClass = "ingressclass.kubernetes.io/is-default-class"
	labelServiceName       = discoveryv1.LabelServiceName
)

// world is everything build reads: the informers' caches at one moment.
type world struct {
	Ingresses []*networkingv1.Ingress
	Classes   []*networkingv1.IngressClass
	Services  map[string]*corev1.Service // by namespace/name
	// Slices are the EndpointSlices of each Service, by namespace/name.
	Slices  map[string][]*discoveryv1.EndpointSlice
	Secrets map[string]*corev1.Secret // kubernetes.io/tls only, by namespace/name
	// AuthSecrets are the Secrets auth-secret annotations name, read one
	// by one (never listed), by namespace/name.
	AuthSecrets map[string]*corev1.Secret
}

// settings are the parts of Config that shape a snapshot.
type settings struct {
	classes           []string // served; the edge's own first
	allowExternalName bool
	backendInsecure   bool     // HTTPS backends are not verified
	acme              bool     // ACME is on: tls hosts without a Secret are ordered
	acmeAllowed       []string // domain suffixes ACME may order; empty: any
	labels            labels.Options
}

// buildCache is what the provider keeps between rebuilds, for its
// lifetime: TLS Secrets validated once per content, so a rebuild does not
// parse every key again, and what each Ingress built last time (see
// ingressMemo). The zero buildCache holds nothing; build fills it.
type buildCache struct {
	m         map[[32]byte]checked
	ingresses ingressMemo
}

type checked struct {
	names []string
	err   error
}

func (c *buildCache) check(certPEM, keyPEM []byte) ([]string, error) {
	h := sha256.New()
	h.Write(certPEM)
	h.Write([]byte{0})
	h.Write(keyPEM)
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	if r, ok := c.m[sum]; ok {
		return r.names, r.err
	}
	names, _, err := certs.Check(certPEM, keyPEM)
	if c.m == nil {
		c.m = map[[32]byte]checked{}
	}
	c.m[sum] = checked{names, err}
	return names, err
}

// counts are what the status page shows.
type counts struct{ ingresses, services, endpoints int }

// builder collects one build's output.
type builder struct {
	w        *world
	s        settings
	chk      *buildCache
	rec      *ingressBuilt // the Ingress being built records into it; see ingressMemo
	services []route.Service
	problems []route.Problem
	certs    map[string]*route.Certificate    // by Secret namespace/name
	claimed  map[string]*networkingv1.Ingress // host+path key → first claimant
	seenSvc  map[string]bool                  // Services counted
	counts   counts
	canaries map[string]*canary // canary Ingresses by claim key
	// nginxTLS holds the hosts some served Ingress lists in spec.tls:
	// ingress-nginx redirects a host's every path once any of its
	// Ingresses has TLS for it (the certificate is the server's).
	nginxTLS map[string]bool
	// nginxRegex holds the hosts on which some served ingress-nginx
	// Ingress uses regex paths: ingress-nginx then matches every path of
	// the host, from any of its Ingresses, as a regex.
	nginxRegex map[string]bool
	// hosts are the rule hosts of every served Ingress.
	hosts map[string]bool
}

// build turns the caches into routes; pure apart from chk's memos, which
// make it cheaper and change nothing it returns.
func build(w world, s settings, chk *buildCache) (route.Snapshot, counts) {
	ings := slices.Clone(w.Ingresses)
	// Oldest first: it wins conflicts, as the Ingress spec suggests.
	slices.SortFunc(ings, func(a, c *networkingv1.Ingress) int {
		return cmp.Or(a.CreationTimestamp.Time.Compare(c.CreationTimestamp.Time),
			cmp.Compare(a.Namespace, c.Namespace), cmp.Compare(a.Name, c.Name))
	})
	memo := &chk.ingresses
	memo.prepare(&w, s)
	// Sized as the last build was: a rebuild mostly replays it.
	b := &builder{w: &w, s: s, chk: chk, certs: map[string]*route.Certificate{}, canaries: map[string]*canary{},
		claimed: make(map[string]*networkingv1.Ingress, memo.last.claims), services: make([]route.Service, 0, memo.last.services),
		seenSvc: make(map[string]bool, memo.last.seen)}
	b.nginxTLS, b.nginxRegex, b.hosts = map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, ing := range ings {
		if b.ours(ing) {
			for _, r := range ing.Spec.Rules {
				b.hosts[strings.ToLower(strings.TrimSpace(r.Host))] = true
			}
		}
		if ours, nginx := b.classOf(ing); ours && nginx {
			for _, e := range ing.Spec.TLS {
				for _, h := range e.Hosts {
					b.nginxTLS[strings.ToLower(strings.TrimSpace(h))] = true
				}
			}
			if usesRegex(ing) {
				for _, r := range ing.Spec.Rules {
					b.nginxRegex[strings.ToLower(strings.TrimSpace(r.Host))] = true
				}
			}
		}
	}
	// Canaries first: they join the routes of their primaries.
	for _, ing := range ings {
		if b.ours(ing) && isCanary(ing) {
			b.counts.ingresses++
			b.collectCanaries(ing)
		}
	}
	for _, ing := range ings {
		if ours, nginx := b.classOf(ing); ours && !isCanary(ing) {
			b.counts.ingresses++
			b.buildIngress(ing, nginx)
		}
	}
	b.unusedCanaries()
	memo.sweep()
	memo.last.services, memo.last.claims, memo.last.seen = len(b.services), len(b.claimed), len(b.seenSvc)
	b.services = labels.SortByName(b.services)
	var certList []route.Certificate
	for _, c := range b.certs {
		slices.Sort(c.Hosts)
		c.Hosts = slices.Compact(c.Hosts)
		certList = append(certList, *c)
	}
	slices.SortFunc(certList, func(a, c route.Certificate) int { return cmp.Compare(a.Source.String(), c.Source.String()) })
	return route.Snapshot{Provider: "kubernetes", Services: b.services, Problems: b.problems, Certificates: certList}, b.counts
}

// ours reports whether the Ingress belongs to this edge; see [classOf].
func (b *builder) ours(ing *networkingv1.Ingress) bool {
	ok, _ := b.classOf(ing)
	return ok
}

// classOf reports whether the Ingress belongs to this edge, and whether it
// is one of ingress-nginx's, taken over in place (nginx: its defaults
// apply). It is ours when its spec.ingressClassName is a served class whose
// IngressClass names our controller or ingress-nginx's — or, for a served
// class other than the edge's own, no longer exists (ingress-nginx's
// IngressClass goes with its chart, and its Ingresses must keep being
// served); else when its legacy kubernetes.io/ingress.class annotation is
// a served class; else — neither set — when a served IngressClass is the
// cluster's default.
func (b *builder) classOf(ing *networkingv1.Ingress) (ours, nginx bool) {
	if n := ing.Spec.IngressClassName; n != nil {
		i := slices.Index(b.s.classes, *n)
		if i < 0 {
			return false, false
		}
		c := b.class(*n)
		switch {
		case c == nil:
			return i > 0, *n == NginxClass
		case c.Spec.Controller == Controller:
			return true, false
		case c.Spec.Controller == NginxController:
			return true, true
		}
		return false, false
	}
	if v, ok := ing.Annotations[annotationClass]; ok {
		if !slices.Contains(b.s.classes, v) {
			return false, false
		}
		c := b.class(v)
		return true, v == NginxClass || (c != nil && c.Spec.Controller == NginxController)
	}
	for _, name := range b.s.classes {
		if c := b.class(name); c != nil && c.Annotations[annotationDefaultClass] == "true" &&
			(c.Spec.Controller == Controller || c.Spec.Controller == NginxController) {
			return true, c.Spec.Controller == NginxController
		}
	}
	return false, false
}

// class finds the IngressClass of that name; nil when there is none.
func (b *builder) class(name string) *networkingv1.IngressClass {
	for _, c := range b.w.Classes {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func src(ing *networkingv1.Ingress, seg string) route.Source {
	return route.Source{Provider: "kubernetes", Stack: ing.Namespace, Service: ing.Name, Segment: seg}
}

func (b *builder) problem(s route.Source, sev route.Severity, format string, args ...any) {
	b.problems = append(b.problems, route.Problem{Source: s, Severity: sev, Message: fmt.Sprintf(format, args...)})
}

// ingress turns one Ingress into routes; nginx: it is of an ingress-nginx
// class.
func (b *builder) ingress(ing *networkingv1.Ingress, nginx bool) {
	a := labels.ReadAnnotations(ing.Annotations)
	skip := false
	for _, p := range a.Problems {
		sev := route.Warning
		if p.Skip {
			sev, skip = route.Error, true
		}
		b.problem(src(ing, ""), sev, "%s", p.Message)
	}
	if skip {
		return
	}
	ic := &ingressCtx{ing: ing, t: b.tls(ing), lbls: a.Labels, prov: a.Provider, cors: a.CORS, nginx: nginx,
		solver: ing.Labels[labelSolver] == "true"}
	if len(ing.Spec.Rules) == 0 {
		if ing.Spec.DefaultBackend == nil {
			b.problem(src(ing, ""), route.Warning, "no rules and no defaultBackend: nothing to route")
			return
		}
		b.path(ic, "", nil, *ing.Spec.DefaultBackend)
		return
	}
	if ing.Spec.DefaultBackend != nil {
		b.problem(src(ing, ""), route.Warning, "spec.defaultBackend is used only by an Ingress without rules; ignored")
	}
	for _, r := range ing.Spec.Rules {
		host := strings.ToLower(strings.TrimSpace(r.Host))
		if r.HTTP == nil {
			continue
		}
		for i := range r.HTTP.Paths {
			p := &r.HTTP.Paths[i]
			b.path(ic, host, p, p.Backend)
		}
		if ic.nginxBool("from-to-www-redirect", false) {
			b.wwwRedirect(ic, host)
		}
	}
}

// pathKind is the element-wise matching kind of a path.
type pathKind int

const (
	kindCatchAll pathKind = iota // defaultBackend
	kindPrefix                   // Prefix and ImplementationSpecific
	kindExact
)

// pathShape is the matching kind of a path, the path it matches (a
// Prefix without its trailing slashes) and its segment name; p is nil for
// a defaultBackend.
func pathShape(host string, p *networkingv1.HTTPIngressPath) (kind pathKind, matchPath, seg string) {
	kind, pathStr := kindCatchAll, ""
	if p != nil {
		kind, pathStr = kindPrefix, p.Path
		if p.PathType != nil && *p.PathType == networkingv1.PathTypeExact {
			kind = kindExact
		}
		if pathStr == "" {
			pathStr = "/"
		}
	}
	seg = hostOrAny(host) + pathStr
	if kind == kindExact {
		seg += " (exact)"
	}
	matchPath = pathStr
	if kind == kindPrefix {
		matchPath = strings.TrimRight(pathStr, "/")
	}
	return kind, matchPath, seg
}

// claimKey identifies a host and path for conflicts and canaries.
func claimKey(host string, kind pathKind, matchPath string) string {
	return host + "\x00" + strconv.Itoa(int(kind)) + "\x00" + matchPath
}

// path builds the route of one host and path; p is nil for a
// defaultBackend.
func (b *builder) path(ic *ingressCtx, host string, p *networkingv1.HTTPIngressPath, be networkingv1.IngressBackend) {
	ing, prov := ic.ing, ic.prov
	kind, matchPath, seg := pathShape(host, p)
	source := src(ing, seg)
	pathStr := ""
	if p != nil {
		pathStr = cmp.Or(p.Path, "/")
	}
	regex := b.regexPaths(ic, host)
	if pathStr != "" && (!strings.HasPrefix(pathStr, "/") || (!regex && strings.ContainsAny(pathStr, ",;{} \t"))) {
		b.problem(source, route.Error, "skipped: path %q must start with / and contain none of , ; { } or spaces", pathStr)
		return
	}
	if host != "" && !validHost(host) {
		b.problem(source, route.Error, "skipped: host %q is not a DNS name or a *.wildcard", host)
		return
	}
	key := claimKey(host, kind, matchPath)
	if first, ok := b.claimant(key); ok {
		who := first.Namespace + "/" + first.Name
		if first == ing {
			b.problem(source, route.Error, "skipped: the same host and path appear twice in this Ingress")
			return
		}
		b.problem(source, route.Error, "skipped: host and path are also claimed by Ingress %s, which is older and wins", who)
		b.problem(src(first, seg), route.Warning, "host and path are also claimed by Ingress %s/%s, which is newer and not served", ing.Namespace, ing.Name)
		return
	}
	b.claim(key, ing)

	servers, scheme, ok := b.backend(ing, source, be)
	if !ok {
		return
	}
	servers = b.serviceUpstream(ic, source, be, servers, scheme)
	if len(servers) == 0 {
		servers, scheme = b.defaultBackend(ic, source, servers, scheme)
	}
	if scheme, ok = b.backendProtocol(source, ic, servers, scheme); !ok {
		return
	}
	ls := make(map[string]string, len(ic.lbls)+4)
	for k, v := range ic.lbls {
		ls[k] = v
	}
	rp := matchPath
	if regex {
		rp = pathStr // a regex keeps its trailing slash
	}
	r, ok := b.rule(source, host, kind, rp, ic)
	if !ok {
		return
	}
	c := b.canaryAt(key)
	var canServers []labels.Address
	if c != nil {
		b.joinCanary(key, c)
		if cs, cscheme, ok := b.backend(c.ing, src(c.ing, c.seg), c.be); ok {
			for i := range cs {
				if rest, ok := strings.CutPrefix(cs[i].Addr, cscheme+"://"); ok {
					cs[i].Addr = scheme + "://" + rest
				}
			}
			canServers = cs
			b.canaryWeights(c, servers, canServers)
			servers = append(servers, canServers...)
		}
	}
	ls["traefik.frontend.rule"] = r
	ls["traefik.port"] = "80" // every server carries its own port
	ls["traefik.protocol"] = scheme
	if raw, set := ls["traefik.frontend.priority"]; set {
		if _, err := strconv.Atoi(strings.TrimSpace(raw)); err != nil {
			b.problem(source, route.Warning, "annotation %spriority %q is not a number; using the Ingress precedence", labels.AnnotationPrefix, raw)
			set = false
		}
		if !set {
			delete(ls, "traefik.frontend.priority")
		}
	}
	if _, set := ls["traefik.frontend.priority"]; !set {
		ls["traefik.frontend.priority"] = strconv.Itoa(priority(host, kind, matchPath))
	}
	if ic.solver {
		ls["traefik.frontend.priority"] = strconv.Itoa(solverPriority)
	}
	root := cmp.Or(prov[labels.AnnotationPrefix+"app-root"], ic.nginxValue("app-root"))
	if root != "" && kind != kindExact && matchPath == "" {
		ls["traefik.frontend.redirect.regex"] = `^(https?://[^/]+)/$`
		ls["traefik.frontend.redirect.replacement"] = "$1" + root
	}
	code := b.nginxRedirect(source, ic, ls)
	if !b.authURL(source, host, ls) {
		return
	}
	if !b.auth(ing, source, prov, ls) {
		return
	}
	name := ing.Namespace + "/" + ing.Name + "/" + seg
	svcs, probs := labels.Build(labels.Input{Stack: ing.Namespace, Service: ing.Name, DefaultHost: name, Labels: ls, Servers: servers, Created: ing.CreationTimestamp.Time}, b.s.labels)
	for _, pr := range probs {
		pr.Source = source
		pr.Message = annotationNames(pr.Message)
		b.problems = append(b.problems, pr)
	}
	for _, svc := range svcs {
		svc.Name = name
		svc.Source = source
		svc.TLS = b.tlsPolicy(ic, host)
		b.nginxFields(source, ic, &svc, code)
		b.services = append(b.services, svc)
		if c != nil {
			var primary, can []route.Server
			for _, s := range svc.Servers {
				if slices.ContainsFunc(canServers, func(a labels.Address) bool { return a.Addr == s.URL }) {
					can = append(can, route.Server{URL: s.URL, Weight: 1, Name: s.Name})
				} else {
					primary = append(primary, route.Server{URL: s.URL, Weight: 1, Name: s.Name})
				}
			}
			b.services = append(b.services, b.canaryRoutes(c, svc, primary, can)...)
		}
	}
}

func hostOrAny(h string) string {
	if h == "" {
		return "*"
	}
	return h
}

// validHost accepts a lower-case DNS name, optionally "*." and a name.
func validHost(h string) bool {
	h = strings.TrimPrefix(h, "*.")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, l := range strings.Split(h, ".") {
		if l == "" || len(l) > 63 {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// priority orders the Ingress routes as the spec says: an exact host
// before a wildcard before none, then the longest path, Exact before
// Prefix at equal length. The defaultBackend comes last.
func priority(host string, kind pathKind, path string) int {
	hostRank := 0
	switch {
	case host == "":
	case strings.HasPrefix(host, "*."):
		hostRank = 1
	default:
		hostRank = 2
	}
	if kind == kindCatchAll {
		return 1
	}
	p := 10 + hostRank*1_000_000 + min(len(path), 100_000)*4
	if kind == kindExact {
		p += 2
	}
	return p
}

// rule writes the Traefik rule of a host and path. A rule-type annotation
// chooses the path matcher as in Traefik 1.7; rewrite-target replaces the
// matched prefix.
func (b *builder) rule(source route.Source, host string, kind pathKind, path string, ic *ingressCtx) (string, bool) {
	prov := ic.prov
	var parts []string
	switch {
	case host == "":
	case strings.HasPrefix(host, "*."):
		parts = append(parts, "HostRegexp:{subdomain:[^.]+}."+strings.TrimPrefix(host, "*."))
	default:
		parts = append(parts, "Host:"+strings.Join(append([]string{host}, b.serverAliases(source, ic)...), ","))
	}
	ruleType := prov[labels.AnnotationPrefix+"rule-type"]
	switch {
	case kind != kindCatchAll && b.regexPaths(ic, host):
		ps, ok := b.regexRule(source, kind, path, ic)
		if !ok {
			return "", false
		}
		return strings.Join(append(parts, ps...), ";"), true
	case kind == kindCatchAll:
		parts = append(parts, "PathPrefix:/")
	case ruleType != "":
		switch ruleType {
		case "Path", "PathPrefix", "PathStrip", "PathPrefixStrip":
		default:
			b.problem(source, route.Error, "skipped: annotation %srule-type %q is not Path, PathPrefix, PathStrip or PathPrefixStrip", labels.AnnotationPrefix, ruleType)
			return "", false
		}
		p := path
		if p == "" {
			p = "/"
		}
		parts = append(parts, ruleType+":"+p)
	case kind == kindExact:
		parts = append(parts, "Path:"+path)
	case path == "":
		parts = append(parts, "PathPrefix:/")
	default:
		// Element-wise: /foo matches /foo and /foo/…, never /foobar.
		parts = append(parts, "Path:"+path+","+path+"/{rest:.*}")
	}
	if target := prov[labels.AnnotationPrefix+"rewrite-target"]; target != "" && kind != kindCatchAll {
		if strings.ContainsAny(target, " ;") {
			b.problem(source, route.Error, "skipped: annotation %srewrite-target %q must not contain spaces or ;", labels.AnnotationPrefix, target)
			return "", false
		}
		if path == "" {
			parts = append(parts, "ReplacePathRegex:^/(.*) "+strings.TrimSuffix(target, "/")+"/$1")
		} else {
			parts = append(parts, "ReplacePathRegex:^"+regexpQuote(path)+"(.*) "+strings.TrimSuffix(target, "/")+"$1")
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "PathPrefix:/")
	}
	return strings.Join(parts, ";"), true
}

func regexpQuote(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`\.+*?()|[]{}^$`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// annotationNames rewrites the Traefik label names in a message into the
// annotations that set them.
func annotationNames(msg string) string {
	for _, a := range labels.Annotations {
		if a.Label != "" && strings.Contains(msg, a.Label) {
			msg = strings.ReplaceAll(msg, a.Label, "annotation "+a.Name)
		}
	}
	return msg
}
