package proxyproto

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// ErrUntrusted is returned by a Conn whose peer sent a PROXY header
// without being trusted to: anyone could otherwise claim any address.
var ErrUntrusted = errors.New("proxyproto: PROXY header from an untrusted address")

// Conn is a connection that may start with a PROXY header. The header is
// read once, at the first Read or RemoteAddr (LocalAddr does not wait):
//
//   - after a first Read, within the deadline the caller set for it;
//   - after a first RemoteAddr, which callers make before setting any
//     deadline (net/http, the edge's fast path), within Timeout; the read
//     deadline is cleared afterwards.
//
// A trusted peer's header replaces RemoteAddr; an untrusted peer's header
// makes every Read fail with ErrUntrusted; without a header the bytes read
// to find out are returned by the next Reads. Conn is for one reader, as
// a net.Conn is; RemoteAddr may be called from any goroutine.
type Conn struct {
	net.Conn
	trusted bool
	timeout time.Duration

	once   sync.Once
	remote net.Addr // the client, when a trusted header named one
	err    error    // the header's verdict, returned by every Read
	buf    [256]byte
	pend   []byte // read from the connection, not yet returned
}

// NewConn wraps c. trusted says whether c's peer may send a header;
// timeout bounds reading it when RemoteAddr comes first.
func NewConn(c net.Conn, trusted bool, timeout time.Duration) *Conn {
	return &Conn{Conn: c, trusted: trusted, timeout: timeout}
}

// Read returns the connection's bytes after the header.
func (c *Conn) Read(p []byte) (int, error) {
	c.once.Do(func() { c.readHeader(false) })
	if len(c.pend) > 0 {
		n := copy(p, c.pend)
		c.pend = c.pend[n:]
		return n, nil
	}
	if c.err != nil {
		return 0, c.err
	}
	return c.Conn.Read(p)
}

// RemoteAddr is the client a trusted header named, else the peer.
func (c *Conn) RemoteAddr() net.Addr {
	c.once.Do(func() { c.readHeader(true) })
	if c.remote != nil {
		return c.remote
	}
	return c.Conn.RemoteAddr()
}

// Header reads the header now, if it has not been read: the connection's
// verdict (nil, ErrUntrusted, an invalid header or a read error).
func (c *Conn) Header() error {
	c.once.Do(func() { c.readHeader(true) })
	return c.err
}

// readHeader reads until Parse decides. It reads no further than the
// header when there is one, except for what one read brought along, which
// stays pending.
func (c *Conn) readHeader(ownDeadline bool) {
	if ownDeadline && c.timeout > 0 {
		c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
		defer c.Conn.SetReadDeadline(time.Time{})
	}
	buf := c.buf[:0]
	for {
		if len(buf) == cap(buf) {
			// Only a v2 header with TLVs gets here; grow within MaxV2.
			nb := make([]byte, len(buf), MaxV2)
			copy(nb, buf)
			buf = nb
		}
		n, err := c.Conn.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		h, size, perr := Parse(buf)
		switch {
		case errors.Is(perr, ErrNeedMore) && err == nil:
			continue
		case errors.Is(perr, ErrNoHeader), errors.Is(perr, ErrNeedMore):
			// Not a header (or the peer stopped inside what looked
			// like one): hand everything on, then the read's error.
			c.pend, c.err = buf, err
			return
		case perr != nil:
			c.err = c.readError(perr)
			return
		case !c.trusted:
			c.err = c.readError(ErrUntrusted)
			return
		}
		c.pend = buf[size:]
		if !h.Local {
			c.remote = net.TCPAddrFromAddrPort(h.Source)
		}
		if len(c.pend) == 0 {
			c.err = err
		}
		return
	}
}

// readError dresses a refusal as the read error it is, so that servers
// close the connection as after any failed read (net/http would answer
// 400 to an error it does not recognise as the network's).
func (c *Conn) readError(err error) error {
	return &net.OpError{Op: "read", Net: "tcp", Source: c.Conn.LocalAddr(), Addr: c.Conn.RemoteAddr(), Err: err}
}

// CloseWrite half-closes the connection when the underlying one can (a
// lingering close sends FIN and still drains what the client sends).
func (c *Conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Conn.Close()
}

// ReadFrom writes r to the connection, keeping the underlying one's
// zero-copy path (splice, sendfile): writes never see the header.
func (c *Conn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}
