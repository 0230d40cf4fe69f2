package acme

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/certmagic"
	"github.com/mholt/acmez/v3/acme"
	"go.uber.org/zap"
)

func TestInvalidName(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"app.example.com":                "",
		"xn--bcher-kva.de":               "",
		"a-b.c-d.example":                "",
		"":                               "empty",
		"192.168.1.10":                   "IP address",
		"::1":                            "IP address",
		"localhost":                      "localhost",
		"web.localhost":                  "localhost",
		"intranet":                       "no dot",
		"my_app.example.com":             "underscores",
		"-bad.example.com":               "not a valid DNS name",
		"a..example.com":                 "not a valid DNS name",
		"bücher.de":                      "punycode",
		strings.Repeat("a", 64) + ".com": "not a valid DNS name",
	} {
		got := invalidName(name)
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("invalidName(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"App.Example.COM.":     "app.example.com",
		" app.example.com:443": "app.example.com",
		"[::1]:8443":           "::1",
	} {
		if got := normalize(in); got != want {
			t.Errorf("normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPlainError(t *testing.T) {
	t.Parallel()
	problem := acme.Problem{
		Type:   "urn:ietf:params:acme:error:rateLimited",
		Detail: "too many certificates already issued for this exact set of identifiers",
	}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("[a.example.com] Obtain: %w", problem), "rate limited by the CA: too many certificates"},
		{acme.Problem{Type: "urn:ietf:params:acme:error:weird"}, "the CA refused the request (weird): no details given"},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), "timed out"},
		{errors.New("[a.example.com] a.example.com: storage is full"), "storage is full"},
	} {
		if got := plainError(tc.err); !strings.HasPrefix(got, tc.want) {
			t.Errorf("plainError(%v) = %q, want prefix %q", tc.err, got, tc.want)
		}
	}
}

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	if got := retryDelay(context.Background(), 1); got != time.Minute {
		t.Errorf("first background failure: %v, want 1m", got)
	}
	if got := retryDelay(context.Background(), 1000); got != 6*time.Hour {
		t.Errorf("after many failures: %v, want the 6h cap", got)
	}
	attempts := 3
	ctx := context.WithValue(context.Background(), certmagic.AttemptsCtxKey, &attempts)
	if got := retryDelay(ctx, 1); got != 5*time.Minute {
		t.Errorf("fourth obtain attempt: %v, want 5m", got)
	}
}

func TestZapToSlog(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := zapToSlog(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	l.Named("obtain").With(zap.String("identifier", "a.example.com")).
		Info("certificate obtained", zap.Duration("took", time.Second), zap.Error(errors.New("none")))
	l.Debug("hidden")
	out := buf.String()
	for _, want := range []string{"level=INFO", `msg="certificate obtained"`, "logger=obtain", "identifier=a.example.com", "took=1s", "error=none"} {
		if !strings.Contains(out, want) {
			t.Errorf("log line %q lacks %q", out, want)
		}
	}
	if strings.Contains(out, "hidden") {
		t.Errorf("debug entry passed an info-level handler: %q", out)
	}
}
