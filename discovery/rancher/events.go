package rancher

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// Websocket reconnect backoff: fast at first, since a lost socket means
// changes are seen only at the next poll, then capped to spare a Rancher
// server that is down.
const (
	wsBackoffMin = 250 * time.Millisecond
	wsBackoffMax = 30 * time.Second

	// wsReadTimeout declares the socket dead when not even a ping arrived
	// (Cattle pings every 5 s).
	wsReadTimeout = 30 * time.Second
)

// event is a Cattle event frame. The resource is decoded only for
// relevant events, into a patch.
type event struct {
	Name         string `json:"name"`
	ResourceType string `json:"resourceType"`
	Data         struct {
		Resource json.RawMessage `json:"resource"`
	} `json:"data"`
}

// systemFlag reads just the resource's system flag.
type systemFlag struct {
	System bool `json:"system"`
}

// relevant reports events that can change routes: stacks, services of any
// kind and containers. The same stream carries ipAddress, mount, volume,
// host, agent … events, and system resources (health check containers)
// change often without mattering to routes.
func (e event) relevant() bool {
	if e.Name != "resource.change" {
		return false
	}
	var sys systemFlag
	if len(e.Data.Resource) > 0 && json.Unmarshal(e.Data.Resource, &sys) == nil && sys.System {
		return false
	}
	switch e.ResourceType {
	case "stack", "container", "instance",
		"service", "loadBalancerService", "externalService", "dnsService", "kubernetesService":
		return true
	}
	return false
}

// watch keeps a subscription open until ctx ends, calling changed with a
// patch for every relevant event, and with nil (a full read is needed)
// after each (re)connect, since events may have been missed while the
// socket was down, and for an event whose resource does not decode. connected reports the
// socket's state for the status mode.
//
// go-rancher's own Websocket method takes no context and no handshake
// timeout, and drops caller headers, so the dial is done here with the
// same Basic authentication.
func (p *Provider) watch(ctx context.Context, url string, changed func(*patch), connected func(bool, error)) {
	backoff := wsBackoffMin
	for ctx.Err() == nil {
		start := time.Now()
		err := p.subscribe(ctx, url, changed, func() { connected(true, nil) })
		if ctx.Err() != nil {
			return
		}
		connected(false, err)
		if time.Since(start) > 2*wsBackoffMax {
			backoff = wsBackoffMin // it was up for a good while
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, wsBackoffMax)
	}
}

// subscribe runs one websocket connection until it fails or ctx ends.
func (p *Provider) subscribe(ctx context.Context, url string, changed func(*patch), up func()) error {
	d := websocket.Dialer{HandshakeTimeout: p.cfg.Timeout, Proxy: http.ProxyFromEnvironment}
	hdr := http.Header{}
	hdr.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(p.cfg.AccessKey+":"+p.cfg.SecretKey)))
	conn, resp, err := d.DialContext(ctx, url, hdr)
	if err != nil {
		if resp != nil {
			return fmt.Errorf("subscribing to events: %w (HTTP %s)", err, resp.Status)
		}
		return fmt.Errorf("subscribing to events: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() }) // unblocks ReadMessage
	defer stop()
	defer conn.Close()
	up()
	changed(nil)
	for {
		_ = conn.SetReadDeadline(time.Now().Add(wsReadTimeout))
		_, msg, err := conn.ReadMessage()
		if err != nil {
			return fmt.Errorf("reading events: %w", err)
		}
		var ev event
		if err := json.Unmarshal(msg, &ev); err != nil {
			continue // a frame we do not understand cannot be acted on
		}
		if !ev.relevant() {
			continue
		}
		if pt, ok := decodePatch(ev.ResourceType, ev.Data.Resource); ok {
			changed(&pt)
		} else {
			changed(nil)
		}
	}
}
