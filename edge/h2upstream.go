package edge

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"time"

	"golang.org/x/net/http2"
)

// h2Upstream speaks HTTP/2 to the backends that need it — gRPC servers,
// which answer nothing else (ingress-nginx's backend-protocol GRPC and
// GRPCS): a server URL h2c://host:port is cleartext HTTP/2 with prior
// knowledge, h2://host:port HTTP/2 over TLS (verified like https://
// backends, Config.BackendTLS). Their routes leave the fast paths, which
// speak HTTP/1.1 upstream, for the net/http handler chain; the exchange
// engine, balancing and retries are the same. Streams share one
// connection per backend, and trailers (grpc-status) are relayed.
type h2Upstream struct {
	clear, secure *http2.Transport
}

func newH2Upstream(cfg Config) *h2Upstream {
	d := &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}
	tc := &tls.Config{}
	if cfg.BackendTLS != nil {
		tc = cfg.BackendTLS.Clone()
	}
	tc.NextProtos = []string{http2.NextProtoTLS}
	return &h2Upstream{
		clear: &http2.Transport{
			AllowHTTP: true,
			DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
				return d.DialContext(ctx, network, addr)
			},
			DisableCompression: true,
			// A dead backend connection is noticed by a ping, not
			// by the next request's wait.
			ReadIdleTimeout: 30 * time.Second,
			PingTimeout:     15 * time.Second,
		},
		secure: &http2.Transport{
			TLSClientConfig: tc,
			DialTLSContext: func(ctx context.Context, network, addr string, cfg *tls.Config) (net.Conn, error) {
				return (&tls.Dialer{NetDialer: d, Config: cfg}).DialContext(ctx, network, addr)
			},
			DisableCompression: true,
			ReadIdleTimeout:    30 * time.Second,
			PingTimeout:        15 * time.Second,
		},
	}
}

// isH2 reports a backend scheme that needs HTTP/2.
func isH2(scheme string) bool { return scheme == "h2c" || scheme == "h2" }

// roundTrip sends out to b over HTTP/2.
func (u *h2Upstream) roundTrip(out *http.Request, b *backend) (*http.Response, error) {
	if b.scheme == "h2c" {
		out.URL.Scheme = "http"
		return u.clear.RoundTrip(out)
	}
	out.URL.Scheme = "https"
	return u.secure.RoundTrip(out)
}

func (u *h2Upstream) close() {
	u.clear.CloseIdleConnections()
	u.secure.CloseIdleConnections()
}
