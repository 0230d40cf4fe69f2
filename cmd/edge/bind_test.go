package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestExplainBind(t *testing.T) {
	refused := fmt.Errorf("edge: listening for HTTP: %w", &net.OpError{
		Op: "listen", Net: "tcp", Addr: &net.TCPAddr{Port: 80},
		Err: os.NewSyscallError("bind", syscall.EACCES),
	})
	got := explainBind(refused)
	if !errors.Is(got, syscall.EACCES) {
		t.Errorf("the explained error no longer wraps EACCES: %v", got)
	}
	for _, want := range []string{"permission denied", "port 80 ", "ip_unprivileged_port_start=0", "NET_BIND_SERVICE", "TRAEFIK_HTTP_PORT=8080"} {
		if !strings.Contains(got.Error(), want) {
			t.Errorf("explained error lacks %q:\n%v", want, got)
		}
	}
	inUse := fmt.Errorf("edge: %w", &net.OpError{Op: "listen", Net: "tcp", Addr: &net.TCPAddr{Port: 80}, Err: os.NewSyscallError("bind", syscall.EADDRINUSE)})
	if got := explainBind(inUse); got != inUse {
		t.Errorf("an address in use got a privilege hint: %v", got)
	}
	if explainBind(nil) != nil {
		t.Error("nil became an error")
	}
}
