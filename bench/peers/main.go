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

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "origin":
		err = origin(os.Args[2:])
	case "hsload":
		err = hsload(os.Args[2:])
	case "run":
		err = run(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: peers origin|hsload|run [flags]  (run via `make bench-peers`)")
	os.Exit(2)
}
