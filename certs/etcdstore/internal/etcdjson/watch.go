package etcdjson

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
)

// WaitDeleted returns nil once key is deleted at a revision from
// fromRev on (a deletion at fromRev or after is seen even when it came
// before the watch started), and an error when ctx ends first or the
// watch cannot go on (etcd compacted fromRev away, the stream broke).
// It holds one connection while it waits.
func (c *Client) WaitDeleted(ctx context.Context, key string, fromRev int64) error {
	type createRequest struct {
		Key           []byte   `json:"key"`
		StartRevision int64    `json:"start_revision,omitempty"`
		Filters       []string `json:"filters"`
	}
	// Cancelling the context closes the stream, which cancels the
	// watch on etcd's side.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r, err := c.open(ctx, "/v3/watch", struct {
		Create createRequest `json:"create_request"`
	}{createRequest{Key: []byte(key), StartRevision: fromRev, Filters: []string{"NOPUT"}}})
	if err != nil {
		return err
	}
	// The stream never ends by itself: closed, not drained.
	defer r.Body.Close()
	// Events are small; the bound only stops a runaway stream.
	dec := json.NewDecoder(io.LimitReader(r.Body, maxAnswer))
	for {
		var resp struct {
			Canceled        bool       `json:"canceled"`
			CancelReason    string     `json:"cancel_reason"`
			CompactRevision int64      `json:"compact_revision,string"`
			Events          []struct{} `json:"events"`
		}
		if err := readStream(dec, &resp); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("etcdjson: watching %q: %w", key, err)
		}
		switch {
		case len(resp.Events) > 0:
			return nil // only deletions pass the filter
		case resp.Canceled:
			return &Error{Code: codeCanceled, Message: fmt.Sprintf("watch cancelled: %s (compacted at %d)", resp.CancelReason, resp.CompactRevision)}
		}
	}
}
