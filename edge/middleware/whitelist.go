package middleware

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/rancher-edge/edge/route"
)

// WhiteList admits only clients whose address is in cfg.SourceRange and
// answers everyone else 403 with a short plain body.
//
// Entries are CIDRs ("10.0.0.0/8", "2001:db8::/32") or bare IPv4 or IPv6
// addresses; an unparsable or empty entry, or an empty list, is an error at
// construction (Traefik 1.7 refused an empty list too). IPv4-mapped IPv6
// addresses and ranges are treated as the IPv4 ones they carry, so a dual
// stack listener sees the same answers as an IPv4 one.
//
// The client address is r.RemoteAddr. With cfg.UseXForwardedFor, each
// address in every X-Forwarded-For header is checked as well and any match
// admits the request: that is Traefik 1.7's rule, and it is only safe
// because the edge drops X-Forwarded-For from untrusted peers before this
// handler runs. Unlike Traefik, an entry that is not an address (say
// "unknown") is skipped instead of failing the whole request; it can never
// admit anyone either way.
//
// The check on r.RemoteAddr allocates nothing.
func WhiteList(cfg route.WhiteList, next http.Handler) (http.Handler, error) {
	if next == nil {
		return nil, fmt.Errorf("whitelist: %w", errNoNext)
	}
	if len(cfg.SourceRange) == 0 {
		return nil, errors.New("whitelist: no source range")
	}
	wl := &whiteList{
		ranges: make([]netip.Prefix, 0, len(cfg.SourceRange)),
		useXFF: cfg.UseXForwardedFor,
		next:   next,
	}
	for _, entry := range cfg.SourceRange {
		p, err := parseSourceRange(strings.TrimSpace(entry))
		if err != nil {
			return nil, fmt.Errorf("whitelist: %w", err)
		}
		wl.ranges = append(wl.ranges, p)
	}
	return wl, nil
}

// parseSourceRange turns one white-list entry into a masked prefix.
func parseSourceRange(s string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return netip.Prefix{}, fmt.Errorf("source range %q: %w", s, err)
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("source range %q: %w", s, err)
		}
		if a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("source range %q: zones are not supported", s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	// Client addresses are unmapped before the check, so ranges written as
	// ::ffff:a.b.c.d/n must become a.b.c.d/(n-96) to keep matching them.
	if a := p.Addr(); a.Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, fmt.Errorf("source range %q: IPv4-mapped range shorter than /96", s)
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// whiteList is the compiled form of a [route.WhiteList]. It is immutable.
type whiteList struct {
	ranges []netip.Prefix
	useXFF bool
	next   http.Handler
}

func (wl *whiteList) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// RemoteAddr first: it is the common case and needs no header parsing.
	if a, ok := parseClientAddr(r.RemoteAddr); ok && wl.contains(a) {
		wl.next.ServeHTTP(w, r)
		return
	}
	if wl.useXFF && wl.forwardedAllowed(r.Header["X-Forwarded-For"]) {
		wl.next.ServeHTTP(w, r)
		return
	}
	http.Error(w, "403 Forbidden", http.StatusForbidden)
}

// forwardedAllowed reports whether any address in the X-Forwarded-For
// values is in range. It walks the comma lists in place, without splitting
// them into a slice.
func (wl *whiteList) forwardedAllowed(values []string) bool {
	for _, v := range values {
		for v != "" {
			var item string
			item, v, _ = strings.Cut(v, ",")
			if a, ok := parseClientAddr(strings.TrimSpace(item)); ok && wl.contains(a) {
				return true
			}
		}
	}
	return false
}

// contains reports whether a is in one of the ranges. Lists are short (a
// handful of CIDRs per label), so a linear scan beats any index.
func (wl *whiteList) contains(a netip.Addr) bool {
	for _, p := range wl.ranges {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseClientAddr reads "ip:port", "[ipv6]:port", "ip" or "[ipv6]" and
// returns the address unmapped and without a zone, ready for
// [netip.Prefix.Contains], which never matches zoned or mapped addresses.
func parseClientAddr(s string) (netip.Addr, bool) {
	// Pick the parser by shape rather than trying one and falling back:
	// a failed parse allocates its error, and the usual X-Forwarded-For
	// entry has no port.
	var a netip.Addr
	var err error
	switch {
	case len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']':
		a, err = netip.ParseAddr(s[1 : len(s)-1])
	case strings.HasPrefix(s, "["), strings.Count(s, ":") == 1:
		var ap netip.AddrPort
		ap, err = netip.ParseAddrPort(s)
		a = ap.Addr()
	default:
		a, err = netip.ParseAddr(s)
	}
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}
