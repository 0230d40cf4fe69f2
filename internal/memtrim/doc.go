// Package memtrim gives back to the kernel the pages of the edge's own
// executable that only its start-up needed.
//
// The edge is one static binary of about 40 MB: five discovery providers,
// ACME with its DNS providers, the dashboard. Before main runs, the
// initialisers of some 250 packages execute, each touching its own code
// and data; and for every page a fault touches in a file mapping, Linux
// maps the pages around it that are in the page cache too (fault-around,
// 64 KiB by default). A fresh edge serving one route therefore has about
// 23 MiB of its executable resident, of which its request path uses about
// 9 (measured: docs/performance.md, "The executable's start-up pages").
//
// [Release] asks the kernel to drop the executable's read-only mappings
// from the process (MADV_PAGEOUT) and to read no pages around a fault in
// them from then on (MADV_RANDOM). The edge calls it twice: before its
// providers load the routes, so that the initialisers' pages are not
// resident while a large table is built, and once it serves. What the
// request path needs faults back in, page by page; what only start-up
// ran stays out.
// Pages another process maps too (a second edge from the same file) are
// left alone by the kernel. Writable mappings are never touched: their
// pages hold the program's variables.
//
// It is Linux-only; elsewhere, and on kernels older than 5.4 (no
// MADV_PAGEOUT), Release reports that it did nothing.
package memtrim
