// Command peers is the harness behind `make bench-peers`: it measures the
// edge against HAProxy, nginx and Caddy on loopback (see bench/README.md).
//
// bench/peers.sh installs the peers, makes the certificate and builds the
// binaries; this program then does the rest:
//
//	peers origin -addr 127.0.0.1:18080   a 1 KiB HTTP/1.1 backend
//	peers hsload -addr … -c 64 -d 10s    full-handshake load (no resumption)
//	peers run -out DIR …                 start everything, check, measure, report
package main
