package acme

import (
	"context"
	"errors"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/caddyserver/certmagic"
	"github.com/mholt/acmez/v3/acme"
)

// onEvent records certmagic's events per name for the status page. It is
// called synchronously on certmagic's paths (some during handshakes), so
// it only updates memory. It never aborts anything.
func (m *Manager) onEvent(ctx context.Context, event string, data map[string]any) error {
	now := m.cfg.Now()
	switch event {
	case "cert_obtaining":
		m.update(identifier(data), func(e *entry) { e.obtaining = true })
	case "cert_obtained":
		m.update(identifier(data), func(e *entry) {
			e.obtaining, e.managed = false, true
			e.loadedAt = now
			e.lastError, e.lastErrorAt = "", time.Time{}
			e.failures, e.nextRetry = 0, time.Time{}
		})
	case "cert_failed":
		err, _ := data["error"].(error)
		if err == nil {
			err = errors.New("unknown error")
		}
		m.update(identifier(data), func(e *entry) {
			e.obtaining = false
			if errors.Is(err, context.Canceled) {
				return // stopped on purpose (release or shutdown)
			}
			e.failures++
			e.lastError = plainError(err)
			e.lastErrorAt = now
			e.nextRetry = now.Add(retryDelay(ctx, e.failures))
		})
	case "cached_managed_cert":
		sans, _ := data["sans"].([]string)
		for _, name := range sans {
			m.update(name, func(e *entry) {
				e.managed = true
				e.loadedAt = now
			})
		}
	case "cert_ocsp_revoked":
		subjects, _ := data["subjects"].([]string)
		for _, name := range subjects {
			m.update(name, func(e *entry) {
				e.lastError = "the certificate was revoked; renewing it"
				e.lastErrorAt = now
			})
		}
	}
	return nil
}

func identifier(data map[string]any) string {
	id, _ := data["identifier"].(string)
	return id
}

// update applies f to name's entry. Names the manager did not ask for
// can only come from on-demand issuance; they get an entry so that they
// show up and are released when their route goes.
func (m *Manager) update(name string, f func(*entry)) {
	name = normalize(name)
	if name == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.names[name]
	if e == nil {
		if !m.cfg.OnDemand {
			return
		}
		e = &entry{name: name, origin: originOnDemand}
		m.names[name] = e
	}
	f(e)
}

// retryDelay is how long certmagic waits before the next attempt, from
// a copy of its unexported schedule (v0.25.6 async.go retryIntervals),
// which both obtain retries and the renewal backoff follow. Obtain retries
// carry their attempt counter in ctx; background renewals make one
// attempt per failure, counted in the entry.
func retryDelay(ctx context.Context, failures int) time.Duration {
	schedule := [...]time.Duration{
		1 * time.Minute, 2 * time.Minute, 2 * time.Minute, 5 * time.Minute,
		10 * time.Minute, 10 * time.Minute, 10 * time.Minute,
		20 * time.Minute, 20 * time.Minute, 20 * time.Minute, 20 * time.Minute,
		30 * time.Minute, 30 * time.Minute, 30 * time.Minute, 30 * time.Minute, 30 * time.Minute, 30 * time.Minute,
		1 * time.Hour, 1 * time.Hour, 1 * time.Hour,
		2 * time.Hour, 2 * time.Hour,
		3 * time.Hour, 3 * time.Hour,
		6 * time.Hour,
	}
	i := failures - 1
	if n, ok := ctx.Value(certmagic.AttemptsCtxKey).(*int); ok && n != nil {
		i = *n
	}
	return schedule[min(max(i, 0), len(schedule)-1)]
}

// problemWords names the ACME problem types (RFC 8555 §6.7) an operator
// can act on.
func problemWords(kind string) string {
	switch kind {
	case "connection":
		return "the CA could not connect to this server to validate the name"
	case "dns":
		return "the CA's DNS lookup for the name failed"
	case "unauthorized", "incorrectResponse":
		return "the CA did not get the expected challenge answer"
	case "tls":
		return "the CA hit a TLS problem while validating"
	case "caa":
		return "a CAA record forbids this CA"
	case "rateLimited":
		return "rate limited by the CA"
	case "rejectedIdentifier":
		return "the CA does not issue certificates for this name"
	case "externalAccountRequired":
		return "the CA requires External Account Binding (EAB)"
	}
	return "the CA refused the request (" + kind + ")"
}

// namePrefix matches the "[name] " and "name: " prefixes that certmagic
// and acmez stack in front of errors.
var namePrefix = regexp.MustCompile(`^(\[[^\]]*\]\s*|[a-z0-9*.-]+:\s+)`)

// plainError turns an obtain error into words for the status page: the
// CA's own explanation when it gave one, else the innermost cause.
func plainError(err error) string {
	var p acme.Problem
	if errors.As(err, &p) {
		detail := p.Detail
		if detail == "" {
			detail = p.Title
		}
		for _, sub := range p.Subproblems {
			if sub.Detail != "" && !strings.Contains(detail, sub.Detail) {
				detail += "; " + sub.Detail
			}
		}
		if detail == "" {
			detail = "no details given"
		}
		return problemWords(strings.TrimPrefix(p.Type, "urn:ietf:params:acme:error:")) + ": " + detail
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return "network error: " + opErr.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	msg := err.Error()
	for {
		trimmed := namePrefix.ReplaceAllString(msg, "")
		if trimmed == msg {
			break
		}
		msg = trimmed
	}
	return msg
}
