// Package h1wire holds what the edge knows about HTTP/1.1 on the wire
// that is not proxy policy: which fields are hop-by-hop (RFC 9110
// §7.6.1), the one list every proxy path and the forward-auth middleware
// consult.
package h1wire
