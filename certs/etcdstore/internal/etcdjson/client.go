package etcdjson

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Config configures a [Client].
type Config struct {
	// Endpoints are etcd client URLs (http:// or https://) or host:port
	// pairs, which mean https when TLS is set and http when not, as with
	// etcd's own client.
	Endpoints []string
	// TLS, when non-nil, is used for https endpoints.
	TLS *tls.Config
	// Username and Password, when set, authenticate every call with a
	// token from /v3/auth/authenticate.
	Username, Password string
	// DialTimeout bounds connecting to one endpoint.
	DialTimeout time.Duration
}

// Client calls etcd's JSON gateway. It is safe for concurrent use.
type Client struct {
	cfg Config
	hc  *http.Client
	tr  *http.Transport

	mu    sync.Mutex
	first int    // index of the endpoint that last answered
	token string // current auth token; "" before the first authentication
}

// maxAnswer bounds what one answer may hold: values are at most 1.5 MiB
// in a default etcd, and a listing of keys is small.
const maxAnswer = 64 << 20

// New returns a client; it connects on the first call.
func New(cfg Config) *Client {
	dialer := &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 15 * time.Second}
	tr := &http.Transport{
		DialContext:         dialer.DialContext,
		TLSClientConfig:     cfg.TLS,
		TLSHandshakeTimeout: cfg.DialTimeout,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
		// etcd is never behind an HTTP proxy the edge should use.
		Proxy: nil,
	}
	cfg.Endpoints = endpointURLs(cfg.Endpoints, cfg.TLS != nil)
	return &Client{cfg: cfg, tr: tr, hc: &http.Client{Transport: tr}}
}

// endpointURLs gives host:port endpoints a scheme and drops trailing
// slashes, so that a path can be appended.
func endpointURLs(eps []string, tls bool) []string {
	scheme := "http://"
	if tls {
		scheme = "https://"
	}
	out := make([]string, len(eps))
	for i, ep := range eps {
		if !strings.Contains(ep, "://") {
			ep = scheme + ep
		}
		out[i] = strings.TrimRight(ep, "/")
	}
	return out
}

// Close drops the client's idle connections. Calls still running end
// with their contexts.
func (c *Client) Close() { c.tr.CloseIdleConnections() }

// Error is an error answered by etcd.
type Error struct {
	Code    int    // gRPC status code
	Message string // etcd's message, e.g. "etcdserver: requested lease not found"
}

func (e *Error) Error() string { return fmt.Sprintf("etcd: %s (code %d)", e.Message, e.Code) }

// gRPC status codes this package tells apart or gives.
const (
	codeCanceled        = 1
	codeUnknown         = 2
	codeNotFound        = 5
	codeUnauthenticated = 16
)

// IsLeaseNotFound reports whether err says a lease no longer exists.
func IsLeaseNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == codeNotFound && strings.Contains(e.Message, "lease not found")
}

// call posts req as JSON to path and decodes the answer into resp.
func (c *Client) call(ctx context.Context, path string, req, resp any) error {
	r, err := c.open(ctx, path, req)
	if err != nil {
		return err
	}
	defer closeBody(r.Body)
	if err := json.NewDecoder(io.LimitReader(r.Body, maxAnswer)).Decode(resp); err != nil {
		return fmt.Errorf("etcdjson: reading the answer of %s: %w", path, err)
	}
	return nil
}

// closeBody reads what is left of a small answer before closing it, so
// that its connection goes back to the pool instead of being closed.
func closeBody(b io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(b, 4<<10))
	b.Close()
}

// open posts req as JSON to path, authenticated, and returns the
// response once it is a 200; any other status is returned as an *Error.
func (c *Client) open(ctx context.Context, path string, req any) (*http.Response, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("etcdjson: encoding %s: %w", path, err)
	}
	for attempt := 0; ; attempt++ {
		token, err := c.authToken(ctx)
		if err != nil {
			return nil, err
		}
		r, err := c.send(ctx, path, body, token)
		if err != nil {
			return nil, err
		}
		if r.StatusCode == http.StatusOK {
			return r, nil
		}
		err = answerError(r.StatusCode, r.Body)
		r.Body.Close()
		var e *Error
		// etcd forgets tokens (a restart, the TTL of simple tokens):
		// authenticate again, once.
		if attempt == 0 && token != "" && errors.As(err, &e) && e.Code == codeUnauthenticated {
			c.dropToken(token)
			continue
		}
		return nil, err
	}
}

// send posts body to path on the first endpoint that answers, starting
// with the one that answered last, and returns the open response.
func (c *Client) send(ctx context.Context, path string, body []byte, token string) (*http.Response, error) {
	c.mu.Lock()
	first := c.first
	c.mu.Unlock()
	n := len(c.cfg.Endpoints)
	var errs []error
	for i := range n {
		ep := (first + i) % n
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.Endpoints[ep]+path, bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("etcdjson: %w", err)
		}
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", token)
		}
		r, err := c.hc.Do(req)
		if err == nil {
			c.mu.Lock()
			c.first = ep
			c.mu.Unlock()
			return r, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// answerError turns a gateway error into an *Error: the gateway's
// {"code": N, "message": "…"}, or etcd's own plain-text refusals (a
// request the gateway never saw, such as one whose client certificate
// etcd does not accept there), quoted as they are.
func answerError(status int, body io.Reader) error {
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Error   string `json:"error"` // older gateways
	}
	raw, _ := io.ReadAll(io.LimitReader(body, 64<<10))
	if json.Unmarshal(raw, &e) == nil && (e.Message != "" || e.Error != "") {
		return &Error{Code: e.Code, Message: cmp.Or(e.Message, e.Error)}
	}
	text := strings.TrimSpace(string(raw))
	if len(text) > 300 {
		text = text[:300] + "…"
	}
	return &Error{Code: codeUnknown, Message: fmt.Sprintf("HTTP %d: %s", status, cmp.Or(text, http.StatusText(status)))}
}

// authToken returns the token to send, authenticating first when there
// is none yet; "" without a username.
func (c *Client) authToken(ctx context.Context) (string, error) {
	if c.cfg.Username == "" {
		return "", nil
	}
	c.mu.Lock()
	token := c.token
	c.mu.Unlock()
	if token != "" {
		return token, nil
	}
	body, _ := json.Marshal(struct {
		Name     string `json:"name"`
		Password string `json:"password"`
	}{c.cfg.Username, c.cfg.Password}) // cannot fail
	r, err := c.send(ctx, "/v3/auth/authenticate", body, "")
	if err != nil {
		return "", fmt.Errorf("etcdjson: authenticating as %q: %w", c.cfg.Username, err)
	}
	defer closeBody(r.Body)
	if r.StatusCode != http.StatusOK {
		return "", fmt.Errorf("etcdjson: authenticating as %q: %w", c.cfg.Username, answerError(r.StatusCode, r.Body))
	}
	var resp struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&resp); err != nil || resp.Token == "" {
		return "", fmt.Errorf("etcdjson: authenticating as %q: etcd answered no token", c.cfg.Username)
	}
	c.mu.Lock()
	c.token = resp.Token
	c.mu.Unlock()
	return resp.Token, nil
}

// dropToken forgets token, unless another call has replaced it already.
func (c *Client) dropToken(token string) {
	c.mu.Lock()
	if c.token == token {
		c.token = ""
	}
	c.mu.Unlock()
}
