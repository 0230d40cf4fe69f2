package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/rancher-edge/edge/certs/acme"
	"github.com/rancher-edge/edge/discovery/consul"
	"github.com/rancher-edge/edge/discovery/kubernetes"
	"github.com/rancher-edge/edge/discovery/rancher"
	"github.com/rancher-edge/edge/route"
)

// onlineFlag makes `edge check` also contact what the edge would use at
// run time; it is not a setting, so it is taken out of the arguments
// before the settings' flags are parsed.
const onlineFlag = "--online"

// takeOnline removes --online (or -online) from args.
func takeOnline(args []string) ([]string, bool) {
	i := slices.IndexFunc(args, func(a string) bool { return a == onlineFlag || a == "-online" })
	if i < 0 {
		return args, false
	}
	return slices.Delete(slices.Clone(args), i, i+1), true
}

// checkOnline contacts Rancher with the configured key and the ACME CA's
// directory, and reports what stops them in plain words. It prints one
// line per thing contacted.
func checkOnline(ctx context.Context, cfg config, w io.Writer) []error {
	var errs []error
	fmt.Fprintln(w, "\nonline:")
	if rc := cfg.Rancher; rc != nil {
		err := rancher.Probe(rancher.Config{
			Endpoint: rc.Endpoint, AccessKey: string(rc.AccessKey.Bytes()), SecretKey: string(rc.SecretKey.Bytes()),
			KeySource: rc.KeySource, SecretKeySource: rc.SecretKeySource, RuleOrder: rc.RuleOrder, Constraints: rc.Constraints,
		})
		report(w, "rancher "+redactEndpoint(rc.Endpoint), err, &errs)
	}
	if cfg.ACME.Enable {
		var root []byte
		if !cfg.ACME.CARoot.IsZero() {
			root = cfg.ACME.CARoot.Bytes()
		}
		report(w, "ACME directory "+cfg.ACME.CA, acme.ProbeDirectory(ctx, cfg.ACME.CA, root), &errs)
		if ks := cfg.ACME.Kube; ks != nil {
			report(w, "ACME storage kubernetes://"+ks.Store.Namespace, probeKubeStore(ctx, ks), &errs)
		}
	}
	if cc := cfg.Consul; cc != nil {
		report(w, "consul "+redactEndpoint(cc.Endpoint), consul.Probe(ctx, cc.providerConfig(cfg.Constraints, nil)), &errs)
	}
	if cfg.Kubernetes != nil {
		checkIngresses(ctx, cfg, w, &errs)
	}
	if kc := cfg.Kubernetes; kc != nil && kc.Gateway {
		checkGatewayAPI(ctx, cfg, w, &errs)
	}
	if cfg.Rancher == nil && !cfg.ACME.Enable && cfg.Consul == nil && cfg.Kubernetes == nil {
		fmt.Fprintln(w, "  nothing to contact (no Rancher API, no ACME)")
	}
	return errs
}

// checkIngresses lists, once, what the Kubernetes provider would serve:
// every Ingress with its class and hosts, then every problem (annotations
// included), as the dashboard would show them. A problem that skips a
// path (an error) fails the check, as it does for labels.
func checkIngresses(ctx context.Context, cfg config, w io.Writer, errs *[]error) {
	kcfg, err := kubernetesProviderConfig(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		report(w, "kubernetes apiserver", err, errs)
		return
	}
	served, snap, err := kubernetes.Check(ctx, kcfg)
	report(w, "kubernetes apiserver "+kcfg.Rest.Host+" ("+kcfg.Source+")", err, errs)
	if err != nil {
		return
	}
	classes := cfg.Kubernetes.IngressClasses
	if len(classes) == 0 {
		classes = []string{kubernetes.DefaultClass}
	}
	fmt.Fprintf(w, "  Ingresses served (%d, classes %s):\n", len(served), strings.Join(classes, ","))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "    INGRESS\tCLASS\tHOSTS\tROUTES\tNOTE")
	for _, s := range served {
		var note []string
		if s.Nginx {
			note = append(note, "ingress-nginx's, taken over in place")
		}
		if s.Canary {
			note = append(note, "canary")
		}
		fmt.Fprintf(tw, "    %s/%s\t%s\t%s\t%d\t%s\n", s.Namespace, s.Name, cmp.Or(s.Class, "(default)"), strings.Join(s.Hosts, ","), s.Routes, strings.Join(note, "; "))
	}
	tw.Flush()
	if len(snap.Problems) > 0 {
		fmt.Fprintf(w, "  Ingress problems (%d):\n", len(snap.Problems))
	}
	for _, p := range snap.Problems {
		fmt.Fprintf(w, "    %s\n", p)
		if p.Severity == route.Error {
			*errs = append(*errs, errors.New(p.String()))
		}
	}
}

// checkGatewayAPI asks the apiserver whether the Gateway API CRDs are
// installed and lists, once, the Gateways the edge would serve and every
// problem of their routes. Missing CRDs are a warning, not a failure: the
// edge serves the Ingresses and turns Gateway API on once they are
// installed. A problem that skips a rule (an error) fails the check, as
// for Ingresses.
func checkGatewayAPI(ctx context.Context, cfg config, w io.Writer, errs *[]error) {
	kcfg, err := kubernetesProviderConfig(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		report(w, "kubernetes apiserver", err, errs)
		return
	}
	gc, err := kubernetes.CheckGateway(ctx, kcfg)
	switch {
	case err != nil:
		report(w, "kubernetes Gateway API ("+kcfg.Rest.Host+")", err, errs)
		return
	case len(gc.Missing) > 0:
		fmt.Fprintf(w, "  kubernetes Gateway API: WARNING: %s not served (%s): Gateway API stays off until its standard-channel CRDs are installed; Ingresses are served\n",
			strings.Join(gc.Missing, ", "), gatewayAPIVersion)
		return
	}
	fmt.Fprintf(w, "  kubernetes Gateway API %s: OK\n", gatewayAPIVersion)
	fmt.Fprintf(w, "  Gateways served (%d, controller %s):\n", len(gc.Gateways), kubernetes.GatewayController)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "    GATEWAY\tCLASS\tLISTENERS PROGRAMMED\tROUTES ATTACHED")
	for _, g := range gc.Gateways {
		fmt.Fprintf(tw, "    %s/%s\t%s\t%d of %d\t%d\n", g.Namespace, g.Name, g.Class, g.Programmed, g.Listeners, g.Routes)
	}
	tw.Flush()
	if len(gc.Snapshot.Problems) > 0 {
		fmt.Fprintf(w, "  Gateway API problems (%d):\n", len(gc.Snapshot.Problems))
	}
	for _, p := range gc.Snapshot.Problems {
		fmt.Fprintf(w, "    %s\n", p)
		if p.Severity == route.Error {
			*errs = append(*errs, errors.New(p.String()))
		}
	}
}

// gatewayAPIVersion is the API group version the edge serves.
const gatewayAPIVersion = "gateway.networking.k8s.io/v1"

func report(w io.Writer, what string, err error, errs *[]error) {
	if err != nil {
		fmt.Fprintf(w, "  %s: FAILED\n", what)
		*errs = append(*errs, err)
		return
	}
	fmt.Fprintf(w, "  %s: OK\n", what)
}
