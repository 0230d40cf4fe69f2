package edge

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// The edge's own HTTP/2 server (RFC 9113). One read loop per connection
// parses frames and keeps the protocol state; each request runs on its
// own goroutine, which proxies it over the fast path's upstream pools or,
// for a route with middlewares or a host handler, calls the net/http
// handler through an adapter. Writes are batched (h2write.go).

const (
	h2MaxStreams   = 250     // SETTINGS_MAX_CONCURRENT_STREAMS we advertise
	h2StreamWindow = 1 << 20 // receive window per stream
	h2ConnWindow   = 1 << 20 // receive window per connection
	h2ReadBuffer   = 8 << 10
	// h2RecentResets is how many streams the edge remembers having reset:
	// frames the client sent before it saw the reset are ignored.
	h2RecentResets = 128
)

// h2conn is one HTTP/2 client connection.
type h2conn struct {
	s       *Server
	conn    net.Conn
	track   *tracked
	entry   uint8
	handler http.Handler // for streams the proxy does not serve itself
	tls     *tls.ConnectionState
	remote  string
	br      *bufio.Reader
	fr      *http2.Framer

	kick       chan struct{}
	stop       chan struct{} // closed at teardown: the writer drains and ends
	writerDone chan struct{}
	streamWG   sync.WaitGroup
	idle       *time.Timer

	mu    sync.Mutex
	space sync.Cond // the pending buffer drained, a window opened, or a stream died
	// write side
	out, spare []byte
	writing    bool // the writer owns a wake-up: no need to kick it
	stopping   bool
	werr       error
	wdeadline  writeDeadline
	enc        *hpack.Encoder
	hbuf       bytes.Buffer
	// protocol state
	streams      map[uint32]*h2stream
	lastID       uint32 // highest client stream id seen
	sendWin      int64  // connection send window
	peerInitWin  int64  // SETTINGS_INITIAL_WINDOW_SIZE of the peer
	peerMaxFrame uint32
	recvWin      int64 // what the peer may still send on the connection
	credit       int64 // consumed connection bytes not yet returned
	sentGoAway   bool
	resets       [h2RecentResets]uint32 // the last streams the edge reset, a ring
	resetPos     int
	draining     bool // no new streams: shutting down, idle, or the peer said GOAWAY
	dead         bool // the connection is unusable: every stream aborts
	idleSince    time.Time
}

// serveH2 serves an HTTP/2 connection whose TLS handshake negotiated h2,
// until the client or the server ends it.
func (s *Server) serveH2(tc *tls.Conn, t *tracked, entry uint8) {
	st := tc.ConnectionState()
	c := &h2conn{
		s:            s,
		conn:         tc,
		track:        t,
		entry:        entry,
		handler:      s.routes(entry),
		tls:          &st,
		remote:       tc.RemoteAddr().String(),
		kick:         make(chan struct{}, 1),
		stop:         make(chan struct{}),
		writerDone:   make(chan struct{}),
		streams:      make(map[uint32]*h2stream),
		sendWin:      65535,
		peerInitWin:  65535,
		peerMaxFrame: 16384,
		recvWin:      h2ConnWindow,
		idleSince:    time.Now(),
	}
	c.space.L = &c.mu
	c.wdeadline.timeout = s.cfg.WriteTimeout
	c.br = bufio.NewReaderSize(tc, h2ReadBuffer)
	c.fr = http2.NewFramer(nil, c.br)
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.fr.MaxHeaderListSize = uint32(s.cfg.MaxHeaderBytes)
	c.fr.SetMaxReadFrameSize(16384) // the default we advertise
	c.fr.SetReuseFrames()
	c.enc = hpack.NewEncoder(&c.hbuf)
	t.onShutdown(c.shutdown)
	go c.writeLoop()
	c.idle = time.AfterFunc(c.sweepEvery(), c.idleCheck)
	err := c.readLoop()
	c.teardown(err)
}

// readLoop reads frames until the connection ends, and returns why.
func (c *h2conn) readLoop() error {
	c.mu.Lock()
	c.out = append(c.out, settingsFrame(c.s.cfg.MaxHeaderBytes)...)
	c.windowUpdateLocked(0, h2ConnWindow-65535)
	c.mu.Unlock()

	c.conn.SetReadDeadline(time.Now().Add(c.s.cfg.ReadHeaderTimeout))
	var pre [len(http2.ClientPreface)]byte
	if _, err := io.ReadFull(c.br, pre[:]); err != nil {
		return err
	}
	if string(pre[:]) != http2.ClientPreface {
		return http2.ConnectionError(http2.ErrCodeProtocol)
	}
	first := true
	for {
		f, err := c.fr.ReadFrame()
		if first && err == nil {
			c.conn.SetReadDeadline(time.Time{})
			if _, ok := f.(*http2.SettingsFrame); !ok {
				return http2.ConnectionError(http2.ErrCodeProtocol)
			}
			first = false
		}
		if err != nil {
			var se http2.StreamError
			if errors.As(err, &se) {
				if err := c.streamError(se); err != nil {
					return err
				}
				continue
			}
			if errors.Is(err, http2.ErrFrameTooLarge) {
				return http2.ConnectionError(http2.ErrCodeFrameSize)
			}
			return err
		}
		if err := c.process(f); err != nil {
			return err
		}
		if c.finished() {
			return nil
		}
	}
}

// settingsFrame is the server's SETTINGS: the limits a client must keep.
func settingsFrame(maxHeaderBytes int) []byte {
	settings := [...]http2.Setting{
		{ID: http2.SettingMaxConcurrentStreams, Val: h2MaxStreams},
		{ID: http2.SettingInitialWindowSize, Val: h2StreamWindow},
		{ID: http2.SettingMaxHeaderListSize, Val: uint32(maxHeaderBytes)},
	}
	b := appendFrameHeader(nil, 6*len(settings), http2.FrameSettings, 0, 0)
	for _, s := range settings {
		b = append(b, byte(s.ID>>8), byte(s.ID))
		b = appendUint32(b, s.Val)
	}
	return b
}

// process handles one frame; an error ends the connection.
func (c *h2conn) process(f http2.Frame) error {
	switch f := f.(type) {
	case *http2.MetaHeadersFrame:
		return c.onHeaders(f)
	case *http2.DataFrame:
		return c.onData(f)
	case *http2.SettingsFrame:
		return c.onSettings(f)
	case *http2.WindowUpdateFrame:
		return c.onWindowUpdate(f)
	case *http2.PingFrame:
		if f.IsAck() {
			return nil
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		c.out = appendFrameHeader(c.out, 8, http2.FramePing, http2.FlagPingAck, 0)
		c.out = append(c.out, f.Data[:]...)
		c.queued()
		return c.controlLocked()
	case *http2.RSTStreamFrame:
		c.mu.Lock()
		defer c.mu.Unlock()
		if f.StreamID > c.lastID {
			return http2.ConnectionError(http2.ErrCodeProtocol) // an idle stream
		}
		if st := c.streams[f.StreamID]; st != nil {
			st.localDone = true // nothing more may be sent on it
			c.abortLocked(st)
		}
		return nil
	case *http2.GoAwayFrame:
		c.mu.Lock()
		c.draining = true
		c.mu.Unlock()
		return nil
	case *http2.PriorityFrame:
		if f.StreamDep == f.StreamID {
			return c.streamError(http2.StreamError{StreamID: f.StreamID, Code: http2.ErrCodeProtocol})
		}
		return nil
	case *http2.PushPromiseFrame:
		return http2.ConnectionError(http2.ErrCodeProtocol) // clients never push
	}
	return nil // unknown frames are ignored
}

func (c *h2conn) onSettings(f *http2.SettingsFrame) error {
	if f.IsAck() {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	err := f.ForeachSetting(func(s http2.Setting) error {
		if err := s.Valid(); err != nil {
			return err
		}
		switch s.ID {
		case http2.SettingInitialWindowSize:
			delta := int64(s.Val) - c.peerInitWin
			c.peerInitWin = int64(s.Val)
			for _, st := range c.streams {
				st.sendWin += delta
				if st.sendWin > 1<<31-1 {
					return http2.ConnectionError(http2.ErrCodeFlowControl)
				}
			}
			c.space.Broadcast()
		case http2.SettingMaxFrameSize:
			c.peerMaxFrame = s.Val
		case http2.SettingHeaderTableSize:
			c.enc.SetMaxDynamicTableSizeLimit(s.Val)
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.out = appendFrameHeader(c.out, 0, http2.FrameSettings, http2.FlagSettingsAck, 0)
	c.queued()
	return c.controlLocked()
}

func (c *h2conn) onWindowUpdate(f *http2.WindowUpdateFrame) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	incr := int64(f.Increment)
	if f.StreamID == 0 {
		c.sendWin += incr
		if c.sendWin > 1<<31-1 {
			return http2.ConnectionError(http2.ErrCodeFlowControl)
		}
		c.space.Broadcast()
		return nil
	}
	if f.StreamID > c.lastID {
		return http2.ConnectionError(http2.ErrCodeProtocol)
	}
	st := c.streams[f.StreamID]
	if st == nil || st.localDone {
		return nil // closed: updates may still be in flight
	}
	st.sendWin += incr
	if st.sendWin > 1<<31-1 {
		c.resetLocked(st, http2.ErrCodeFlowControl)
		c.abortLocked(st)
		return nil
	}
	c.space.Broadcast()
	return nil
}

// onData appends a DATA frame's payload to its stream's request body.
func (c *h2conn) onData(f *http2.DataFrame) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := int64(f.Length) // padding counts against the windows too
	if n > c.recvWin {
		return http2.ConnectionError(http2.ErrCodeFlowControl)
	}
	c.recvWin -= n
	st := c.streams[f.StreamID]
	if st == nil || st.remoteDone {
		if f.StreamID > c.lastID {
			return http2.ConnectionError(http2.ErrCodeProtocol)
		}
		c.returnConnLocked(n)
		if c.resetByUs(f.StreamID) {
			return nil // sent before the client saw our RST_STREAM
		}
		if st != nil {
			st.localDone = true
			c.abortLocked(st)
		}
		c.rstLocked(f.StreamID, http2.ErrCodeStreamClosed)
		return c.controlLocked()
	}
	if n > st.recvWin {
		c.returnConnLocked(n)
		c.resetLocked(st, http2.ErrCodeFlowControl)
		c.abortLocked(st)
		return c.controlLocked()
	}
	st.recvWin -= n
	data := f.Data()
	if pad := n - int64(len(data)); pad > 0 {
		c.returnConnLocked(pad)
		st.returnLocked(pad)
	}
	st.recvd += int64(len(data))
	if st.declLen >= 0 && (st.recvd > st.declLen || (f.StreamEnded() && st.recvd != st.declLen)) {
		c.returnConnLocked(int64(len(data)))
		c.resetLocked(st, http2.ErrCodeProtocol)
		c.abortLocked(st)
		return c.controlLocked()
	}
	if st.discard {
		c.returnConnLocked(int64(len(data)))
		st.returnLocked(int64(len(data)))
	} else if len(data) > 0 {
		st.body = append(st.body, data...)
	}
	if f.StreamEnded() {
		st.remoteDone = true
	}
	st.readable.Broadcast()
	return nil
}

// resetByUs reports, with c.mu held, whether the edge recently reset the
// stream (RFC 9113 §5.1: frames in flight on it are then ignored).
func (c *h2conn) resetByUs(id uint32) bool {
	for _, r := range c.resets {
		if r == id {
			return true
		}
	}
	return false
}

// returnConnLocked gives n consumed bytes back to the peer's connection
// window, in updates of at least a quarter of the window.
func (c *h2conn) returnConnLocked(n int64) {
	c.credit += n
	if c.credit >= h2ConnWindow/4 && !c.dead {
		c.windowUpdateLocked(0, c.credit)
		c.recvWin += c.credit
		c.credit = 0
	}
}

// streamError resets a stream the framer found malformed; a client that
// keeps sending such frames without reading the resets is flooding.
func (c *h2conn) streamError(se http2.StreamError) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.streams[se.StreamID]; st != nil {
		c.resetLocked(st, se.Code)
		c.abortLocked(st)
		return c.controlLocked()
	}
	c.lastID = max(c.lastID, se.StreamID)
	c.rstLocked(se.StreamID, se.Code)
	return c.controlLocked()
}

// abortLocked ends st for the request side: its body reads fail, its
// writes fail, its handler's context is cancelled and its backend
// exchange is cut.
func (c *h2conn) abortLocked(st *h2stream) {
	if st.reset {
		return
	}
	st.reset = true
	st.remoteDone = true
	if st.cancel != nil {
		st.cancel()
	}
	st.cutUpLocked()
	st.readable.Broadcast()
	c.space.Broadcast()
}

func (c *h2conn) abortAllLocked() {
	for _, st := range c.streams {
		c.abortLocked(st)
	}
}

// finished reports whether the read loop may end: draining with no
// stream left.
func (c *h2conn) finished() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.draining && len(c.streams) == 0
}

// shutdown is the graceful stop: GOAWAY now, close once the streams in
// flight are done.
func (c *h2conn) shutdown() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.draining = true
	c.goAwayLocked(http2.ErrCodeNo)
	if len(c.streams) == 0 {
		c.conn.SetReadDeadline(time.Unix(1, 0))
	}
}

// sweepEvery is how often a connection's timer looks at it: waits are
// ended between their bound and their bound plus this.
func (c *h2conn) sweepEvery() time.Duration {
	cfg := &c.s.cfg
	return min(cfg.IdleTimeout, cfg.ReadTimeout/2, cfg.WriteTimeout/2)
}

// idleCheck runs on the connection's timer: it ends the waits on the
// client that last too long (sweepLocked), and closes the connection once
// it has had no stream for IdleTimeout.
func (c *h2conn) idleCheck() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead || c.stopping {
		return
	}
	every := c.sweepEvery()
	if len(c.streams) > 0 {
		c.sweepLocked(time.Now())
		c.idle.Reset(every)
		return
	}
	if left := c.s.cfg.IdleTimeout - time.Since(c.idleSince); left > 0 {
		c.idle.Reset(min(left, every))
		return
	}
	c.draining = true
	c.goAwayLocked(http2.ErrCodeNo)
	c.conn.SetReadDeadline(time.Unix(1, 0))
}

// sweepLocked ends, with c.mu held, the waits on the client that lasted
// too long. A stream whose body made no progress for ReadTimeout has its
// reads fail (the exchange answers 408 when it can) and its backend
// connection cut. A stream the client gave no window to send for
// WriteTimeout is reset and its backend exchange released; when every
// stream of the connection is stalled so, the connection is closed.
func (c *h2conn) sweepLocked(now time.Time) {
	cfg := &c.s.cfg
	stalledWrites := 0
	for _, st := range c.streams {
		if st.waitSince.IsZero() || st.reset {
			continue
		}
		waited := now.Sub(st.waitSince)
		switch {
		case st.waitWrite && waited >= cfg.WriteTimeout:
			stalledWrites++
			c.resetLocked(st, http2.ErrCodeCancel)
			c.abortLocked(st)
		case !st.waitWrite && waited >= cfg.ReadTimeout && !st.stalled:
			st.stalled = true
			st.bodyFailedLocked(errBodyTimeout)
			st.readable.Broadcast()
		}
	}
	if stalledWrites > 0 && stalledWrites == len(c.streams) {
		c.s.log.Debug("HTTP/2 client gave no flow-control window for the write timeout; closing", "remote", c.remote, "streams", stalledWrites)
		c.draining = true
		c.goAwayLocked(http2.ErrCodeNo)
		c.conn.SetReadDeadline(time.Unix(1, 0))
	}
}

// teardown ends the connection after the read loop: a GOAWAY saying why
// (when the connection still works), every stream aborted, what is queued
// written within a second, and the stream goroutines waited for.
func (c *h2conn) teardown(err error) {
	c.idle.Stop()
	c.mu.Lock()
	var ce http2.ConnectionError
	switch {
	case errors.As(err, &ce):
		c.goAwayLocked(http2.ErrCode(ce))
	case err == nil || errors.Is(err, os.ErrDeadlineExceeded):
		c.goAwayLocked(http2.ErrCodeNo)
	default:
		c.dead = true // the client is gone
	}
	c.abortAllLocked()
	c.stopping = true
	c.conn.SetWriteDeadline(time.Now().Add(time.Second))
	c.mu.Unlock()
	close(c.stop)
	<-c.writerDone
	c.mu.Lock()
	c.dead = true
	c.space.Broadcast()
	c.mu.Unlock()
	c.conn.Close()
	c.streamWG.Wait()
}
