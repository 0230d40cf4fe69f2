package etcdstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/certmagic"

	"github.com/rancher-edge/edge/certs/etcdstore/internal/etcdjson"
)

// meta is the record kept beside each value, because etcd keeps
// revisions but no wall-clock times, and Stat should not have to read a
// whole certificate to report its size.
type meta struct {
	Modified time.Time `json:"modified"`
	Size     int64     `json:"size"`
}

// Store writes value at key, together with its metadata, in one
// transaction. Values over MaxValueSize are refused before contacting
// etcd.
func (s *Store) Store(ctx context.Context, key string, value []byte) error {
	if len(value) > MaxValueSize {
		return fmt.Errorf("etcdstore: storing %q: %w: %d bytes, etcd accepts at most %d per request", key, ErrTooLarge, len(value), MaxValueSize)
	}
	if cleanKey(key) == "" {
		return errors.New("etcdstore: storing: empty key")
	}
	m, _ := json.Marshal(meta{Modified: time.Now().UTC(), Size: int64(len(value))}) // cannot fail
	return s.do(ctx, "storing "+key, func(ctx context.Context, cli *etcdjson.Client) error {
		_, err := cli.Txn(ctx, etcdjson.Txn{Then: []etcdjson.Op{
			etcdjson.Put(s.dataKey(key), string(value), 0),
			etcdjson.Put(s.metaKey(key), string(m), 0),
		}})
		return err
	})
}

// Load returns the value at key, or an error matching fs.ErrNotExist
// when there is none, as certmagic expects.
func (s *Store) Load(ctx context.Context, key string) ([]byte, error) {
	var value []byte
	found := false
	err := s.do(ctx, "loading "+key, func(ctx context.Context, cli *etcdjson.Client) error {
		resp, err := cli.Range(ctx, etcdjson.RangeRequest{Key: []byte(s.dataKey(key))})
		if err != nil {
			return err
		}
		if len(resp.Kvs) > 0 {
			found, value = true, resp.Kvs[0].Value
		}
		return nil
	})
	switch {
	case err != nil:
		return nil, err
	case !found:
		return nil, fmt.Errorf("etcdstore: loading %q: %w", key, fs.ErrNotExist)
	}
	return value, nil
}

// Delete removes key and, when key is a directory, everything under it.
// A missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	k := cleanKey(key)
	if k == "" {
		// Never wipe the whole store by accident.
		return errors.New("etcdstore: deleting: empty key")
	}
	ops := []etcdjson.Op{
		etcdjson.Delete(s.dataKey(k)), etcdjson.Delete(s.metaKey(k)),
		etcdjson.DeletePrefix(s.dataKey(k) + "/"),
		etcdjson.DeletePrefix(s.metaKey(k) + "/"),
	}
	return s.do(ctx, "deleting "+key, func(ctx context.Context, cli *etcdjson.Client) error {
		_, err := cli.Txn(ctx, etcdjson.Txn{Then: ops})
		return err
	})
}

// Exists reports whether key is a value or a directory of values. An
// unreachable etcd reports false, as certmagic's interface has no error
// here.
func (s *Store) Exists(ctx context.Context, key string) bool {
	_, err := s.Stat(ctx, key)
	return err == nil
}

// Stat describes key: a value (IsTerminal) with its modification time
// and size, or a directory holding values.
func (s *Store) Stat(ctx context.Context, key string) (certmagic.KeyInfo, error) {
	k := cleanKey(key)
	var rawMeta []byte
	var terminal, dir bool
	err := s.do(ctx, "checking "+key, func(ctx context.Context, cli *etcdjson.Client) error {
		// Both reads in one revision: the value's metadata, and whether
		// anything lies below key.
		below := etcdjson.Prefix(s.dirPrefix(k))
		below.KeysOnly, below.Limit = true, 1
		resp, err := cli.Txn(ctx, etcdjson.Txn{Then: []etcdjson.Op{
			etcdjson.Get(etcdjson.RangeRequest{Key: []byte(s.metaKey(k))}),
			etcdjson.Get(below),
		}})
		if err != nil {
			return err
		}
		if len(resp.Responses) != 2 {
			return fmt.Errorf("etcd answered %d operations of 2", len(resp.Responses))
		}
		if kvs := resp.Responses[0].Kvs(); k != "" && len(kvs) > 0 {
			terminal, rawMeta = true, kvs[0].Value
		}
		dir = len(resp.Responses[1].Kvs()) > 0
		return nil
	})
	switch {
	case err != nil:
		return certmagic.KeyInfo{}, err
	case terminal:
		var m meta
		if err := json.Unmarshal(rawMeta, &m); err != nil {
			return certmagic.KeyInfo{}, fmt.Errorf("etcdstore: reading the metadata of %q: %w", key, err)
		}
		return certmagic.KeyInfo{Key: key, Modified: m.Modified, Size: m.Size, IsTerminal: true}, nil
	case dir:
		return certmagic.KeyInfo{Key: key, IsTerminal: false}, nil
	}
	return certmagic.KeyInfo{}, fmt.Errorf("etcdstore: checking %q: %w", key, fs.ErrNotExist)
}

// List returns the keys under dir, joined to dir as certmagic's
// FileStorage does. Recursive lists every value below dir; otherwise
// only its direct children, values or directories. A dir with nothing
// below it is an error matching fs.ErrNotExist, again as FileStorage.
func (s *Store) List(ctx context.Context, dir string, recursive bool) ([]string, error) {
	d := cleanKey(dir)
	base := s.dirPrefix(d)
	var keys []string
	err := s.do(ctx, "listing "+dir, func(ctx context.Context, cli *etcdjson.Client) error {
		r := etcdjson.Prefix(base)
		r.KeysOnly = true
		resp, err := cli.Range(ctx, r)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, kv := range resp.Kvs {
			rel := strings.TrimPrefix(string(kv.Key), base)
			if !recursive {
				rel, _, _ = strings.Cut(rel, "/")
			}
			if rel == "" || seen[rel] {
				continue
			}
			seen[rel] = true
			if d != "" {
				rel = d + "/" + rel
			}
			keys = append(keys, rel)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("etcdstore: listing %q: %w", dir, fs.ErrNotExist)
	}
	slices.Sort(keys)
	return keys, nil
}

// dirPrefix is the etcd prefix of the values below the directory key
// (all values for "").
func (s *Store) dirPrefix(key string) string {
	if key == "" {
		return s.cfg.Prefix + "/data/"
	}
	return s.dataKey(key) + "/"
}
