// Package kubernetes is an Ingress controller: it discovers routes from a
// Kubernetes cluster's networking.k8s.io/v1 Ingresses, as the Rancher
// provider does from Cattle, and publishes them as one [route.Snapshot].
//
// # Overview
//
// [Provider.Run] starts informers (client-go's tools/cache over the edge's
// own narrow client, internal/kubeclient) over Ingresses (filtered by
// Config.LabelSelector), IngressClasses, Services, EndpointSlices and
// Secrets — only type kubernetes.io/tls, as a field selector, so the edge
// never caches every Secret of the cluster. Each change pokes a debounced
// rebuild (Config.Debounce); build is pure: it reads the caches' objects
// and returns routes, certificates and problems, and the snapshot is
// published only when it says something the last one did not (compared
// route by route, see stamper). A rebuild builds again only the Ingresses
// that changed, or whose Services, EndpointSlices, Secrets or neighbours
// (the claims, canaries and hosts of the Ingresses built before them) did,
// and replays the others' last build (see ingressMemo); a change to the
// IngressClasses or to the settings builds them all.
// While the apiserver is unreachable the informers keep their caches and
// retry; nothing is published, so the last routes keep serving, and
// [Provider.Status] says why until a probe succeeds.
//
// # Which Ingresses
//
// An Ingress is served when spec.ingressClassName names Config.IngressClass
// and that IngressClass's spec.controller is [Controller]; else when its
// legacy kubernetes.io/ingress.class annotation names the class; an Ingress
// with neither is served only when our IngressClass is the cluster default
// (ingressclass.kubernetes.io/is-default-class: "true"). Others are never
// touched, status included.
//
// # Rules
//
// Hosts are exact or "*.example.com" (one label). Paths are Exact or Prefix
// (element-wise: /foo matches /foo and /foo/bar, not /foobar);
// ImplementationSpecific is Prefix. The routes get priorities that order
// them as the Ingress spec says: an exact host before a wildcard before
// none, then the longest path, Exact before Prefix at equal length, a
// defaultBackend (of an Ingress without rules) last. Two Ingresses claiming
// the same host and path: the oldest (creationTimestamp) wins and both get
// a problem.
//
// Backends are Service ports by number or name, resolved through the
// EndpointSlices' ports, so named target ports work; only ready endpoints
// (or serving and not terminating) get requests. A missing Service or port
// skips that path with a problem. ExternalName Services need
// Config.AllowExternalName.
//
// Annotations (traefik.ingress.kubernetes.io/*, ingress.kubernetes.io/*)
// become Traefik labels through the one table in discovery/labels
// ([labels.Annotations]) and go through [labels.Build] like labels do.
//
// # TLS
//
// spec.tls Secrets become [route.Certificate] values served by SNI for the
// listed hosts they cover; a missing or broken Secret leaves its hosts to
// the default certificate and is a problem on the Ingress. Hosts listed in
// spec.tls are redirected from HTTP to HTTPS; other hosts are served on
// both ([route.TLS]). Hosts listed without a secretName are the only ones
// ACME may order for an Ingress, and only within Config.ACMEDomainsAllowed.
//
// # Status
//
// With Config.PublishedService or Config.IngressAddress, one replica at a
// time — the holder of a coordination.k8s.io Lease, kept with client-go's
// leader-election protocol by leaderElector — writes
// status.loadBalancer.ingress of the served Ingresses.
// Every replica serves.
//
// # Gateway API
//
// With Config.Gateway the provider also implements Gateway API
// (gateway.networking.k8s.io/v1, standard channel): once the apiserver
// serves the CRDs ([GatewayCRDs]; until then a note and a warning say so,
// and the Ingresses are served), informers over GatewayClasses, Gateways,
// HTTPRoutes, ReferenceGrants and Namespaces poke the same debounced
// rebuild. buildGateway is pure like build: GatewayClasses of
// [GatewayController], their listeners mapped onto the edge's HTTP and
// HTTPS listeners (Config.GatewayHTTPPorts, GatewayHTTPSPorts), HTTPRoutes
// turned into routes through discovery/labels, and the status the spec
// asks for; its snapshot is published as "kubernetes-gateway". The Lease
// holder writes that status (gateway_status.go), only where an object says
// something else, keeping transition times while a condition holds.
// GRPCRoutes, TLSRoutes, TCPRoutes and UDPRoutes are watched (dynamic
// informers, where served) only to answer them: NotAllowedByListeners on
// the edge's Gateways (gateway_others.go). An HTTPRoute claiming the same
// host and path as an Ingress or another provider's route is settled by
// the routing table (edge/clash.go), which tells the provider which
// HTTPRoutes lost for their status (gateway_lost.go).
package kubernetes
