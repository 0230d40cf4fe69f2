// Package h1wire is the edge's HTTP/1.1 codec, shared by both fast paths
// (the HTTP/1.1 loop and the HTTP/2 server's HTTP/1.1 backend side): it
// parses request heads strictly (RFC 9112; a message two parsers could
// frame differently is refused, anything valid but unusual is left to
// net/http with ErrHandOver), reads backend response heads, and relays
// bodies — by length, until close, or chunked with their framing checked
// — streaming, without buffering a body whole.
//
// It also holds the one list of hop-by-hop fields (hop.go).
//
// Parsing allocates nothing but what the caller asks for: a request head
// is parsed from one string whose substrings every field refers to, a
// response head's slices point into the reader's buffer. Fuzz targets
// compare the parsers and the chunked relay with net/http's.
package h1wire
