package metadata

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/rancher-edge/edge/discovery/cattle"
)

// client is the provider's narrow view of rancher-metadata: the current
// version, a wait for the next one, and the stacks.
type client struct {
	base string // <url>/<prefix>
	http *http.Client
}

func newClient(c Config) *client {
	return &client{
		base: c.URL + "/" + c.Prefix,
		// Above maxWait, so that a long poll the server holds for its
		// whole maxWait is not cut short.
		http: &http.Client{Transport: c.Transport, Timeout: c.maxWait() + clientSlack},
	}
}

// get fetches path as JSON into out.
func (c *client) get(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return describe(err, c.http.Timeout)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		if resp.StatusCode == http.StatusNotFound && path == "/stacks" {
			return fmt.Errorf("GET %s: HTTP 404: this rancher-metadata does not serve the prefix (%s)", c.base+path, body)
		}
		return fmt.Errorf("GET %s: HTTP %s: %s", c.base+path, resp.Status, body)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("GET %s: decoding: %w", c.base+path, err)
	}
	return nil
}

// describe puts the usual failures in plain words, keeping the cause.
func describe(err error, timeout time.Duration) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("rancher-metadata did not answer within %v: %w", timeout, err)
		}
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return fmt.Errorf("rancher-metadata unreachable: %w", err)
		}
	}
	return err
}

// version returns the current version.
func (c *client) version(ctx context.Context) (string, error) {
	var v string
	err := c.get(ctx, "/version", &v)
	return v, err
}

// wait long-polls for a version other than old; it returns old itself
// when maxWait passed without a change.
func (c *client) wait(ctx context.Context, old string, maxWait time.Duration) (string, error) {
	var v string
	q := url.Values{"wait": {"true"}, "value": {old}, "maxWait": {strconv.Itoa(int(maxWait / time.Second))}}
	err := c.get(ctx, "/version?"+q.Encode(), &v)
	return v, err
}

// The wire types hold what discovery reads of /stacks; the JSON names are
// those of github.com/rancher/go-rancher-metadata's metadata/types.go,
// which is what the server sends.
type wireStack struct {
	UUID     string        `json:"uuid"`
	Name     string        `json:"name"`
	System   bool          `json:"system"`
	Services []wireService `json:"services"`
}

type wireService struct {
	UUID       string            `json:"uuid"`
	Name       string            `json:"name"`
	Kind       string            `json:"kind"`
	State      string            `json:"state"`
	System     bool              `json:"system"`
	Labels     map[string]string `json:"labels"`
	Containers []wireContainer   `json:"containers"`
}

type wireContainer struct {
	UUID        string `json:"uuid"`
	Name        string `json:"name"`
	PrimaryIP   string `json:"primary_ip"`
	State       string `json:"state"`
	HealthState string `json:"health_state"`
}

// stacks reads the stacks, with their services and containers, as the
// world both Rancher providers build from.
func (c *client) stacks(ctx context.Context) (cattle.World, error) {
	start := time.Now()
	var stacks []wireStack
	if err := c.get(ctx, "/stacks", &stacks); err != nil {
		return cattle.World{}, err
	}
	w := toWorld(stacks)
	w.Took = time.Since(start)
	return w, nil
}

// toWorld flattens nested stacks. Containers join their service by name,
// which the nesting gives; ids fall back to names for answers without
// uuids.
func toWorld(stacks []wireStack) cattle.World {
	var w cattle.World
	w.Stacks = make([]cattle.Stack, 0, len(stacks))
	for _, st := range stacks {
		stackID := or(st.UUID, "stack:"+st.Name)
		w.Stacks = append(w.Stacks, cattle.Stack{ID: stackID, Name: st.Name, System: st.System})
		for _, svc := range st.Services {
			w.Services = append(w.Services, cattle.Service{
				ID: or(svc.UUID, stackID+"/"+svc.Name), StackID: stackID, Name: svc.Name,
				Kind: svc.Kind, State: svc.State, System: svc.System, Labels: svc.Labels,
			})
			for _, ct := range svc.Containers {
				w.Containers = append(w.Containers, cattle.Container{
					ID: ct.UUID, Name: ct.Name, State: ct.State, Health: ct.HealthState,
					IP: ct.PrimaryIP, StackService: st.Name + "/" + svc.Name,
				})
			}
		}
	}
	return w
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
