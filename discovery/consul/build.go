package consul

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"github.com/rancher-edge/edge/discovery/labels"
	"github.com/rancher-edge/edge/route"
)

// Check states as Consul reports them; an instance's state is the worst of
// its own checks and its node's (api.HealthChecks.AggregatedStatus).
const (
	statePassing     = "passing"
	stateWarning     = "warning"
	stateCritical    = "critical"
	stateMaintenance = "maintenance"
)

// world is everything discovery knows about the catalog: the instances of
// every service by service name, as the health endpoint last returned them.
type world map[string][]instance

// instance is one registration of a service, reduced to what routing uses.
type instance struct {
	ID, Node    string
	Address     string // Service.Address; empty means the node's
	NodeAddress string
	Port        int
	Tags        []string
	State       string // passing, warning, critical or maintenance
}

// settings are the parts of Config that shape a snapshot.
type settings struct {
	prefix  string // lower-cased, with the trailing dot
	warning bool   // admit warning as well as passing
	exposed bool
	domain  string
	rule    *template.Template
	labels  labels.Options
}

func (c Config) settings() (settings, error) {
	c = c.withDefaults()
	t, err := parseRule(c.FrontendRule, c.Prefix)
	if err != nil {
		return settings{}, err
	}
	return settings{
		prefix:  strings.ToLower(c.Prefix) + ".",
		warning: c.WarningIsHealthy,
		exposed: c.ExposedByDefault,
		domain:  c.Domain,
		rule:    t,
		labels:  c.labelOptions(),
	}, nil
}

// prepared is a world turned into labels.Build inputs, before the routes
// are built: enough to fingerprint.
type prepared struct {
	inputs    []labels.Input
	problems  []route.Problem // found before labels.Build
	services  int             // catalog services, without consul itself
	instances int
}

// Labels that belong to one instance rather than to the service: each
// instance may register its own port and weight, as in Traefik 1.7's
// Consul catalog template.
const (
	labelPort   = "traefik.port"
	labelWeight = "traefik.weight"
	labelRule   = "traefik.frontend.rule"
)

// prepare turns the world into inputs. It is pure; inputs come out ordered
// by service name.
func prepare(w world, s settings) prepared {
	var p prepared
	for _, name := range slices.Sorted(maps.Keys(w)) {
		// consul is the servers' own RPC service (port 8300), never HTTP.
		if name == "consul" {
			continue
		}
		p.services++
		insts := slices.Clone(w[name])
		slices.SortFunc(insts, func(a, b instance) int { return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Node, b.Node)) })
		p.instances += len(insts)
		in, probs, ok := s.input(name, insts)
		p.problems = append(p.problems, probs...)
		if ok {
			p.inputs = append(p.inputs, in)
		}
	}
	return p
}

// input turns one service's instances into a labels.Build input: the
// service's labels from the instances' tags, its servers from the
// instances that pass. ok is false when the service is not for the edge.
func (s settings) input(name string, insts []instance) (in labels.Input, problems []route.Problem, ok bool) {
	src := route.Source{Provider: "consul", Service: name}
	problem := func(sev route.Severity, format string, args ...any) {
		problems = append(problems, route.Problem{Source: src, Severity: sev, Message: fmt.Sprintf(format, args...)})
	}
	ls := map[string]string{}
	from := map[string]string{} // label → the instance it came from
	var attributes []string
	seen := map[string]bool{}
	for _, inst := range insts {
		for _, tag := range inst.Tags {
			if !seen[tag] {
				seen[tag] = true
				attributes = append(attributes, tag)
			}
			key, value, isLabel := s.tagLabel(tag)
			if !isLabel || key == labelPort || key == labelWeight {
				continue // per-instance labels are read per instance
			}
			if old, dup := ls[key]; dup {
				if old != value {
					problem(route.Warning, "instances disagree on %s: %q on %s, %q on %s; using the first", key, old, from[key], value, inst.ID)
				}
				continue
			}
			ls[key], from[key] = value, inst.ID
		}
	}
	tagged := len(ls) > 0
	for _, inst := range insts {
		for _, tag := range inst.Tags {
			if k, _, isLabel := s.tagLabel(tag); isLabel && (k == labelPort || k == labelWeight) {
				tagged = true
			}
		}
	}
	if !tagged && !s.exposed {
		return labels.Input{}, nil, false // not meant for the edge
	}
	if strings.ContainsFunc(name, func(r rune) bool { return r == ' ' || r == '\t' }) {
		// Traefik 1.x skipped these without a word.
		problem(route.Error, "skipped: the service name contains a space, which no host name or rule can hold; rename the service")
		return labels.Input{}, problems, false
	}
	if _, set := ls[labelRule]; !set {
		rule, err := s.defaultRule(name, attributes)
		if err != nil {
			problem(route.Error, "skipped: frontend rule template: %v", err)
			return labels.Input{}, problems, false
		}
		ls[labelRule] = rule
	}
	in = labels.Input{Service: name, DefaultHost: name, Labels: ls}
	for _, inst := range insts {
		if inst.State != statePassing && (inst.State != stateWarning || !s.warning) {
			continue
		}
		addr := inst.Address
		if addr == "" {
			addr = inst.NodeAddress
		}
		if addr == "" {
			continue
		}
		a := labels.Address{Addr: addr, Name: inst.ID + "@" + inst.Node, Port: inst.Port}
		for _, tag := range inst.Tags {
			key, value, isLabel := s.tagLabel(tag)
			switch {
			case !isLabel:
			case key == labelPort:
				if p, err := strconv.Atoi(value); err == nil && p > 0 && p < 65536 {
					a.Port = p
				} else {
					problem(route.Warning, "instance %s: %s %q is not a port; using its registered port %d", inst.ID, key, value, inst.Port)
				}
			case key == labelWeight:
				a.Weight = value
			}
		}
		in.Servers = append(in.Servers, a)
	}
	return in, problems, true
}

// tagLabel reads a tag as a label: "<prefix>.x.y=v" is traefik.x.y=v, the
// prefix matched case-insensitively. Tags that are not key=value under the
// prefix are not labels (they stay attributes for the rule template).
func (s settings) tagLabel(tag string) (key, value string, ok bool) {
	k, v, found := strings.Cut(tag, "=")
	if !found || len(k) <= len(s.prefix) || !strings.EqualFold(k[:len(s.prefix)], s.prefix) {
		return "", "", false
	}
	return "traefik." + k[len(s.prefix):], v, true
}

// defaultRule runs the frontend rule template; an empty domain leaves a
// trailing dot, which is trimmed, as Traefik ≥ 1.7.4 did.
func (s settings) defaultRule(name string, attributes []string) (string, error) {
	var b strings.Builder
	data := ruleData{ServiceName: name, Domain: s.domain, Attributes: attributes}
	if err := s.rule.Execute(&b, data); err != nil {
		return "", err
	}
	return strings.TrimSuffix(strings.TrimSpace(b.String()), "."), nil
}

// fingerprint hashes everything the routes are built from.
func (p prepared) fingerprint() uint64 {
	h := fnv.New64a()
	for _, in := range p.inputs {
		labels.Hash(h, in)
	}
	for _, pr := range p.problems {
		_, _ = h.Write([]byte(pr.String()))
		_, _ = h.Write([]byte{0})
	}
	if sum := h.Sum64(); sum != 0 {
		return sum
	}
	return 1 // zero means unknown in route.Snapshot
}

// assemble builds the routes of prepared inputs through labels.Build.
func assemble(p prepared, s settings) ([]route.Service, []route.Problem) {
	services := make([]route.Service, 0, len(p.inputs))
	problems := slices.Clone(p.problems)
	for _, in := range p.inputs {
		svcs, probs := labels.Build(in, s.labels)
		services = append(services, svcs...)
		problems = append(problems, probs...)
	}
	services, dups := labels.Dedupe(services)
	problems = append(problems, dups...)
	services = labels.SortByName(services)
	return services, problems
}

// build turns a world into a snapshot; Built is left for the caller.
func build(w world, s settings) (route.Snapshot, []route.Problem) {
	p := prepare(w, s)
	services, problems := assemble(p, s)
	return route.Snapshot{Provider: "consul", Services: services, Problems: problems, Fingerprint: p.fingerprint()}, problems
}
