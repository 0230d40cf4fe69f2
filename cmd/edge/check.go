package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rancher-edge/edge/certs"
	"github.com/rancher-edge/edge/discovery"
	"github.com/rancher-edge/edge/discovery/file"
	"github.com/rancher-edge/edge/discovery/labels"
	"github.com/rancher-edge/edge/edge"
	"github.com/rancher-edge/edge/route"
)

// check validates the configuration, loads the certificates and the routes
// the edge would serve, prints them and returns an error when anything is
// wrong. It binds no port and never prints a secret.
func check(ctx context.Context, e env, w io.Writer) error { return checkWith(ctx, e, w, false) }

// checkWith is check; online also contacts Rancher, the Consul agent and
// the ACME CA (`edge check --online`).
func checkWith(ctx context.Context, e env, w io.Writer, online bool) error {
	cfg, err := loadConfig(e)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", indent(err))
	}
	var errs []error
	fmt.Fprintf(w, "listeners: http %s", net.JoinHostPort(cfg.Bind, strconv.Itoa(cfg.HTTPPort)))
	if cfg.HTTPSEnable {
		fmt.Fprintf(w, " (redirects to https, %d), https %s\n", cfg.RedirectCode, net.JoinHostPort(cfg.Bind, strconv.Itoa(cfg.HTTPSPort)))
	} else {
		fmt.Fprintln(w, " (serves routes; HTTPS off)")
	}
	if cfg.Admin.Port != 0 {
		fmt.Fprintf(w, "admin: :%d (%s)\n", cfg.Admin.Port, adminSummary(cfg.Admin))
	}

	if cfg.HTTPSEnable && len(cfg.Pairs) > 0 {
		ccfg := certs.Config{Pairs: cfg.Pairs, Default: cfg.DefaultCert, Resolver: cfg.Resolver}
		// Inspect lists every pair, the broken ones as failed, so the
		// table shows what works next to what does not. The errors
		// themselves come from build below, as serve would meet them.
		fmt.Fprintln(w, "\ncertificates:")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  NAMES\tSTATE\tNOT AFTER\tDEFAULT\tORIGIN")
		for _, st := range certs.Inspect(ccfg) {
			notAfter := "-"
			if !st.NotAfter.IsZero() {
				notAfter = st.NotAfter.Format(time.DateOnly)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%v\t%s\n", strings.Join(st.Names, ","), st.State, notAfter, st.Default, st.Origin)
		}
		tw.Flush()
	} else if cfg.HTTPSEnable {
		fmt.Fprintln(w, "\ncertificates: none configured; a self-signed certificate would answer HTTPS")
	}

	// The same construction serve runs, binding nothing: what it refuses,
	// check reports.
	var providers []discovery.Provider
	if p, err := build(cfg, slog.New(slog.DiscardHandler), io.Discard, true); err != nil {
		errs = append(errs, unjoin(err)...)
	} else {
		defer p.close()
		providers = p.providers
	}

	srv, err := edge.New(edge.Config{HTTPAddr: ":0", ReadFile: labelFileReader(cfg.Resolver), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	defer srv.Close()
	if cfg.File != "" {
		snap, err := file.Load(cfg.File, labels.Options{Provider: "file", ExposedByDefault: true})
		if err != nil {
			errs = append(errs, fmt.Errorf("TRAEFIK_FILE: %w", err))
		} else {
			srv.Update(snap)
		}
	}
	if cfg.Metadata != nil {
		fmt.Fprintf(w, "\n%s\n", describeMetadata(cfg.Metadata))
		if snap, ok := checkRancher(ctx, w, providers); ok {
			srv.Update(snap)
		}
	}
	if cfg.Rancher != nil {
		fmt.Fprintf(w, "\nrancher: %s (endpoint from %s, keys from %s)\n",
			redactEndpoint(cfg.Rancher.Endpoint), cfg.Rancher.EndpointSource, cfg.Rancher.KeySource)
		if snap, ok := checkRancher(ctx, w, providers); ok {
			srv.Update(snap)
		}
	}
	if cfg.Consul != nil {
		checkConsul(w, cfg.Consul, cfg.Constraints)
	}
	t := srv.Table()
	printTable(w, t)
	for _, p := range t.Problems() {
		if p.Severity == route.Error {
			errs = append(errs, errors.New(p.String()))
		}
	}
	printDropIn(w, e, cfg)
	if online && len(errs) == 0 {
		errs = append(errs, checkOnline(ctx, cfg, w)...)
	}
	if len(errs) > 0 {
		return fmt.Errorf("check failed:\n%w", indent(errors.Join(errs...)))
	}
	fmt.Fprintln(w, "\nconfiguration OK")
	return nil
}

// redactEndpoint drops the user:password a URL may carry, as the
// dashboard does; an unparsable value that holds an @ is not shown.
func redactEndpoint(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		if strings.Contains(s, "@") {
			return "(address hidden: it may hold credentials)"
		}
		return s
	}
	if u.User != nil {
		u.User = nil
		return u.String() + " (credentials removed)"
	}
	return s
}

// printTable writes the routing table in match order.
func printTable(w io.Writer, t *edge.Table) {
	fmt.Fprintf(w, "\nroutes (%d), in match order:\n", len(t.Routes()))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  PRIORITY\tRULE\tSOURCE\tLB\tMIDDLEWARES\tBACKENDS")
	for _, rt := range t.Routes() {
		var bs []string
		for _, b := range rt.Backends() {
			bs = append(bs, fmt.Sprintf("%s(w=%d)", b.URL, b.Weight))
		}
		if len(bs) == 0 {
			bs = []string{"none: answers 503"}
		}
		var mws []string
		for _, m := range rt.Middlewares() {
			mws = append(mws, m.Kind)
		}
		mw := strings.Join(mws, ",")
		if mw == "" {
			mw = "-"
		}
		lb := rt.Method()
		if rt.Service.LoadBalancer.Sticky {
			lb += "+sticky"
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\n", rt.Priority(), rt.Service.Rule, rt.Service.Source, lb, mw, strings.Join(bs, " "))
	}
	tw.Flush()
	if ps := t.Problems(); len(ps) > 0 {
		fmt.Fprintf(w, "\nproblems (%d):\n", len(ps))
		for _, p := range ps {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
}
