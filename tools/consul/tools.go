//go:build tools

// Package tools pins the real Consul agent the discovery/consul tests run
// against (tools/README.md). v1.14.3 is the newest line that builds from the
// module proxy with only MPL modules: 1.15/1.16 import envoyextensions and
// troubleshoot, later releases are BSL, and 1.14.8's in-tree api is newer than
// any published api module.
package tools

import _ "github.com/hashicorp/consul"
