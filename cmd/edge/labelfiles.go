package main

import (
	"errors"

	"github.com/rancher-edge/edge/secrets"
)

// labelFileReader reads the files route labels name (users files, forward
// authentication's TLS material) through the secrets rules: an absolute
// path, or a bare alias in the secrets directory (/run/secrets/<alias>), as
// a Rancher secret is mounted. A value that names no file is an error, never
// a literal, so a mistyped users file keeps its route closed.
func labelFileReader(r secrets.Resolver) func(ref string) ([]byte, error) {
	return func(ref string) ([]byte, error) {
		v, err := r.Resolve("label file", ref, true)
		if err != nil {
			return nil, err
		}
		if v.Kind != secrets.File {
			return nil, errors.New("label file: want a path or a secret alias")
		}
		return v.Bytes(), nil
	}
}
