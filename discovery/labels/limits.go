package labels

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rancher-edge/edge/route"
)

// validExtractor is Traefik's utils.NewExtractor.
func validExtractor(name string) bool {
	return name == "client.ip" || name == "request.host" ||
		strings.HasPrefix(name, "request.header.") && len(name) > len("request.header.")
}

// rateLimit is Traefik 1.7 label.GetRateLimit: an extractor function and
// rate sets. Traefik refused to serve a frontend whose limiter could not be
// built (an unknown extractor, a rate set without a positive period,
// average and burst), so those skip the segment; limits that Traefik
// ignored are ignored with a warning.
func (sb *segBuilder) rateLimit() *route.RateLimit {
	extractor := sb.ls.str(lRateLimitExtractor)
	sets, ok := sb.rateSets()
	switch {
	case !ok:
		return nil
	case extractor == "" && len(sets) == 0:
		if sb.ls.has(lRateLimitExtractor) {
			sb.warn("%s is empty: no rate limit", sb.ls.name(lRateLimitExtractor))
		}
		return nil
	case extractor == "":
		sb.warn("%s* labels are ignored: they need %s (Traefik ignored them too)", lRateSetPrefix, lRateLimitExtractor)
		return nil
	case len(sets) == 0:
		sb.warn("%s is ignored: no %s<name>.* rate set", sb.ls.name(lRateLimitExtractor), lRateSetPrefix)
		return nil
	case !validExtractor(extractor):
		sb.fail("%s %q is not client.ip, request.host or request.header.<name> (Traefik did not serve such a frontend)", sb.ls.name(lRateLimitExtractor), extractor)
		return nil
	}
	return &route.RateLimit{ExtractorFunc: extractor, RateSets: sets}
}

// rateSets reads traefik.frontend.rateLimit.rateSet.<name>.period/average/
// burst, sorted by name.
func (sb *segBuilder) rateSets() ([]route.RateSet, bool) {
	byName := map[string]*route.RateSet{}
	for key := range sb.ls {
		rest, ok := strings.CutPrefix(key, lRateSetPrefix)
		if !ok {
			continue
		}
		name, field, ok := strings.Cut(rest, ".")
		if !ok || name == "" || strings.Contains(field, ".") {
			continue // reported as an unknown label
		}
		rs := byName[name]
		if rs == nil {
			rs = &route.RateSet{Name: name}
			byName[name] = rs
		}
		raw := sb.ls.str(key)
		switch field {
		case "period":
			rs.Period = traefikDuration(raw)
		case "average":
			rs.Average, _ = strconv.ParseInt(raw, 10, 64)
		case "burst":
			rs.Burst, _ = strconv.ParseInt(raw, 10, 64)
		}
	}
	var out []route.RateSet
	ok := true
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		rs := byName[name]
		if rs.Period <= 0 || rs.Average <= 0 || rs.Burst <= 0 {
			sb.fail("%s%s needs a positive period (a duration or seconds), average and burst (Traefik did not serve such a frontend)", lRateSetPrefix, name)
			ok = false
			continue
		}
		out = append(out, *rs)
	}
	return out, ok
}

// traefikDuration is flaeg's parse.Duration: a bare integer is seconds,
// else a Go duration; zero when neither.
func traefikDuration(raw string) time.Duration {
	if n, err := strconv.ParseInt(raw, 10, 64); err == nil {
		return time.Duration(n) * time.Second
	}
	d, _ := time.ParseDuration(raw)
	return d
}

// maxConn is Traefik 1.7 label.GetMaxConn: an amount (no limit when it is
// absent or unparsable — with a warning here) and an extractor function,
// request.host by default.
func (sb *segBuilder) maxConn() *route.MaxConn {
	rawAmount := sb.ls.str(lMaxConnAmount)
	extractor := sb.ls.str(lMaxConnExtractor)
	if rawAmount == "" {
		if extractor != "" {
			sb.warn("%s is ignored: no %s", sb.ls.name(lMaxConnExtractor), lMaxConnAmount)
		}
		return nil
	}
	amount, err := strconv.ParseInt(rawAmount, 10, 64)
	if err != nil || amount < 0 {
		sb.warn("%s %q is not a number; no connection limit, as in Traefik", sb.ls.name(lMaxConnAmount), rawAmount)
		return nil
	}
	if amount == 0 {
		return nil // Traefik: an amount of 0 means no limit
	}
	if extractor == "" {
		extractor = "request.host"
	}
	if !validExtractor(extractor) {
		sb.fail("%s %q is not client.ip, request.host or request.header.<name> (Traefik did not serve such a frontend)", sb.ls.name(lMaxConnExtractor), extractor)
		return nil
	}
	return &route.MaxConn{Amount: amount, ExtractorFunc: extractor}
}
