// Package procpace runs the edge on as few Ps (GOMAXPROCS) as its load
// needs, up to the runtime's default.
//
// With more Ps than work, Go's scheduler keeps handing goroutines between
// threads: a P that runs out of goroutines parks its thread, and when the
// netpoller or a channel makes a goroutine runnable while a P is idle,
// the runtime wakes a thread for it. A proxy's work arrives a request at
// a time, so at a load below one core that is a wake-up and a park every
// few requests. Measured on the harness's loads with the edge using less
// than one core of two (docs/performance.md, "As many Ps as the load
// needs"): 0.15–0.2 futex calls and 0.4 more context switches per
// request, and 25–30 % more CPU per request, than with one P. With one P
// a goroutine made runnable waits for the running one to block, which on
// a proxy is a few microseconds away.
//
// [Run] measures the process's CPU time every 100 ms and moves
// GOMAXPROCS by [Policy.Next]: the Ps double once they are 80 % busy for
// two intervals in a row, or 95 % busy for one, and come down one at a
// time once the load has fit in one P fewer for a second. A burst
// therefore runs on too few Ps for at most 200 ms. The caller leaves it
// off when the user set GOMAXPROCS.
package procpace
