package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/rancher-edge/edge/certs/acme"
	"github.com/rancher-edge/edge/discovery/consul"
	"github.com/rancher-edge/edge/discovery/kubernetes"
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
	if kc := cfg.Kubernetes; kc != nil && kc.Gateway {
		checkGatewayAPI(w, kc, &errs)
	}
	if cfg.Rancher == nil && !cfg.ACME.Enable && cfg.Consul == nil && cfg.Kubernetes == nil {
		fmt.Fprintln(w, "  nothing to contact (no Rancher API, no ACME)")
	}
	return errs
}

// checkGatewayAPI asks the apiserver whether the Gateway API CRDs are
// installed. Missing CRDs are a warning, not a failure: the edge serves
// the Ingresses and turns Gateway API on once they are installed.
func checkGatewayAPI(w io.Writer, kc *kubernetesConfig, errs *[]error) {
	rc, source, err := kc.rest()
	if err != nil {
		report(w, "kubernetes apiserver", err, errs)
		return
	}
	missing, err := kubernetes.ProbeGateway(rc)
	switch {
	case err != nil:
		report(w, "kubernetes apiserver "+rc.Host+" ("+source+")", err, errs)
	case len(missing) > 0:
		fmt.Fprintf(w, "  kubernetes Gateway API: WARNING: %s not served (%s): Gateway API stays off until its standard-channel CRDs are installed; Ingresses are served\n",
			strings.Join(missing, ", "), gatewayAPIVersion)
	default:
		fmt.Fprintln(w, "  kubernetes Gateway API "+gatewayAPIVersion+": OK")
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
