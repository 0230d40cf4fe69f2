package consul

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"
)

// reader is the narrow view of the Consul HTTP API the provider needs: two
// blocking queries to learn what changed, and one read per changed service.
type reader interface {
	// services is /v1/catalog/services: every service name and its tags.
	services(ctx context.Context, index uint64) (map[string][]string, meta, error)
	// checks is /v1/health/state/any: every check of every node.
	checks(ctx context.Context, index uint64) (api.HealthChecks, meta, error)
	// instances is /v1/health/service/<name>: the service's instances with
	// their checks, not only the passing ones (the provider decides).
	instances(ctx context.Context, name string) ([]instance, meta, error)
}

// meta is what a read says besides its result.
type meta struct {
	index    uint64 // X-Consul-Index
	filtered bool   // X-Consul-Results-Filtered-By-ACLs
}

// apiReader is reader over the official client, github.com/hashicorp/consul/api.
type apiReader struct {
	c       *api.Client
	wait    time.Duration
	timeout time.Duration
	stale   bool
}

func newReader(cfg Config) (*apiReader, error) {
	scheme, host, err := splitEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		Proxy:               nil, // the agent is local or on the cluster network
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout: 5 * time.Second,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
	}
	if scheme == "https" && cfg.TLS != nil {
		tr.TLSClientConfig = cfg.TLS.Clone()
	}
	c, err := api.NewClient(&api.Config{
		Address:    host,
		Scheme:     scheme,
		Datacenter: cfg.Datacenter,
		Token:      cfg.Token,
		HttpClient: &http.Client{Transport: tr},
	})
	if err != nil {
		return nil, fmt.Errorf("consul: %w", err)
	}
	return &apiReader{c: c, wait: cfg.Wait, timeout: cfg.Timeout, stale: cfg.Stale}, nil
}

// query returns the options of one read: blocking when index > 0, bounded
// by ctx either way (the wait plus a margin for a blocking read, Consul
// adds up to wait/16 of jitter).
func (r *apiReader) query(ctx context.Context, index uint64) (*api.QueryOptions, context.CancelFunc) {
	limit := r.timeout
	q := &api.QueryOptions{AllowStale: r.stale}
	if index > 0 {
		q.WaitIndex, q.WaitTime = index, r.wait
		limit = r.wait + r.wait/16 + r.timeout
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	return q.WithContext(ctx), cancel
}

func (r *apiReader) services(ctx context.Context, index uint64) (map[string][]string, meta, error) {
	q, cancel := r.query(ctx, index)
	defer cancel()
	m, qm, err := r.c.Catalog().Services(q)
	if err != nil {
		return nil, meta{}, err
	}
	return m, meta{index: qm.LastIndex, filtered: qm.ResultsFilteredByACLs}, nil
}

func (r *apiReader) checks(ctx context.Context, index uint64) (api.HealthChecks, meta, error) {
	q, cancel := r.query(ctx, index)
	defer cancel()
	hc, qm, err := r.c.Health().State(api.HealthAny, q)
	if err != nil {
		return nil, meta{}, err
	}
	return hc, meta{index: qm.LastIndex, filtered: qm.ResultsFilteredByACLs}, nil
}

func (r *apiReader) instances(ctx context.Context, name string) ([]instance, meta, error) {
	q, cancel := r.query(ctx, 0)
	defer cancel()
	entries, qm, err := r.c.Health().Service(name, "", false, q)
	if err != nil {
		return nil, meta{}, err
	}
	out := make([]instance, 0, len(entries))
	for _, e := range entries {
		if e.Service == nil || e.Node == nil {
			continue
		}
		out = append(out, instance{
			ID: e.Service.ID, Node: e.Node.Node,
			Address: e.Service.Address, NodeAddress: e.Node.Address,
			Port: e.Service.Port, Tags: e.Service.Tags,
			State: e.Checks.AggregatedStatus(),
		})
	}
	return out, meta{index: qm.LastIndex, filtered: qm.ResultsFilteredByACLs}, nil
}

// describe turns a read's error into plain words for the status and the
// log. A 403 names the setting the token came from, never the token.
func describe(cfg Config, what string, err error) error {
	var se api.StatusError
	switch {
	case errors.As(err, &se) && se.Code == http.StatusForbidden:
		return fmt.Errorf("consul refused the ACL token%s reading %s (403 %s): it needs service:read and node:read on what the edge routes",
			tokenFrom(cfg), what, strings.TrimSpace(se.Body))
	case errors.As(err, &se):
		return fmt.Errorf("consul answered %d reading %s: %s", se.Code, what, strings.TrimSpace(se.Body))
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("consul agent at %s did not answer reading %s in time", cfg.Endpoint, what)
	}
	return fmt.Errorf("consul agent at %s is unreachable reading %s: %w", cfg.Endpoint, what, err)
}

// errACLFiltered is the status when the token may read nothing at all:
// Consul answers 200 with an empty, ACL-filtered catalog rather than 403.
func errACLFiltered(cfg Config) error {
	return fmt.Errorf("the ACL token%s may not read any service: consul returned an empty catalog filtered by ACLs; "+
		"give it service:read and node:read (e.g. service_prefix \"\" { policy = \"read\" } node_prefix \"\" { policy = \"read\" })", tokenFrom(cfg))
}

func tokenFrom(cfg Config) string {
	switch {
	case cfg.Token == "":
		return " (none configured)"
	case cfg.TokenSource != "":
		return " from " + cfg.TokenSource
	}
	return ""
}

// Probe reads the catalog and the checks once, as `edge check --online`
// does: nil when the agent answers and the token may read services,
// otherwise the error in the words the status would use.
func Probe(ctx context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	r, err := newReader(cfg)
	if err != nil {
		return err
	}
	m, meta, err := r.services(ctx, 0)
	if err != nil {
		return describe(cfg, "the catalog (/v1/catalog/services)", err)
	}
	if meta.filtered && len(m) == 0 {
		return errACLFiltered(cfg)
	}
	if _, _, err := r.checks(ctx, 0); err != nil {
		return describe(cfg, "the checks (/v1/health/state/any)", err)
	}
	return nil
}
