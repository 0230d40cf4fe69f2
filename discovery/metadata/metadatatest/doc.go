// Package metadatatest runs the real rancher-metadata server (v0.10.4,
// built once per machine by `make tools` from tools/rancher-metadata) for
// tests, and feeds it worlds described in Go.
//
// A [World] is stacks of services of containers, the way Rancher 1.6
// describes an environment; [Answers] encodes it as the answers file the
// server loads (JSON {"Version", "Data"}, Data being base64 of the raw
// DEFLATE of concatenated metadata objects: defaultData, host, stack,
// service, container and serviceContainerLink). [Server.Publish] writes a
// new file and reloads the server through its reload port, which gives
// the server a new /version, as a change in Rancher would.
//
// The server binds ":6060" (a debug listener on every interface) besides
// the addresses it is given, so each [Server] runs in a network namespace
// of its own (unshare -n; its loopback is brought up with an ioctl):
// nothing is bound outside it, and parallel tests do not collide. Clients
// reach it through [Server.DialContext], which opens its sockets inside
// that namespace; [Server.Transport] is an http.Transport that uses it.
package metadatatest
