package kubernetes

import (
	"sync/atomic"

	"github.com/rancher-edge/edge/route"
)

// stamps numbers fingerprints across the process: a provider that runs
// again (after an error, a new leader) must not hand the edge a number
// its last run gave to other routes, or the edge would keep those.
var stamps atomic.Uint64

// stamper gives one snapshot stream (the Ingresses', the Gateway API's)
// its fingerprints: the last snapshot's when a rebuild says the same
// (route.SameRoutes), a new number when it does not. Comparing the output
// rather than the inputs means an update that changes nothing the edge
// uses (a status write, an unrelated EndpointSlice) publishes nothing;
// comparing it with the last snapshot, route by route, costs a fraction
// of what hashing it did (its JSON, a sixth of a rebuild).
//
// The zero stamper has seen nothing. It is not safe for concurrent use.
type stamper struct {
	last route.Snapshot
	n    uint64 // the last snapshot's fingerprint; 0 before the first
}

// stamp sets snap's Fingerprint and reports whether it differs from the
// last snapshot stamped, which it then becomes.
func (st *stamper) stamp(snap *route.Snapshot) bool {
	if st.n != 0 && route.SameRoutes(&st.last, snap) {
		snap.Fingerprint = st.n
		return false
	}
	st.n = stamps.Add(1)
	snap.Fingerprint = st.n
	st.last = *snap
	return true
}
