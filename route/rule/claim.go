package rule

import "strings"

// Claims are the (host, request match) pairs a rule expression claims, as
// "host|matchers": its hosts ("" for any host, "*.example.com" for a
// HostRegexp written as a wildcard, "regexp:…" for another HostRegexp)
// times its other matchers, path modifiers left out. Two rules with a
// claim in common would take the same requests, so whoever routes them
// must pick one and say so. Spaces do not count, nor the case of host
// names; paths keep their case; a rule without a request matcher claims
// "PathPrefix:/", so "Host:a.com" and "Host:a.com;PathPrefix:/" clash.
//
// It works on the expression, not a parsed [Rule], so that providers can
// settle their own clashes with the same policy as the routing table: the
// one place that says what a clash is.
func Claims(expr string) []string {
	hosts := []string{""}
	var match []string
	for _, part := range strings.Split(strings.Join(strings.Fields(expr), ""), ";") {
		name, val, _ := strings.Cut(part, ":")
		switch name {
		case "Host":
			hosts = strings.Split(strings.ToLower(strings.Trim(val, ",")), ",")
		case "HostRegexp":
			// {subdomain:…}.example.com, as the Kubernetes builds write
			// wildcards.
			if i := strings.Index(val, "}."); strings.HasPrefix(val, "{") && i > 0 {
				hosts = []string{"*." + strings.ToLower(val[i+2:])}
			} else {
				hosts = []string{"regexp:" + val}
			}
		case "Path", "PathPrefix", "PathStrip", "PathPrefixStrip", "Method", "Headers", "HeadersRegexp", "Query":
			match = append(match, part)
		}
	}
	if len(match) == 0 {
		match = []string{"PathPrefix:/"}
	}
	m := strings.Join(match, ";")
	out := make([]string, len(hosts))
	for i, h := range hosts {
		out[i] = h + "|" + m
	}
	return out
}
