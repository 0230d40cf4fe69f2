package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"github.com/rancher-edge/edge/internal/gcpace"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// gcPacing is the collector's pacing (internal/gcpace): the heap may
// grow 8 MiB past the live heap, about what a loaded edge's connections
// keep live, so that a large routing table is not doubled as headroom for
// them; the collector then runs at most four times as often as Go's
// default would (a floor of 25 percent). A first Rancher sync costs the
// same CPU with it. Measured in docs/performance.md, "10,000 routes in
// 60 MiB".
var gcPacing = gcpace.Policy{Headroom: 8 << 20, Floor: 25}

func main() {
	// The edge serves no heap profiles; recording them keeps buckets of
	// allocation stacks.
	runtime.MemProfileRate = 0
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		gcpace.Start(gcPacing)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := runEnviron(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) && !isReported(err) {
			fmt.Fprintln(os.Stderr, "edge:", err)
		}
		os.Exit(1)
	}
}

// runEnviron is run with the whole environment, which lets the edge warn
// about TRAEFIK_* variables it does not know.
func runEnviron(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return runEnv(ctx, args, env{getenv: func(k string) string { return m[k] }, environ: environ}, stdout, stderr)
}

// run is the whole program, minus the process: tests call it directly.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runEnv(ctx, args, env{getenv: getenv}, stdout, stderr)
}

func runEnv(ctx context.Context, args []string, base env, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "version":
		fmt.Fprintln(stdout, "edge", version)
		return nil
	case "help":
		if len(args) > 0 && args[0] == "settings" {
			writeSettings(stdout)
			return nil
		}
		if len(args) > 0 && args[0] == "migrating" {
			writeMigrating(stdout)
			return nil
		}
		_, _, err := parseFlags("edge", []string{"-h"}, stdout)
		return err
	case "serve", "check", "demo":
	default:
		return fmt.Errorf("unknown command %q (want serve, check, demo, version or help)", cmd)
	}
	online := false
	if cmd == "check" {
		args, online = takeOnline(args)
	}
	flags, rest, err := parseFlags("edge "+cmd, args, stderr)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("unexpected arguments %q", rest)
	}
	e := base
	e.flags = flags
	switch cmd {
	case "check":
		return checkWith(ctx, e, stdout, online)
	case "demo":
		return demo(ctx, e, stdout, stderr)
	}
	cfg, err := loadConfig(e)
	if err != nil {
		return fatal(fallbackLogger(e, stderr), err)
	}
	return serve(ctx, cfg, e, stderr)
}

// indent prefixes every line of a joined error so a list of problems reads
// as a list.
func indent(err error) error {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = fmt.Errorf("  - %w", e)
	}
	return errors.Join(out...)
}
