package labels

import (
	"strings"
)

// sidekickLabels translates the labels of the rawmind0/rancher-traefik
// sidekick (its rancher-template traefik.tmpl) into the Traefik labels
// that give the same routes, so that a stack moving off the sidekick keeps
// its labels ([Options.SidekickLabels]). The sidekick read only these
// labels, and only on services with traefik.enable=true or stack; any
// other service is not routed, as there.
//
//   - rule: Host:<service>.<stack>.<domain> (traefik.enable=true) or
//     <stack>.<domain> (stack) for each domain of the traefik.domain list,
//     with <alias>.<domain> for each traefik.alias and every
//     traefik.alias.fqdn; without a domain, Host:<service>.<stack>. The
//     traefik.path, .path.strip, .path.prefix and .path.prefix.strip lists
//     add Path, PathStrip, PathPrefix and PathPrefixStrip matchers.
//     traefik.domain.regexp gives HostRegexp; the sidekick wrote it in
//     front of the Host list with a comma, which made Traefik read the
//     hosts as further patterns that match nothing, so it replaces them.
//   - traefik.port (80 when absent), traefik.protocol (https or http),
//     traefik.priority (5 when absent), traefik.sticky, and the drr
//     balancer the sidekick always chose.
//   - traefik.ratelimit.enable=true: per client IP, traefik.ratelimit.period
//     seconds (10), .average (100), .burst (200).
//
// The sidekick's fixed circuit breaker is left out (labels.md says why) and
// traefik.acme needs nothing: with ACME on every routed host gets a
// certificate.
func sidekickLabels(in Input) map[string]string {
	l := in.Labels
	enable := strings.TrimSpace(l["traefik.enable"])
	if enable != "true" && enable != "stack" {
		return nil
	}
	get := func(k, def string) string {
		if v := strings.TrimSpace(l[k]); v != "" {
			return v
		}
		return def
	}
	list := func(k string) []string {
		v := strings.ReplaceAll(l[k], " ", "")
		if v == "" {
			return nil
		}
		return strings.Split(v, ",")
	}
	out := map[string]string{
		lEnable:                           "true",
		lPort:                             get("traefik.port", "80"),
		lPriority:                         get("traefik.priority", "5"),
		lLBMethod:                         "drr",
		"traefik.frontend.passHostHeader": "true",
	}
	if get("traefik.protocol", "") == "https" {
		out[lProtocol] = "https"
	}
	if tags := get(lTags, ""); tags != "" {
		out[lTags] = tags // for the provider's constraints
	}
	if get("traefik.sticky", "") == "true" {
		out[lLBSticky] = "true"
	}

	service, stack := strings.ToLower(in.Service), strings.ToLower(in.Stack)
	var matchers []string
	if re := nonEmpty(list("traefik.domain.regexp")); len(re) > 0 {
		matchers = append(matchers, "HostRegexp:"+strings.ToLower(strings.Join(re, ",")))
	} else if domains := list("traefik.domain"); len(domains) > 0 {
		var hosts []string
		for _, d := range domains {
			if enable == "true" {
				hosts = append(hosts, service+"."+stack+"."+d)
			} else {
				hosts = append(hosts, stack+"."+d)
			}
			for _, a := range list("traefik.alias") {
				if a != "" {
					a = strings.ToLower(a) + "."
				}
				hosts = append(hosts, a+d)
			}
		}
		for _, f := range nonEmpty(list("traefik.alias.fqdn")) {
			hosts = append(hosts, strings.ToLower(f))
		}
		matchers = append(matchers, "Host:"+strings.Join(hosts, ","))
	} else {
		matchers = append(matchers, "Host:"+service+"."+stack)
	}
	for _, p := range []struct{ label, matcher string }{
		{"traefik.path", "Path"}, {"traefik.path.strip", "PathStrip"},
		{"traefik.path.prefix", "PathPrefix"}, {"traefik.path.prefix.strip", "PathPrefixStrip"},
	} {
		if paths := nonEmpty(list(p.label)); len(paths) > 0 {
			matchers = append(matchers, p.matcher+":"+strings.ToLower(strings.Join(paths, ",")))
		}
	}
	out[lRule] = strings.Join(matchers, ";")

	if get("traefik.ratelimit.enable", "") == "true" {
		out[lRateLimitExtractor] = "client.ip"
		out[lRateSetPrefix+"rateset1.period"] = get("traefik.ratelimit.period", "10") + "s"
		out[lRateSetPrefix+"rateset1.average"] = get("traefik.ratelimit.average", "100")
		out[lRateSetPrefix+"rateset1.burst"] = get("traefik.ratelimit.burst", "200")
	}
	return out
}

func nonEmpty(s []string) []string {
	out := s[:0:0]
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}
