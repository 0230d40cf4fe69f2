package etcdjson

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Grant creates a lease of ttl seconds and returns its ID.
func (c *Client) Grant(ctx context.Context, ttl int64) (int64, error) {
	var resp struct {
		ID    int64  `json:"ID,string"`
		Error string `json:"error"`
	}
	if err := c.call(ctx, "/v3/lease/grant", struct {
		TTL int64 `json:"TTL"`
	}{ttl}, &resp); err != nil {
		return 0, err
	}
	if resp.Error != "" || resp.ID == 0 {
		return 0, &Error{Code: codeUnknown, Message: "lease grant: " + cmp.Or(resp.Error, "no lease ID")}
	}
	return resp.ID, nil
}

// KeepAlive renews lease id once and returns its new TTL in seconds; 0
// means etcd no longer has the lease (it expired or was revoked).
func (c *Client) KeepAlive(ctx context.Context, id int64) (int64, error) {
	var resp struct {
		TTL int64 `json:"TTL,string"`
	}
	// The keep-alive call is a stream both ways; the gateway sends one
	// answer per request and ends when the request body does.
	r, err := c.open(ctx, "/v3/lease/keepalive", struct {
		ID int64 `json:"ID"`
	}{id})
	if err != nil {
		return 0, err
	}
	defer closeBody(r.Body)
	if err := readStream(json.NewDecoder(io.LimitReader(r.Body, 64<<10)), &resp); err != nil {
		return 0, fmt.Errorf("etcdjson: lease keep-alive: %w", err)
	}
	return resp.TTL, nil
}

// Revoke ends lease id and deletes the keys bound to it. A lease that
// is gone already is not an error.
func (c *Client) Revoke(ctx context.Context, id int64) error {
	var resp struct{}
	err := c.call(ctx, "/v3/lease/revoke", struct {
		ID int64 `json:"ID"`
	}{id}, &resp)
	if IsLeaseNotFound(err) {
		return nil
	}
	return err
}

// streamError is the error message of a stream, in the forms of
// grpc-gateway v2 ({"code", "message"}) and v1 ({"grpc_code", …}).
type streamError struct {
	Code     int    `json:"code"`
	GRPCCode int    `json:"grpc_code"`
	Message  string `json:"message"`
}

// errEndOfStream is returned by readStream when the stream ended
// without a message.
var errEndOfStream = errors.New("the stream ended")

// readStream reads the next message of a streaming answer into v.
func readStream(dec *json.Decoder, v any) error {
	var msg struct {
		Result json.RawMessage `json:"result"`
		Error  *streamError    `json:"error"`
	}
	if err := dec.Decode(&msg); err != nil {
		if errors.Is(err, io.EOF) {
			return errEndOfStream
		}
		return err
	}
	if msg.Error != nil {
		return &Error{Code: max(msg.Error.Code, msg.Error.GRPCCode), Message: msg.Error.Message}
	}
	if len(msg.Result) == 0 {
		return errors.New("a stream message with neither result nor error")
	}
	return json.Unmarshal(msg.Result, v)
}
