package etcdstore

import (
	"testing"
	"time"

	"github.com/rancher-edge/edge/certs/storagetest"
)

// clusterLockTTL is the lock lease TTL of cluster replicas: longer than
// the conformance tests' 2 s, because under -race on two cores etcd can
// stall for a second or two, and a lease that expires in a stall hands
// a held lock to another replica (a duplicate order).
const clusterLockTTL = 4 * time.Second

// TestThreeReplicasOrderEachNameOnce: three edges on one etcd discover
// the same 20 names at once; exactly one order per name reaches Pebble
// and all three serve the same certificate (storagetest).
func TestThreeReplicasOrderEachNameOnce(t *testing.T) {
	storagetest.ThreeReplicasOrderEachNameOnce(t, etcdBackend(startEtcd(t), clusterLockTTL))
}

// TestKilledHolderOrderCompletes: the replica holding a name's lock dies
// mid-order; another takes the lock once the dead one's lease expires
// and completes the order (storagetest).
func TestKilledHolderOrderCompletes(t *testing.T) {
	storagetest.KilledHolderOrderCompletes(t, etcdBackend(startEtcd(t), clusterLockTTL))
}
