package edge

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/rancher-edge/edge/route"
)

// TestTableMemoryPerRoute: the heap a compiled table keeps per route of
// one rule and two servers of its own, the shape of the 10,000-route
// file of the memory target (docs/performance.md). The server keeps each
// service once, in its route, not in the provider's snapshot as well;
// a backend that has not served holds no traffic state and no upstream
// pool.
func TestTableMemoryPerRoute(t *testing.T) {
	const n = 4000
	s := tableServer(t)
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	// The snapshot is built and handed over in a call of its own, so that
	// only the server can keep it.
	update := func() *Table {
		svcs := make([]route.Service, n)
		for i := range svcs {
			svcs[i] = svc(fmt.Sprintf("svc%d", i), fmt.Sprintf("Host:svc%d.stack%d.example.com", i, i%40),
				fmt.Sprintf("http://10.42.%d.%d:8080", i/256, i%256), fmt.Sprintf("http://10.43.%d.%d:8080", i/256, i%256))
		}
		return s.Update(snapshot(svcs...))
	}
	before := heap()
	tbl := update()
	if len(tbl.Routes()) != n {
		t.Fatalf("%d routes, want %d", len(tbl.Routes()), n)
	}
	per := float64(heap()-before) / n
	runtime.KeepAlive(tbl)
	t.Logf("%.0f bytes per route", per)
	// 2,284 when written; 2,757 with the snapshot's services kept as well,
	// 2,476 with an error window in every backend; 1,992 since pools are
	// attached on a backend's first request, 2,284 with one made for
	// every backend address by the compile.
	if per > 2100 {
		t.Errorf("a table keeps %.0f bytes per route, more than 2,100", per)
	}
}
