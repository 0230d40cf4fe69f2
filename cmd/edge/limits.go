package main

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/rancher-edge/edge/edge"
)

// limits are the timeouts and request limits (TRAEFIK_TIMEOUT_*,
// TRAEFIK_UNDERSCORE_HEADERS): every wait the edge makes has a bound.
type limits struct {
	Dial, Header, Read, Write, Idle, Grace time.Duration
	Accept                                 time.Duration // serving on after the stop signal; 0: none
	MaxBody                                int64
	MaxFails                               int // -1: passive health off
	FailTimeout                            time.Duration
	KeepUnderscores                        bool

	// notes are what the operator should know about the values, logged
	// at start: a 0 that meant "unlimited" to Traefik.
	notes []string
}

// loadLimits reads the limit settings. A timeout of 0 meant "no limit"
// to Traefik 1.x (and the community images wrote it by default); the edge
// bounds every wait, so 0 keeps the edge's default and says so.
func loadLimits(e env, p *problems) limits {
	var l limits
	for _, t := range []struct {
		name string
		dst  *time.Duration
	}{
		{"TRAEFIK_TIMEOUT_DIAL", &l.Dial},
		{"TRAEFIK_TIMEOUT_HEADER", &l.Header},
		{"TRAEFIK_TIMEOUT_READ", &l.Read},
		{"TRAEFIK_TIMEOUT_WRITE", &l.Write},
		{"TRAEFIK_TIMEOUT_IDLE", &l.Idle},
		{"TRAEFIK_TIMEOUT_GRACE", &l.Grace},
	} {
		s := lookupSetting(t.name)
		raw := e.value(s)
		d, err := parseSeconds(raw)
		switch {
		case err != nil || d < 0:
			p.add("%s: %q is not a duration such as 30s or a number of seconds", t.name, raw)
		case d == 0:
			d, _ = parseSeconds(s.def)
			l.notes = append(l.notes, fmt.Sprintf("%s=0 meant no limit to Traefik; the edge keeps a bound of %s", t.name, d))
		}
		*t.dst = d
	}
	// TRAEFIK_TIMEOUT_ACCEPT's 0 is no wait (Traefik's default too), not
	// "no limit".
	if raw := e.value(lookupSetting("TRAEFIK_TIMEOUT_ACCEPT")); raw != "" {
		d, err := parseSeconds(raw)
		if err != nil || d < 0 || d > time.Hour {
			p.add("TRAEFIK_TIMEOUT_ACCEPT: %q is not a duration such as 10s or a number of seconds, up to an hour", raw)
		}
		l.Accept = d
	}
	l.MaxFails = e.intSetting("TRAEFIK_BACKEND_MAX_FAILS", p, 0, 1000)
	if l.MaxFails == 0 {
		l.MaxFails = -1
	}
	raw := e.value(lookupSetting("TRAEFIK_BACKEND_FAIL_TIMEOUT"))
	if d, err := parseSeconds(raw); err != nil || d <= 0 {
		p.add("TRAEFIK_BACKEND_FAIL_TIMEOUT: %q is not a positive duration such as 10s", raw)
	} else {
		l.FailTimeout = d
	}
	raw = e.value(lookupSetting("TRAEFIK_MAX_BODY_SIZE"))
	if n, ok := parseSize(raw); ok {
		l.MaxBody = n
	} else {
		p.add("TRAEFIK_MAX_BODY_SIZE: %q is not a size in bytes such as 1048576 or 10m", raw)
	}
	switch v := strings.ToLower(e.value(lookupSetting("TRAEFIK_UNDERSCORE_HEADERS"))); v {
	case "drop":
	case "keep":
		l.KeepUnderscores = true
	default:
		p.add("TRAEFIK_UNDERSCORE_HEADERS: %q is not drop or keep", v)
	}
	return l
}

// parseSeconds reads a Go duration, or a bare number of seconds as the
// community images wrote them.
func parseSeconds(raw string) (time.Duration, error) {
	if n, err := strconv.ParseFloat(raw, 64); err == nil {
		return time.Duration(n * float64(time.Second)), nil
	}
	return time.ParseDuration(raw)
}

// parseSize reads a byte count with an optional k, m or g suffix (powers
// of 1024, as nginx's client_max_body_size).
func parseSize(raw string) (int64, bool) {
	s := strings.ToLower(strings.TrimSpace(raw))
	shift := 0
	switch {
	case strings.HasSuffix(s, "k"):
		shift = 10
	case strings.HasSuffix(s, "m"):
		shift = 20
	case strings.HasSuffix(s, "g"):
		shift = 30
	}
	if shift > 0 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)>>shift {
		return 0, false
	}
	return n << shift, true
}

// apply sets the edge's limits and logs the notes.
func (l limits) apply(c *edge.Config, log *slog.Logger) {
	c.DialTimeout = l.Dial
	c.ResponseHeaderTimeout = l.Header
	c.ReadTimeout = l.Read
	c.WriteTimeout = l.Write
	c.IdleTimeout = l.Idle
	c.ShutdownTimeout = l.Grace
	c.KeepUnderscoreHeaders = l.KeepUnderscores
	c.MaxBodySize = l.MaxBody
	c.MaxFails, c.FailTimeout = l.MaxFails, l.FailTimeout
	for _, n := range l.notes {
		log.Warn(n)
	}
}
