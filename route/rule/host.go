package rule

// MatchHost reports whether the rule's host conditions (Host, HostRegexp)
// accept host, ignoring every other matcher. A rule without host conditions
// accepts any host. On-demand TLS uses it to decide whether a name is
// routed at all before asking a CA for a certificate.
func (r *Rule) MatchHost(host string) bool {
	for _, m := range r.matchers {
		switch m.(type) {
		case *hostMatcher, *hostRegexpMatcher:
			if !m.match(nil, host) {
				return false
			}
		}
	}
	return true
}
