package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// reportedError is an error serve has already logged: main exits with it
// without printing it a second time.
type reportedError struct{ error }

func (e reportedError) Unwrap() error { return e.error }

// fatal logs every problem of err once, each as its own record in the
// log's format, and returns err marked as reported.
func fatal(logger *slog.Logger, err error) error {
	for _, e := range flatten(err) {
		logger.Error("edge cannot run", "problem", e.Error())
	}
	return reportedError{err}
}

// flatten lists the leaves of joined errors, so each problem is one line.
func flatten(err error) []error {
	var out []error
	for _, e := range unjoin(err) {
		if _, ok := e.(interface{ Unwrap() []error }); ok {
			out = append(out, flatten(e)...)
			continue
		}
		out = append(out, e)
	}
	return out
}

// fallbackLogger is the logger for problems found before the
// configuration is complete: stderr, the format the user asked for when
// it can be read.
func fallbackLogger(e env, stderr io.Writer) *slog.Logger {
	format := "text"
	if strings.EqualFold(strings.TrimSpace(e.get("TRAEFIK_LOG_FORMAT")), "json") {
		format = "json"
	}
	return newLogger(stderr, slog.LevelInfo, format)
}

// openLogs returns the application logger: stderr, or TRAEFIK_LOG_FILE.
func openLogs(cfg config, stderr io.Writer) (*slog.Logger, func(), error) {
	if cfg.LogFile == "" {
		return newLogger(stderr, cfg.LogLevel, cfg.LogFormat), func() {}, nil
	}
	f, err := os.OpenFile(cfg.LogFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, nil, fmt.Errorf("TRAEFIK_LOG_FILE: %w", err)
	}
	return newLogger(f, cfg.LogLevel, cfg.LogFormat), func() { f.Close() }, nil
}

// openAccessLog returns where access log lines go: stdout, or
// TRAEFIK_ACCESS_FILE.
func openAccessLog(cfg config) (io.Writer, func(), error) {
	if cfg.AccessFile == "" {
		return os.Stdout, func() {}, nil
	}
	f, err := os.OpenFile(cfg.AccessFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, nil, fmt.Errorf("TRAEFIK_ACCESS_FILE: %w", err)
	}
	return f, func() { f.Close() }, nil
}

// isReported reports whether err was already logged by serve.
func isReported(err error) bool {
	var r reportedError
	return errors.As(err, &r)
}
