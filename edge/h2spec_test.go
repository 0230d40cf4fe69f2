package edge

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/summerwind/h2spec"
	"github.com/summerwind/h2spec/config"
)

// TestH2Spec runs h2spec, the HTTP/2 conformance suite (RFC 7540 and
// RFC 7541, 146 cases), against the edge's HTTP/2 server. Its requests
// name 127.0.0.1, routed to a backend that reads the bodies, as a
// proxied request would be. h2spec prints each case; a failure lists the
// failed ones with what it expected.
func TestH2Spec(t *testing.T) {
	if testing.Short() {
		t.Skip("the conformance suite takes a few seconds")
	}
	te := startEdge(t)
	te.srv.Update(snapshot(svc("spec", "Host:127.0.0.1", h2Backend(t, nil, nil))))
	host, port, _ := net.SplitHostPort(te.httpsHost)
	p, _ := strconv.Atoi(port)
	ok, err := h2spec.Run(&config.Config{
		Host:         host,
		Port:         p,
		Path:         "/",
		Timeout:      2 * time.Second,
		MaxHeaderLen: 4000,
		TLS:          true,
		Insecure:     true, // a self-signed certificate for *.test.local
	})
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Error("h2spec found the edge's HTTP/2 server non-conformant (the failures are listed above)")
	}
}
