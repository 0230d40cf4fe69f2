package etcdjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestPrefixEnd(t *testing.T) {
	for _, tc := range []struct{ key, want string }{
		{"/edge/locks/", "/edge/locks0"},
		{"a", "b"},
		{"a\xff", "b"},
		{"a\xff\xff", "b"},
		{"\xff\xff", "\x00"}, // no end: every key from "\xff\xff" on
		{"", "\x00"},
	} {
		if got := PrefixEnd([]byte(tc.key)); !bytes.Equal(got, []byte(tc.want)) {
			t.Errorf("PrefixEnd(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
	key := []byte("ab")
	PrefixEnd(key)
	if string(key) != "ab" {
		t.Errorf("PrefixEnd changed its argument to %q", key)
	}
}

func TestAnswerError(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   string
		code   int
	}{
		{400, `{"code":3,"message":"etcdserver: key is not provided","details":[]}`, "etcdserver: key is not provided", 3},
		{401, `{"error":"etcdserver: invalid auth token","code":16}`, "etcdserver: invalid auth token", 16},
		{400, "CommonName of client sending a request against gateway will be ignored and not used as expected\n", "HTTP 400: CommonName of client", 2},
		{502, "", "HTTP 502: Bad Gateway", 2},
		{500, strings.Repeat("x", 1000), "…", 2},
	} {
		err := answerError(tc.status, strings.NewReader(tc.body))
		e, ok := err.(*Error)
		if !ok || !strings.Contains(e.Message, tc.want) || e.Code != tc.code {
			t.Errorf("answerError(%d, %.40q) = %#v, want code %d and a message with %q", tc.status, tc.body, err, tc.code, tc.want)
		}
	}
}

func TestEndpointURLs(t *testing.T) {
	eps := []string{"10.0.0.1:2379", "http://etcd:2379/", "https://etcd2:2379"}
	if got := endpointURLs(eps, false); strings.Join(got, " ") != "http://10.0.0.1:2379 http://etcd:2379 https://etcd2:2379" {
		t.Errorf("without TLS: %q", got)
	}
	if got := endpointURLs(eps, true); got[0] != "https://10.0.0.1:2379" || eps[0] != "10.0.0.1:2379" {
		t.Errorf("with TLS: %q (argument now %q)", got, eps)
	}
}

// TestReadStream: a streaming answer's messages, its errors in both
// gateway forms, and what is not a message.
func TestReadStream(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want: the TTL read, or the error's text
	}{
		{`{"result":{"TTL":"30"}}`, "30"},
		{`{"error":{"code":5,"message":"etcdserver: requested lease not found"}}`, "lease not found"},
		{`{"error":{"grpc_code":16,"message":"etcdserver: invalid auth token"}}`, "code 16"},
		{``, "the stream ended"},
		{`{}`, "neither result nor error"},
		{`{"result":{"TTL":30}}`, "string"}, // 64-bit integers come quoted
		{`not json`, "invalid character"},
	} {
		var v struct {
			TTL int64 `json:"TTL,string"`
		}
		err := readStream(json.NewDecoder(strings.NewReader(tc.in)), &v)
		got := fmt.Sprint(v.TTL)
		if err != nil {
			got = err.Error()
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("readStream(%q) = %q, want %q in it", tc.in, got, tc.want)
		}
	}
}
