package kubestore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/certmagic"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var secretsResource = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

// Store writes value at key: one Secret, created or replaced whole.
// Values over MaxValueSize are refused before the apiserver sees them.
func (s *Store) Store(ctx context.Context, key string, value []byte) error {
	k := cleanKey(key)
	if k == "" {
		return errors.New("kubestore: storing: empty key")
	}
	if len(value) > MaxValueSize {
		return fmt.Errorf("kubestore: storing %q: %w: %d bytes, a Secret holds at most %d", key, ErrTooLarge, len(value), MaxValueSize)
	}
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:      secretName(k),
			Namespace: s.cfg.Namespace,
			Labels:    labels(kindStorage),
			Annotations: map[string]string{
				annotationKey:      k,
				annotationModified: time.Now().UTC().Format(time.RFC3339Nano),
			},
		},
		Type: secretType,
		Data: map[string][]byte{dataKey: value},
	}
	secrets := s.kube.CoreV1().Secrets(s.cfg.Namespace)
	// Replacing is the common case (renewals, account updates); an
	// update without a resourceVersion is unconditional: last write wins,
	// whole.
	for range 3 {
		err := s.do(ctx, "storing "+key, func(ctx context.Context) error {
			_, err := secrets.Update(ctx, sec, metav1.UpdateOptions{})
			return err
		})
		if !apierrors.IsNotFound(err) {
			return err
		}
		err = s.do(ctx, "storing "+key, func(ctx context.Context) error {
			_, err := secrets.Create(ctx, sec, metav1.CreateOptions{})
			return err
		})
		if !apierrors.IsAlreadyExists(err) {
			return err
		}
		// Created by another writer in between: replace it.
	}
	return fmt.Errorf("kubestore: storing %q: the Secret kept appearing and disappearing", key)
}

// Load returns the value at key, or an error matching fs.ErrNotExist
// when there is none, as certmagic expects.
func (s *Store) Load(ctx context.Context, key string) ([]byte, error) {
	k := cleanKey(key)
	var sec *corev1.Secret
	err := s.do(ctx, "loading "+key, func(ctx context.Context) error {
		var err error
		sec, err = s.kube.CoreV1().Secrets(s.cfg.Namespace).Get(ctx, secretName(k), metav1.GetOptions{})
		return err
	})
	switch {
	case apierrors.IsNotFound(err) || (err == nil && !ours(sec.ObjectMeta, k)):
		return nil, fmt.Errorf("kubestore: loading %q: %w", key, fs.ErrNotExist)
	case err != nil:
		return nil, err
	}
	return sec.Data[dataKey], nil
}

// ours reports whether an object is the store's record of key (and not a
// Secret someone else gave the same name).
func ours(m metav1.ObjectMeta, key string) bool {
	return m.Labels[labelKind] == kindStorage && m.Annotations[annotationKey] == key
}

// Delete removes key and, when key is a directory, everything under it.
// A missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	k := cleanKey(key)
	if k == "" {
		// Never wipe the whole store by accident.
		return errors.New("kubestore: deleting: empty key")
	}
	keys, err := s.keys(ctx, "deleting "+key)
	if err != nil {
		return err
	}
	var errs []error
	for _, other := range keys {
		if other != k && !strings.HasPrefix(other, k+"/") {
			continue
		}
		err := s.do(ctx, "deleting "+other, func(ctx context.Context) error {
			return s.kube.CoreV1().Secrets(s.cfg.Namespace).Delete(ctx, secretName(other), metav1.DeleteOptions{})
		})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Exists reports whether key is a value or a directory of values. An
// unreachable apiserver reports false, as certmagic's interface has no
// error here.
func (s *Store) Exists(ctx context.Context, key string) bool {
	_, err := s.Stat(ctx, key)
	return err == nil
}

// Stat describes key: a value (IsTerminal) with its modification time
// and size, or a directory holding values.
func (s *Store) Stat(ctx context.Context, key string) (certmagic.KeyInfo, error) {
	k := cleanKey(key)
	if k != "" {
		var sec *corev1.Secret
		err := s.do(ctx, "checking "+key, func(ctx context.Context) error {
			var err error
			sec, err = s.kube.CoreV1().Secrets(s.cfg.Namespace).Get(ctx, secretName(k), metav1.GetOptions{})
			return err
		})
		switch {
		case err == nil && ours(sec.ObjectMeta, k):
			mod, _ := time.Parse(time.RFC3339Nano, sec.Annotations[annotationModified])
			if mod.IsZero() {
				mod = sec.CreationTimestamp.Time
			}
			return certmagic.KeyInfo{Key: key, Modified: mod, Size: int64(len(sec.Data[dataKey])), IsTerminal: true}, nil
		case err != nil && !apierrors.IsNotFound(err):
			return certmagic.KeyInfo{}, err
		}
	}
	keys, err := s.keys(ctx, "checking "+key)
	if err != nil {
		return certmagic.KeyInfo{}, err
	}
	if slices.ContainsFunc(keys, func(o string) bool { return k == "" || strings.HasPrefix(o, k+"/") }) {
		return certmagic.KeyInfo{Key: key, IsTerminal: false}, nil
	}
	return certmagic.KeyInfo{}, fmt.Errorf("kubestore: checking %q: %w", key, fs.ErrNotExist)
}

// List returns the keys under dir, joined to dir as certmagic's
// FileStorage does. Recursive lists every value below dir; otherwise
// only its direct children, values or directories. A dir with nothing
// below it is an error matching fs.ErrNotExist, again as FileStorage.
func (s *Store) List(ctx context.Context, dir string, recursive bool) ([]string, error) {
	d := cleanKey(dir)
	all, err := s.keys(ctx, "listing "+dir)
	if err != nil {
		return nil, err
	}
	base := ""
	if d != "" {
		base = d + "/"
	}
	seen := map[string]bool{}
	var keys []string
	for _, k := range all {
		rel, ok := strings.CutPrefix(k, base)
		if !ok {
			continue
		}
		if !recursive {
			rel, _, _ = strings.Cut(rel, "/")
		}
		if rel == "" || seen[rel] {
			continue
		}
		seen[rel] = true
		keys = append(keys, base+rel)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("kubestore: listing %q: %w", dir, fs.ErrNotExist)
	}
	slices.Sort(keys)
	return keys, nil
}

// keys lists every key in the store, from the Secrets' metadata only:
// the values (certificates) are not transferred.
func (s *Store) keys(ctx context.Context, what string) ([]string, error) {
	var keys []string
	err := s.do(ctx, what, func(ctx context.Context) error {
		keys = keys[:0]
		opts := metav1.ListOptions{LabelSelector: storageSelector, Limit: 500}
		for {
			list, err := s.meta.Resource(secretsResource).Namespace(s.cfg.Namespace).List(ctx, opts)
			if err != nil {
				return err
			}
			for _, item := range list.Items {
				if k := item.Annotations[annotationKey]; k != "" && secretName(k) == item.Name {
					keys = append(keys, k)
				}
			}
			if list.Continue == "" {
				return nil
			}
			opts.Continue = list.Continue
		}
	})
	return keys, err
}
