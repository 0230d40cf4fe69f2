package main

import (
	"errors"
	"fmt"
	"net"
	"syscall"
)

// explainBind adds the ways out to an error from binding a port the kernel
// refused for lack of privilege. The image carries no file capability (it
// would make exec itself fail under --cap-drop ALL), so ports below 1024
// bind only where the runtime allows it.
func explainBind(err error) error {
	if err == nil || !errors.Is(err, syscall.EACCES) {
		return err
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "listen" {
		return err
	}
	port := "below 1024"
	if op.Addr != nil {
		if _, p, perr := net.SplitHostPort(op.Addr.String()); perr == nil {
			port = p
		}
	}
	return fmt.Errorf("%w\nbinding port %s needs privilege the edge does not have; any one of these fixes it:\n"+
		"  - let every user bind low ports: sysctl net.ipv4.ip_unprivileged_port_start=0 (Docker >= 20.10 sets it in containers; Kubernetes: securityContext.sysctls)\n"+
		"  - grant NET_BIND_SERVICE to a root process: --user 0 --cap-drop ALL --cap-add NET_BIND_SERVICE (Kubernetes: runAsUser: 0, capabilities.add: [NET_BIND_SERVICE])\n"+
		"  - listen above 1024: TRAEFIK_HTTP_PORT=8080 TRAEFIK_HTTPS_PORT=8443 (TRAEFIK_ADMIN_PORT likewise) and publish 80 and 443 to them", err, port)
}
