package edge

import (
	"net"

	"github.com/rancher-edge/edge/edge/internal/proxyproto"
)

// proxyListener accepts the PROXY protocol (v1 and v2) on a listener: a
// peer in TrustedIPs may start its connection with a header naming the
// client (a TCP load balancer in front of the edge), a peer outside it
// that sends one is refused. The header is read by the connection's own
// goroutine, never by the accept loop, within ReadHeaderTimeout.
type proxyListener struct {
	net.Listener
	s *Server
}

// withProxyProtocol wraps ln when Config.ProxyProtocol is set.
func (s *Server) withProxyProtocol(ln net.Listener) net.Listener {
	if !s.cfg.ProxyProtocol {
		return ln
	}
	return proxyListener{Listener: ln, s: s}
}

func (l proxyListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	trusted := false
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		ip := ta.AddrPort().Addr().Unmap()
		for _, p := range l.s.trust {
			if p.Contains(ip) {
				trusted = true
				break
			}
		}
	}
	return proxyproto.NewConn(c, trusted, l.s.cfg.ReadHeaderTimeout), nil
}
