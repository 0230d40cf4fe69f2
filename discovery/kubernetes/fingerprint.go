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
	// Encoding cannot fail for these plain types; maps are sorted. One
	// value at a time: the encoder reuses its buffer between values, and
	// the whole slice as one value grew a buffer of megabytes per build.
	for i := range s.Services {
		_ = enc.Encode(&s.Services[i])
	}
	_, _ = h.Write([]byte{0}) // services end here: a problem is not a service
	for i := range s.Problems {
		_ = enc.Encode(&s.Problems[i])
	}
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
