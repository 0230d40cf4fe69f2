package kubernetes

import (
	"crypto/sha256"
	"encoding/json"
	"hash/fnv"

	"github.com/rancher-edge/edge/route"
)

// fingerprint hashes what a snapshot says: its routes, problems and
// certificates (keys through their SHA-256). Hashing the output rather
// than the inputs means an update that changes nothing the edge uses (a
// status write, an unrelated EndpointSlice) publishes nothing.
func fingerprint(s route.Snapshot) uint64 {
	h := fnv.New64a()
	enc := json.NewEncoder(h)
	// Encoding cannot fail for these plain types; maps are sorted.
	_ = enc.Encode(s.Services)
	_ = enc.Encode(s.Problems)
	for _, c := range s.Certificates {
		_ = enc.Encode(c.Source)
		_ = enc.Encode(c.Hosts)
		_, _ = h.Write(c.CertPEM)
		k := sha256.Sum256(c.KeyPEM)
		_, _ = h.Write(k[:])
	}
	if sum := h.Sum64(); sum != 0 {
		return sum
	}
	return 1 // zero means unknown in route.Snapshot
}
