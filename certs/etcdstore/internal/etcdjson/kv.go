package etcdjson

import (
	"bytes"
	"context"
)

// Requests send 64-bit integers as JSON numbers, which the gateway
// accepts; answers carry them as decimal strings, hence ",string" on
// the answers' fields.

// KeyValue is one key as etcd answers it.
type KeyValue struct {
	Key            []byte `json:"key"`
	Value          []byte `json:"value"`
	CreateRevision int64  `json:"create_revision,string"`
}

// Header is the part of every answer's header the edge reads.
type Header struct {
	Revision int64 `json:"revision,string"`
}

// RangeRequest reads a key, or the keys in [Key, RangeEnd).
type RangeRequest struct {
	Key      []byte `json:"key"`
	RangeEnd []byte `json:"range_end,omitempty"`
	Limit    int64  `json:"limit,omitempty"`
	// SortOrder is "ASCEND" or "DESCEND"; SortTarget "KEY", "CREATE",
	// "MOD" or "VALUE". Empty means etcd's default, by key ascending.
	SortOrder  string `json:"sort_order,omitempty"`
	SortTarget string `json:"sort_target,omitempty"`
	KeysOnly   bool   `json:"keys_only,omitempty"`
	CountOnly  bool   `json:"count_only,omitempty"`
}

// Prefix reads every key that starts with key.
func Prefix(key string) RangeRequest {
	return RangeRequest{Key: []byte(key), RangeEnd: PrefixEnd([]byte(key))}
}

// FirstCreated reads the key under prefix with the lowest create
// revision: the owner of an etcd mutex.
func FirstCreated(prefix string) RangeRequest {
	r := Prefix(prefix)
	r.Limit, r.SortOrder, r.SortTarget = 1, "ASCEND", "CREATE"
	return r
}

// PrefixEnd is the end of the range of keys that start with key, as
// etcd's clients compute it: key with its last byte below 0xff
// incremented and what follows dropped; "\x00" (every key) when there is
// no such byte.
func PrefixEnd(key []byte) []byte {
	end := bytes.Clone(key)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return []byte{0}
}

// RangeResponse is the answer to a range.
type RangeResponse struct {
	Header Header     `json:"header"`
	Kvs    []KeyValue `json:"kvs"`
	Count  int64      `json:"count,string"`
}

// PutRequest writes Value at Key, bound to Lease when it is not 0.
type PutRequest struct {
	Key   []byte `json:"key"`
	Value []byte `json:"value"`
	Lease int64  `json:"lease,omitempty"`
}

// DeleteRequest deletes a key, or the keys in [Key, RangeEnd).
type DeleteRequest struct {
	Key      []byte `json:"key"`
	RangeEnd []byte `json:"range_end,omitempty"`
}

// Op is one operation of a transaction: exactly one field is set.
type Op struct {
	Range  *RangeRequest  `json:"request_range,omitempty"`
	Put    *PutRequest    `json:"request_put,omitempty"`
	Delete *DeleteRequest `json:"request_delete_range,omitempty"`
}

// Get, Put and Delete make transaction operations.
func Get(r RangeRequest) Op { return Op{Range: &r} }
func Put(key, value string, lease int64) Op {
	return Op{Put: &PutRequest{Key: []byte(key), Value: []byte(value), Lease: lease}}
}
func Delete(key string) Op { return Op{Delete: &DeleteRequest{Key: []byte(key)}} }

// DeletePrefix deletes every key that starts with key.
func DeletePrefix(key string) Op {
	return Op{Delete: &DeleteRequest{Key: []byte(key), RangeEnd: PrefixEnd([]byte(key))}}
}

// Compare is one condition of a transaction.
type Compare struct {
	// Result is "EQUAL", "GREATER", "LESS" or "NOT_EQUAL".
	Result string `json:"result"`
	// Target is what is compared: "CREATE" (the key's create revision,
	// 0 when it does not exist) or "VALUE".
	Target         string `json:"target"`
	Key            []byte `json:"key"`
	CreateRevision *int64 `json:"create_revision,omitempty"`
	Value          []byte `json:"value,omitempty"`
}

// CreateRevision compares the create revision of key with rev; result
// is "EQUAL", "LESS" or "GREATER".
func CreateRevision(key, result string, rev int64) Compare {
	return Compare{Result: result, Target: "CREATE", Key: []byte(key), CreateRevision: &rev}
}

// ValueEquals holds when key exists with value.
func ValueEquals(key, value string) Compare {
	return Compare{Result: "EQUAL", Target: "VALUE", Key: []byte(key), Value: []byte(value)}
}

// Txn is a transaction: Success runs when every comparison holds,
// Failure otherwise.
type Txn struct {
	If   []Compare `json:"compare,omitempty"`
	Then []Op      `json:"success,omitempty"`
	Else []Op      `json:"failure,omitempty"`
}

// TxnResponse is the answer to a transaction: one response per
// operation of the branch that ran.
type TxnResponse struct {
	Header    Header       `json:"header"`
	Succeeded bool         `json:"succeeded"`
	Responses []OpResponse `json:"responses"`
}

// OpResponse is the answer to one operation; only ranges are read.
type OpResponse struct {
	Range *RangeResponse `json:"response_range"`
}

// Kvs returns the keys a range operation read, none for other
// operations.
func (r OpResponse) Kvs() []KeyValue {
	if r.Range == nil {
		return nil
	}
	return r.Range.Kvs
}

// Range reads keys.
func (c *Client) Range(ctx context.Context, r RangeRequest) (*RangeResponse, error) {
	var resp RangeResponse
	if err := c.call(ctx, "/v3/kv/range", r, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// Txn runs a transaction.
func (c *Client) Txn(ctx context.Context, t Txn) (*TxnResponse, error) {
	var resp TxnResponse
	if err := c.call(ctx, "/v3/kv/txn", t, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}
