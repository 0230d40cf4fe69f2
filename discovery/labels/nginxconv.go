package labels

import (
	"cmp"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"

	"github.com/rancher-edge/edge/route"
)

// The conversions of ingress-nginx annotation values into Traefik label
// values. Each returns an error worded to follow the annotation's name.

func copyTo(label string) func(string, map[string]string) error {
	return func(v string, out map[string]string) error {
		out[label] = v
		return nil
	}
}

// header adds "name:value" to a header-map label.
func header(name, label string) func(string, map[string]string) error {
	return func(v string, out map[string]string) error {
		if strings.Contains(v, "||") || strings.ContainsAny(v, "\r\n") {
			return fmt.Errorf("%q is not a header value", v)
		}
		addHeader(out, label, name, v)
		return nil
	}
}

func addHeader(out map[string]string, label, name, v string) {
	if prev := out[label]; prev != "" {
		out[label] = prev + "||" + name + ":" + v
		return
	}
	out[label] = name + ":" + v
}

// NginxSize parses an nginx size: a number of bytes with an optional k, m
// or g (either case). 0 means no limit and is returned as MaxInt64.
func NginxSize(v string) (int64, error) {
	mult := int64(1)
	num := v
	if n := len(v); n > 0 {
		switch v[n-1] {
		case 'k', 'K':
			mult, num = 1<<10, v[:n-1]
		case 'm', 'M':
			mult, num = 1<<20, v[:n-1]
		case 'g', 'G':
			mult, num = 1<<30, v[:n-1]
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q is not an nginx size (8m, 512k, 1g)", v)
	}
	if n == 0 {
		return math.MaxInt64, nil
	}
	return n * mult, nil
}

func bodySize(v string, out map[string]string) error {
	n, err := NginxSize(v)
	if err != nil {
		return err
	}
	out[lBufferingMaxRequest] = strconv.FormatInt(n, 10)
	return nil
}

// seconds takes ingress-nginx's unit-less seconds.
func seconds(label string) func(string, map[string]string) error {
	return func(v string, out map[string]string) error {
		n, err := strconv.Atoi(strings.TrimSuffix(v, "s"))
		if err != nil || n <= 0 {
			return fmt.Errorf("%q is not a positive number of seconds", v)
		}
		out[label] = strconv.Itoa(n) + "s"
		return nil
	}
}

func loadBalance(v string, out map[string]string) error {
	switch v {
	case "round_robin":
		out[lLBMethod] = "wrr"
	case "ewma", "least_conn":
		out[lLBMethod] = "drr"
	default:
		return fmt.Errorf("%q is not round_robin or ewma", v)
	}
	return nil
}

func limitConnections(v string, out map[string]string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return fmt.Errorf("%q is not a positive number", v)
	}
	out[lMaxConnAmount] = v
	out[lMaxConnExtractor] = "client.ip"
	return nil
}

func sameSite(v string, out map[string]string) error {
	switch strings.ToLower(v) {
	case "none", "lax", "strict":
		out[lStickinessSameSite] = strings.ToLower(v)
		return nil
	}
	return fmt.Errorf("%q is not None, Lax or Strict", v)
}

// Defaults of ingress-nginx's CORS annotations.
const (
	corsMethods = "GET, PUT, POST, DELETE, PATCH, OPTIONS"
	corsHeaders = "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization"
	corsMaxAge  = "1728000"
)

// nginxCombined applies the annotations whose meaning depends on others:
// affinity with its cookie name, the allow and deny lists, the rate limits
// with their burst multiplier, CORS.
func nginxCombined(ann map[string]string, out map[string]string, a *Annotated) {
	get := func(k string) string { return strings.TrimSpace(ann[NginxPrefix+k]) }
	warn := func(k, msg string) {
		a.Problems = append(a.Problems, AnnotationProblem{Annotation: NginxPrefix + k, Message: "annotation " + NginxPrefix + k + " " + msg})
	}

	if v := get("affinity"); v != "" {
		if v == "cookie" {
			out[lStickiness] = "true"
			if get("session-cookie-name") == "" {
				out[lStickinessCookie] = "INGRESSCOOKIE"
			}
		} else {
			warn("affinity", "\""+v+"\" is not cookie (the only affinity type); ignored")
		}
	}

	allow := splitCSV(get("allowlist-source-range"))
	if len(allow) == 0 {
		allow = splitCSV(get("whitelist-source-range"))
	}
	deny := splitCSV(get("denylist-source-range"))
	if len(allow) > 0 || len(deny) > 0 {
		ranges, bad := allowRanges(allow, deny)
		if bad != "" {
			// An access list that cannot be read must not open the
			// paths: the provider skips the Ingress.
			name := "whitelist-source-range"
			switch {
			case strings.Contains(get("denylist-source-range"), bad):
				name = "denylist-source-range"
			case get("allowlist-source-range") != "":
				name = "allowlist-source-range"
			}
			a.Problems = append(a.Problems, AnnotationProblem{Annotation: NginxPrefix + name, Skip: true,
				Message: "skipped: annotation " + NginxPrefix + name + ": " + strconv.Quote(bad) + " is neither a CIDR nor an address; the paths are not served without the access list"})
		} else {
			out[lWhiteListSourceRange] = strings.Join(ranges, ",")
		}
	}

	mult := 5
	if v := get("limit-burst-multiplier"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			mult = n
		} else {
			warn("limit-burst-multiplier", strconv.Quote(v)+" is not a positive number; using 5")
		}
	}
	for _, l := range []struct{ name, period string }{{"limit-rps", "1s"}, {"limit-rpm", "1m"}} {
		v := get(l.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			warn(l.name, strconv.Quote(v)+" is not a positive number; ignored")
			continue
		}
		set := lRateSetPrefix + strings.TrimPrefix(l.name, "limit-") + "."
		out[set+"period"] = l.period
		out[set+"average"] = strconv.Itoa(n)
		out[set+"burst"] = strconv.Itoa(n * mult)
		out[lRateLimitExtractor] = "client.ip"
	}

	if get("enable-cors") == "true" {
		a.CORS = nginxCORS(get, warn)
	}
}

// nginxCORS reads enable-cors's settings with ingress-nginx's defaults.
func nginxCORS(get func(string) string, warn func(k, msg string)) *route.CORS {
	c := &route.CORS{AllowMethods: corsMethods, AllowHeaders: corsHeaders, AllowCredentials: true, MaxAge: 1728000}
	for _, o := range splitCSV(cmp.Or(get("cors-allow-origin"), "*")) {
		if err := route.CheckCORSOrigin(o); err != nil {
			warn("cors-allow-origin", err.Error()+"; left out")
			continue
		}
		c.AllowOrigins = append(c.AllowOrigins, o)
	}
	if len(c.AllowOrigins) == 0 {
		c.AllowOrigins = []string{"*"}
	}
	if v := get("cors-allow-methods"); v != "" {
		c.AllowMethods = v
	}
	if v := get("cors-allow-headers"); v != "" {
		c.AllowHeaders = v
	}
	c.ExposeHeaders = get("cors-expose-headers")
	if v := get("cors-allow-credentials"); v != "" {
		c.AllowCredentials = v == "true"
	}
	if v := get("cors-max-age"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			c.MaxAge = n
		} else {
			warn("cors-max-age", strconv.Quote(v)+" is not a number of seconds; using 1728000")
		}
	}
	return c
}

// allowRanges turns an allow list and a deny list into the one allow list
// that admits exactly the allowed addresses that are not denied. No allow
// list allows every address. bad is the first entry that does not parse.
func allowRanges(allow, deny []string) (ranges []string, bad string) {
	parse := func(list []string) ([]netip.Prefix, string) {
		var out []netip.Prefix
		for _, s := range list {
			p, err := parseRange(s)
			if err != nil {
				return nil, s
			}
			out = append(out, p)
		}
		return out, ""
	}
	as, bad := parse(allow)
	if bad != "" {
		return nil, bad
	}
	ds, bad := parse(deny)
	if bad != "" {
		return nil, bad
	}
	if len(ds) == 0 {
		return allow, ""
	}
	if len(as) == 0 {
		as = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}
	}
	var out []string
	for _, p := range as {
		for _, q := range subtract(p, ds) {
			out = append(out, q.String())
		}
	}
	if len(out) == 0 {
		// Everything is denied; an allow list must not be empty, and
		// this one admits nobody a client can be.
		out = []string{"0.0.0.0/32"}
	}
	return out, ""
}

func parseRange(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// subtract returns p less every prefix of deny, as disjoint prefixes: p is
// halved until each half lies wholly inside or outside the denied ranges.
func subtract(p netip.Prefix, deny []netip.Prefix) []netip.Prefix {
	for _, d := range deny {
		if d.Addr().Is4() != p.Addr().Is4() || !d.Overlaps(p) {
			continue
		}
		if d.Bits() <= p.Bits() {
			return nil // p lies inside d
		}
		lo, hi := halves(p)
		return append(subtract(lo, deny), subtract(hi, deny)...)
	}
	return []netip.Prefix{p}
}

// halves splits p into its two prefixes one bit longer.
func halves(p netip.Prefix) (netip.Prefix, netip.Prefix) {
	bits := p.Bits() + 1
	lo := netip.PrefixFrom(p.Addr(), bits)
	b := p.Addr().AsSlice()
	i := p.Bits() / 8
	b[i] |= 0x80 >> (p.Bits() % 8)
	hiAddr, _ := netip.AddrFromSlice(b)
	return lo, netip.PrefixFrom(hiAddr, bits)
}
