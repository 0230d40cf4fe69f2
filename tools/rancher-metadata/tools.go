//go:build tools

// Package tools pins the real rancher-metadata server (the in-container
// metadata service of Rancher 1.x) for discovery/metadata's tests; see
// tools/README.md. The versions are those of its vendor.conf, except
// ugorji/go, raised to v1.2.12: the 2017 codec panics at init on current Go.
package tools

import _ "github.com/rancher/rancher-metadata"
