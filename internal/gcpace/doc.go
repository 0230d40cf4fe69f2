// Package gcpace bounds how far the garbage collector lets the heap grow
// past what is live, for a process whose live heap is mostly long-lived.
//
// Go's collector lets the heap grow to twice the live heap before it
// collects again (GOGC=100). That is the right trade for memory allocated
// at the rate of the load: the work per collection and the collections
// per second balance. The edge's live heap is mostly its routing table,
// which a large Rancher environment makes 20–30 MB and which does not grow
// with the load; the load's own share is a few MB. Doubling the table as
// headroom for the load costs as much memory again as the table
// (docs/performance.md, "10,000 routes in 60 MiB").
//
// [Start] caps that headroom: after every collection it sets the GC
// percent so that the next goal is the live heap plus a fixed headroom.
// While the live heap is below the headroom, the percent is Go's default
// (100) and nothing changes; above it, the percent never falls below a
// floor, so the collector's work per allocated byte grows at most
// 100/floor times.
//
// It runs in the runtime's cleanup goroutine, once per collection. The
// caller leaves it off when the user set GOGC or GOMEMLIMIT.
package gcpace
