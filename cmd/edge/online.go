package main

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/rancher-edge/edge/certs/acme"
	"github.com/rancher-edge/edge/discovery/consul"
	"github.com/rancher-edge/edge/discovery/rancher"
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
	if cfg.Rancher == nil && !cfg.ACME.Enable && cfg.Consul == nil {
		fmt.Fprintln(w, "  nothing to contact (no Rancher API, no ACME)")
	}
	return errs
}

func report(w io.Writer, what string, err error, errs *[]error) {
	if err != nil {
		fmt.Fprintf(w, "  %s: FAILED\n", what)
		*errs = append(*errs, err)
		return
	}
	fmt.Fprintf(w, "  %s: OK\n", what)
}
