package rancher

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	rancher "github.com/rancher/go-rancher/v2"
)

// lister is what the provider needs from Rancher: whole collections, every
// page, already reduced to the fields discovery reads. Keeping it this
// narrow lets the go-rancher types stay in this file.
type lister interface {
	Stacks(ctx context.Context) ([]rawStack, error)
	Services(ctx context.Context) ([]rawService, error)
	Containers(ctx context.Context) ([]rawContainer, error)
	// SubscribeURL is the websocket URL for resource.change events.
	SubscribeURL() string
}

// goRancher is a [lister] over github.com/rancher/go-rancher/v2.
type goRancher struct {
	c         *rancher.RancherClient
	pages     *pager
	subscribe string
}

// defaultPageLimit is the page size asked for: the 1.6 documentation's
// maximum, under Cattle's real one (3000), so that even 6,000 containers
// take a handful of requests.
const defaultPageLimit = 1000

// connect bootstraps the go-rancher client. With an endpoint that names no
// project it asks which projects the key sees and scopes to the only one:
// an environment key sees its own, an account key possibly several, and
// an account key's unscoped URLs read its user account, which owns no
// services (reference rancher-api.md §1.1–1.2).
func connect(cfg Config, pageLimit int) (*goRancher, error) {
	endpoint, project := endpointForClient(cfg.Endpoint)
	c, err := newClient(cfg, endpoint)
	if err != nil {
		return nil, err
	}
	if project == "" {
		projects, err := c.Project.List(nil)
		if err != nil {
			return nil, describe(cfg, fmt.Errorf("listing environments: %w", err))
		}
		switch n := len(projects.Data); {
		case n == 0:
			return nil, fmt.Errorf("the API key%s sees no Rancher environment", from(cfg.KeySource))
		case n > 1:
			ids := make([]string, n)
			for i, p := range projects.Data {
				ids[i] = p.Id + " (" + p.Name + ")"
			}
			return nil, fmt.Errorf("the API key%s sees %d environments (%s), so it is an account key: set the endpoint to …/v2-beta/projects/<id> to choose one",
				from(cfg.KeySource), n, strings.Join(ids, ", "))
		}
		self := projects.Data[0].Links["self"]
		if self == "" {
			return nil, errors.New("rancher's project has no self link")
		}
		if c, err = newClient(cfg, self+"/schemas"); err != nil {
			return nil, err
		}
	}
	sub, ok := c.GetTypes()["subscribe"]
	if !ok || sub.Links["collection"] == "" {
		return nil, errors.New("rancher's schemas have no subscribe collection")
	}
	ws, err := url.Parse(sub.Links["collection"])
	if err != nil {
		return nil, fmt.Errorf("parsing subscribe link: %w", err)
	}
	ws.Scheme = strings.Replace(ws.Scheme, "http", "ws", 1)
	ws.RawQuery = "eventNames=resource.change"
	// Pages are megabytes: reading them 64 KiB per system call rather
	// than net/http's 4 KiB takes a tenth of the calls.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ReadBufferSize = 64 << 10
	pages := &pager{hc: &http.Client{Transport: tr, Timeout: cfg.Timeout}, access: cfg.AccessKey, secret: cfg.SecretKey, limit: pageLimit}
	return &goRancher{c: c, pages: pages, subscribe: ws.String()}, nil
}

func newClient(cfg Config, endpoint string) (*rancher.RancherClient, error) {
	c, err := rancher.NewRancherClient(&rancher.ClientOpts{
		Url: endpoint, AccessKey: cfg.AccessKey, SecretKey: cfg.SecretKey, Timeout: cfg.Timeout,
	})
	if err != nil {
		return nil, describe(cfg, fmt.Errorf("connecting to %s: %w", endpoint, err))
	}
	return c, nil
}

// describe puts authentication failures and timeouts in plain words; the
// original message is kept behind it for the details. Neither holds the
// key.
func describe(cfg Config, err error) error {
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return fmt.Errorf("rancher did not answer within %v: %w", cfg.Timeout, err)
	}
	var status int
	if apiErr, ok := errors.AsType[*rancher.ApiError](err); ok {
		status = apiErr.StatusCode // from go-rancher: connecting, schemas
	} else if se, ok := errors.AsType[*statusError](err); ok {
		status = se.code // from a collection's page
	}
	switch status {
	case http.StatusUnauthorized:
		return fmt.Errorf("rancher rejected the API key%s (401): the access key or secret key is wrong, or the key was deleted or disabled: %w", from(cfg.KeySource), err)
	case http.StatusForbidden:
		return fmt.Errorf("the API key%s lacks access to this Rancher environment (403): use a key of this environment or an account key that is a member: %w", from(cfg.KeySource), err)
	}
	return err
}

func (g *goRancher) SubscribeURL() string { return g.subscribe }

// The wire types below hold only what discovery reads. go-rancher's own
// Container has about a hundred fields; each wire type's decoder
// (wiredecode.go) skips every other one as it reads.

type wireStack struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	State  string `json:"state"`
	System bool   `json:"system"`
}

type wireService struct {
	ID              string            `json:"id"`
	StackID         string            `json:"stackId"`
	Name            string            `json:"name"`
	Kind            string            `json:"kind"`
	State           string            `json:"state"`
	HealthState     string            `json:"healthState"`
	System          bool              `json:"system"`
	CreatedTS       int64             `json:"createdTS"` // milliseconds since the epoch
	LaunchConfig    *wireLaunchConfig `json:"launchConfig"`
	PublicEndpoints []struct {
		IPAddress string `json:"ipAddress"`
	} `json:"publicEndpoints"`
}

type wireLaunchConfig struct {
	Labels map[string]any `json:"labels"`
}

type wireContainer struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	State            string `json:"state"`
	HealthState      string `json:"healthState"`
	PrimaryIPAddress string `json:"primaryIpAddress"`
	NetworkMode      string `json:"networkMode"`
	Labels           struct {
		StackService string `json:"io.rancher.stack_service.name"`
	} `json:"labels"`
}

func (s *wireStack) raw() rawStack {
	return rawStack{ID: s.ID, Name: s.Name, State: s.State, System: s.System}
}

func (s *wireService) raw() rawService {
	r := rawService{
		ID: s.ID, StackID: s.StackID, Name: s.Name, Kind: s.Kind,
		State: s.State, Health: s.HealthState, System: s.System,
	}
	if s.CreatedTS > 0 {
		r.Created = time.UnixMilli(s.CreatedTS)
	}
	if s.LaunchConfig != nil {
		r.Labels = stringLabels(s.LaunchConfig.Labels)
	}
	for _, ep := range s.PublicEndpoints {
		r.PublicIPs = append(r.PublicIPs, ep.IPAddress)
	}
	return r
}

func (c *wireContainer) raw() rawContainer {
	return rawContainer{
		ID: c.ID, Name: c.Name, State: c.State, Health: c.HealthState,
		IP: c.PrimaryIPAddress, NetworkMode: c.NetworkMode, StackService: c.Labels.StackService,
	}
}

// list reads every page of the collection of schema.
func list[T any](ctx context.Context, g *goRancher, schema string, each func(*T)) error {
	link := g.c.GetTypes()[schema].Links["collection"]
	if link == "" {
		return fmt.Errorf("rancher's schemas have no %s collection", schema)
	}
	return collection(ctx, g.pages, link, each)
}

// Stacks reads every page of the stacks collection.
func (g *goRancher) Stacks(ctx context.Context) ([]rawStack, error) {
	var out []rawStack
	err := list(ctx, g, "stack", func(s *wireStack) { out = append(out, s.raw()) })
	if err != nil {
		return nil, fmt.Errorf("listing stacks: %w", err)
	}
	return out, nil
}

// Services reads every page of the services collection, which holds every
// kind of service.
func (g *goRancher) Services(ctx context.Context) ([]rawService, error) {
	var out []rawService
	err := list(ctx, g, "service", func(s *wireService) { out = append(out, s.raw()) })
	if err != nil {
		return nil, fmt.Errorf("listing services: %w", err)
	}
	return out, nil
}

// Containers reads every page of the containers collection.
func (g *goRancher) Containers(ctx context.Context) ([]rawContainer, error) {
	var out []rawContainer
	err := list(ctx, g, "container", func(c *wireContainer) { out = append(out, c.raw()) })
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	return out, nil
}

// stringLabels converts launch config labels; Rancher labels are strings,
// anything else is rendered as text rather than dropped.
func stringLabels(in map[string]any) map[string]string {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		switch v := v.(type) {
		case string:
			out[k] = v
		case nil:
			out[k] = ""
		default:
			out[k] = fmt.Sprint(v)
		}
	}
	return out
}

// readAll reads the three collections.
func readAll(ctx context.Context, l lister) (raw, error) {
	start := time.Now()
	var r raw
	var err error
	if r.Stacks, err = l.Stacks(ctx); err != nil {
		return raw{}, err
	}
	if r.Services, err = l.Services(ctx); err != nil {
		return raw{}, err
	}
	if r.Containers, err = l.Containers(ctx); err != nil {
		return raw{}, err
	}
	r.Took = time.Since(start)
	return r, nil
}
