package labels

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rancher-edge/edge/route"
	"github.com/rancher-edge/edge/route/rule"
)

// Address is one backend of a service as the provider found it.
type Address struct {
	// Addr is "10.0.0.5" (takes traefik.port and traefik.protocol),
	// "10.0.0.6:9090" (explicit port) or "https://10.0.0.7:8443" (explicit
	// scheme and port). IPv6 addresses may be bare or in brackets. An empty
	// Addr is dropped, as Traefik ≥ 1.6 drops containers without an IP.
	Addr string

	// Name identifies the server for people: the container name in
	// Rancher. Empty means Addr.
	Name string

	// Port is the server's own port, for providers whose instances each
	// register one (Consul's Service.Port), used with [Options.ServerPorts]
	// when the segment has no traefik.port label; the label overrides it.
	// An Addr with an explicit port keeps that port.
	Port int

	// Weight is this server's own traefik.weight, for providers whose
	// instances each carry one (a Consul instance's tag); empty means the
	// segment's weight. A bad value falls back to it with a warning.
	Weight string
}

// Input is one service as a provider sees it.
type Input struct {
	// Stack is the Rancher stack; empty for the file provider.
	Stack string

	// Service is the service name as the user wrote it.
	Service string

	// DefaultHost is the name before the domain in the default rule, e.g.
	// "web.shop": the caller decides the service/stack order. It is
	// lower-cased for the rule and the route name; empty means Service.
	DefaultHost string

	// Labels are the primary launch config labels.
	Labels map[string]string

	// Servers are the healthy, running backends, already filtered.
	Servers []Address

	// Created is when the service was created, if its source tells
	// (route.Service.Created); every route built from it carries it.
	Created time.Time
}

// Build turns one service's labels into routes: one [route.Service] per label
// segment, unnamed first, then named segments by name. Problems with
// severity [route.Error] mean that service or segment was skipped;
// [route.Warning] means it is served but something was ignored. Build assumes
// opts passed [Options.Validate]; an invalid constraint skips every service
// with an error rather than letting it through.
func Build(in Input, opts Options) ([]route.Service, []route.Problem) {
	// A service without any traefik.* label was never meant for the edge
	// (a database next to a web service); Traefik dropped it at debug level
	// and so do we, or every Rancher environment would be full of errors.
	if opts.SidekickLabels {
		in.Labels = sidekickLabels(in)
	}
	if !hasTraefikLabels(in.Labels) {
		return nil, nil
	}
	b := &builder{src: route.Source{Provider: opts.Provider, Stack: in.Stack, Service: in.Service}}

	if !b.enabled(in.Labels, opts.ExposedByDefault) {
		return nil, b.problems
	}
	if !b.constraintsHold(in.Labels, opts.Constraints) {
		return nil, b.problems
	}
	b.unsupported(in.Labels)

	segs := extractSegments(in.Labels)
	ports := make([]int, len(segs))
	portsOK := true
	for i, seg := range segs {
		port, ok := b.port(seg, opts.ServerPorts)
		ports[i], portsOK = port, portsOK && ok
	}
	// Traefik's serviceFilter drops the whole service when any segment
	// lacks a usable port.
	if !portsOK {
		return nil, b.problems
	}

	host := in.DefaultHost
	if host == "" {
		host = in.Service
	}
	out := make([]route.Service, 0, len(segs))
	for i, seg := range segs {
		sb := segBuilder{builder: b, ls: seg.labels, seg: seg.name, in: &in, opts: &opts, host: host}
		if svc, ok := sb.build(ports[i]); ok {
			out = append(out, svc)
		}
	}
	return out, b.problems
}

// builder collects the problems of one service.
type builder struct {
	src      route.Source
	problems []route.Problem
}

func (b *builder) add(seg string, sev route.Severity, msg string) {
	src := b.src
	src.Segment = seg
	b.problems = append(b.problems, route.Problem{Source: src, Severity: sev, Message: msg})
}

// enabled is Traefik 1.7 label.IsEnabled: strconv.ParseBool on
// traefik.enable, falling back to exposedByDefault when the label is absent,
// empty or unparsable (the last with a warning: "stack" was a value of the
// rawmind0/rancher-traefik scheme, not of Traefik's).
func (b *builder) enabled(labels map[string]string, exposedByDefault bool) bool {
	raw := strings.TrimSpace(labels[lEnable])
	if raw == "" {
		return exposedByDefault
	}
	v, err := strconv.ParseBool(raw)
	if err != nil {
		b.add("", route.Warning, fmt.Sprintf("%s %q is not a boolean; using the exposed-by-default setting (%t)", lEnable, raw, exposedByDefault))
		return exposedByDefault
	}
	return v
}

// constraintsHold applies the provider's constraints to traefik.tags. A
// service filtered out by a constraint is skipped without a problem: that
// is what constraints are for.
func (b *builder) constraintsHold(labels map[string]string, constraints []string) bool {
	tags := splitCSV(labels[lTags])
	if len(tags) == 0 && len(constraints) == 0 {
		return true
	}
	ok, err := matchConstraints(constraints, tags)
	if err != nil {
		b.add("", route.Error, fmt.Sprintf("skipped: %v", err))
		return false
	}
	return ok
}

// unsupported warns once per service about every traefik.* label the edge
// does not implement, attached to the segment that carries it. Labels that
// fail closed are reported by the segment build instead.
func (b *builder) unsupported(labels map[string]string) {
	var names []string
	for name := range labels {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		if _, key := splitLabel(name); !isSupported(key) && !failClosed(key) {
			names = append(names, name)
		}
	}
	// Sorted so that problems come out in the same order on every read.
	slices.Sort(names)
	for _, name := range names {
		seg, key := splitLabel(name)
		b.add(seg, route.Warning, unsupportedMessage(name, key))
	}
}

// port reads the segment's traefik.port, which Traefik requires on every
// segment.
// With serverPorts the label is optional: 0 means each server's own port.
func (b *builder) port(seg segment, serverPorts bool) (int, bool) {
	raw, ok := seg.labels[lPort]
	if (!ok || strings.TrimSpace(raw.v) == "") && serverPorts {
		return 0, true // each server's own Address.Port
	}
	if !ok || strings.TrimSpace(raw.v) == "" {
		b.add(seg.name, route.Error, "skipped: no traefik.port label (Traefik 1.x needs a numeric port on every segment)")
		return 0, false
	}
	port, err := strconv.Atoi(strings.TrimSpace(raw.v))
	if err != nil {
		b.add(seg.name, route.Error, fmt.Sprintf("skipped: %s %q is not a number", raw.name, raw.v))
		return 0, false
	}
	if port < 1 || port > 65535 {
		b.add(seg.name, route.Error, fmt.Sprintf("skipped: %s %d is not a port (1-65535)", raw.name, port))
		return 0, false
	}
	return port, true
}

// segBuilder builds one segment's route.
type segBuilder struct {
	*builder
	ls     labelSet
	seg    string
	in     *Input
	opts   *Options
	host   string
	failed bool
}

// fail records an error that skips this segment; building goes on so that
// one pass reports every problem.
func (sb *segBuilder) fail(format string, args ...any) {
	sb.failed = true
	sb.add(sb.seg, route.Error, "skipped: "+fmt.Sprintf(format, args...))
}

func (sb *segBuilder) warn(format string, args ...any) {
	sb.add(sb.seg, route.Warning, fmt.Sprintf(format, args...))
}

// build assembles the route; ok is false when an error skipped it.
func (sb *segBuilder) build(port int) (route.Service, bool) {
	name := strings.ToLower(sb.host)
	if sb.seg != "" {
		name += "." + sb.seg
	}
	src := sb.src
	src.Segment = sb.seg
	svc := route.Service{
		Name:              name,
		Source:            src,
		Created:           sb.in.Created,
		Rule:              sb.rule(),
		Priority:          sb.priority(),
		PassHostHeader:    sb.boolean(lPassHostHeader, true),
		EntryPoints:       splitCSV(sb.ls.str(lEntryPoints)),
		Redirect:          sb.redirect(),
		WhiteList:         sb.whiteList(),
		Headers:           sb.headers(),
		LoadBalancer:      sb.loadBalancer(),
		HealthCheck:       sb.healthCheck(),
		RateLimit:         sb.rateLimit(),
		MaxConn:           sb.maxConn(),
		Backend:           strings.TrimPrefix(sb.backendName(), "backend-"),
		ErrorPages:        sb.errorPages(),
		PassTLSClientCert: sb.passTLSClientCert(),
	}
	sb.auth(&svc)
	sb.circuitBreaker()
	svc.ResponseHeaderTimeout = sb.duration(lResponseHeaderTimeout)
	svc.MaxRequestBodyBytes = sb.int64(lBufferingMaxRequest)
	scheme := sb.protocol()
	weight := sb.weight()
	for key := range sb.ls {
		if failClosed(key) {
			sb.fail("%s is not supported; the route is not served without the protection it asks for", sb.ls.name(key))
		}
	}
	if sb.failed {
		return route.Service{}, false
	}
	svc.Servers = sb.servers(scheme, port, weight)
	return svc, true
}

// rule is the segment's frontend rule: traefik.frontend.rule when non-empty,
// else Host:<default host>[.<domain>], validated with the edge's parser so
// that a typo skips this route instead of failing the whole table.
func (sb *segBuilder) rule() string {
	expr := sb.ls.str(lRule)
	if expr == "" {
		domain := sb.ls.str(lDomain)
		if domain == "" {
			domain = sb.opts.Domain
		}
		expr = "Host:" + strings.ToLower(sb.host)
		if domain != "" {
			expr += "." + domain
		}
	}
	if _, err := rule.Parse(expr); err != nil {
		// The parser's error quotes the rule; the label name says where
		// it came from.
		from := "default rule"
		if sb.ls.str(lRule) != "" {
			from = sb.ls.name(lRule)
		}
		sb.fail("%s: %v", from, err)
	}
	return expr
}

// boolean is Traefik's GetBoolValue: an absent or empty label gives def, a
// bad one gives def with a warning.
func (sb *segBuilder) boolean(key string, def bool) bool {
	raw := sb.ls.str(key)
	if raw == "" {
		return def
	}
	v, err := strconv.ParseBool(raw)
	if err != nil {
		sb.warn("%s %q is not a boolean; using %t", sb.ls.name(key), raw, def)
		return def
	}
	return v
}
