package edge

import (
	"errors"
	"runtime"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// The HTTP/2 write side. Streams and the read loop append whole frames to
// one pending buffer under the connection's mutex; a single writer
// goroutine hands the buffer to the TLS connection and swaps in a spare.
// While it writes, everything other streams finish piles up behind it and
// goes out in the next write: under load many responses share one TLS
// record and one system call. Header blocks are encoded under the same mutex, so HPACK's
// shared state sees them in the order they are sent.

var (
	errStreamReset = errors.New("http2: stream reset")
	errConnGone    = errors.New("http2: connection closed")
)

const (
	// h2MaxPending bounds the bytes waiting for the writer; a stream
	// wanting to add more waits for the client to read. Control frames
	// the read loop queues (acknowledgements) may exceed it up to
	// h2MaxControl, beyond which the client is flooding us.
	h2MaxPending = 256 << 10
	h2MaxControl = 1 << 20
	// h2MaxSpare is the largest drained buffer kept for reuse.
	h2MaxSpare = 16 << 10
)

// appendFrameHeader appends a 9-byte frame header.
func appendFrameHeader(b []byte, length int, t http2.FrameType, flags http2.Flags, id uint32) []byte {
	return append(b, byte(length>>16), byte(length>>8), byte(length), byte(t), byte(flags),
		byte(id>>24)&0x7f, byte(id>>16), byte(id>>8), byte(id))
}

func appendUint32(b []byte, v uint32) []byte {
	return append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// queued is called with c.mu held after frames were appended to c.out:
// it wakes the writer unless a write is already under way (the writer
// looks again when it finishes).
func (c *h2conn) queued() {
	if !c.writing {
		c.writing = true
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

// writeLoop sends the pending buffer whenever there is one, until the
// connection is torn down (c.stop) and everything queued before that has
// been sent.
func (c *h2conn) writeLoop() {
	defer close(c.writerDone)
	for {
		select {
		case <-c.kick:
			// Let the streams that are runnable now (their backends
			// answered in the same poll) add their frames first: one
			// write for all of them instead of one each.
			runtime.Gosched()
		case <-c.stop:
		}
		c.mu.Lock()
		for len(c.out) > 0 && c.werr == nil {
			if !c.stopping {
				// Under c.mu, so teardown's shorter deadline wins.
				c.wdeadline.extend(c.conn)
			}
			b := c.out
			c.out = c.spare[:0]
			c.spare = nil
			c.mu.Unlock()
			_, err := c.conn.Write(b)
			c.mu.Lock()
			if cap(b) <= h2MaxSpare {
				c.spare = b[:0]
			}
			if err != nil {
				c.werr = err
				c.out = c.out[:0]
				c.dead = true
				c.abortAllLocked()
				// Unblock the read loop: nothing more can be said.
				c.conn.SetReadDeadline(time.Unix(1, 0))
			}
			c.space.Broadcast()
		}
		c.writing = false
		stopping := c.stopping
		c.mu.Unlock()
		if stopping {
			return
		}
	}
}

// waitSpace waits, with c.mu held, until the pending buffer has room for
// a stream's frames; it fails when the stream or connection is gone.
func (c *h2conn) waitSpace(st *h2stream) error {
	for len(c.out) >= h2MaxPending && !st.reset && !c.dead {
		c.space.Wait()
	}
	return st.alive()
}

// alive reports, with c.mu held, why the stream can no longer be written.
func (st *h2stream) alive() error {
	switch {
	case st.c.dead:
		return errConnGone
	case st.reset:
		return errStreamReset
	}
	return nil
}

// writeHeaders encodes fields as one header block for st (HEADERS then
// CONTINUATION frames as the peer's frame size needs) and queues it.
func (c *h2conn) writeHeaders(st *h2stream, fields []hpack.HeaderField, end bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.waitSpace(st); err != nil {
		return err
	}
	c.headersLocked(st, fields, end)
	return nil
}

// headersLocked encodes and queues a header block with c.mu held; the
// caller has made sure it will be sent (see continueLocked).
func (c *h2conn) headersLocked(st *h2stream, fields []hpack.HeaderField, end bool) {
	c.hbuf.Reset()
	for _, f := range fields {
		c.enc.WriteField(f)
	}
	block := c.hbuf.Bytes()
	t := http2.FrameHeaders
	flags := http2.Flags(0)
	if end {
		flags |= http2.FlagHeadersEndStream
		st.localDone = true
	}
	max := int(c.peerMaxFrame)
	for first := true; first || len(block) > 0; first = false {
		n := min(len(block), max)
		f := flags
		if n == len(block) {
			f |= http2.FlagHeadersEndHeaders
		}
		c.out = appendFrameHeader(c.out, n, t, f, st.id)
		c.out = append(c.out, block[:n]...)
		block = block[n:]
		t, flags = http2.FrameContinuation, 0
	}
	c.queued()
}

// writeData queues p as DATA frames on st within the flow-control
// windows, waiting for the peer to open them; end marks the last frame
// (an empty one when p is empty) as the end of the stream.
func (c *h2conn) writeData(st *h2stream, p []byte, end bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if !st.reset && !c.dead && (len(c.out) >= h2MaxPending || (len(p) > 0 && (st.sendWin <= 0 || c.sendWin <= 0))) {
			// A client that never opens the window would hold the
			// stream (and its backend connection) forever: the sweep
			// resets it after WriteTimeout.
			st.waitSince, st.waitWrite = time.Now(), true
			for !st.reset && !c.dead && (len(c.out) >= h2MaxPending || (len(p) > 0 && (st.sendWin <= 0 || c.sendWin <= 0))) {
				c.space.Wait()
			}
			st.waitSince = time.Time{}
		}
		if err := st.alive(); err != nil {
			return err
		}
		n := int(min(int64(len(p)), st.sendWin, c.sendWin, int64(c.peerMaxFrame)))
		last := end && n == len(p)
		flags := http2.Flags(0)
		if last {
			flags = http2.FlagDataEndStream
			st.localDone = true
		}
		c.out = appendFrameHeader(c.out, n, http2.FrameData, flags, st.id)
		c.out = append(c.out, p[:n]...)
		st.sendWin -= int64(n)
		c.sendWin -= int64(n)
		c.queued()
		p = p[n:]
		if len(p) == 0 {
			return nil
		}
	}
}

// resetLocked queues RST_STREAM for st, once, with c.mu held.
func (c *h2conn) resetLocked(st *h2stream, code http2.ErrCode) {
	if st.localDone || c.dead {
		return
	}
	st.localDone = true
	c.rstLocked(st.id, code)
}

func (c *h2conn) rstLocked(id uint32, code http2.ErrCode) {
	c.resets[c.resetPos] = id
	c.resetPos = (c.resetPos + 1) % h2RecentResets
	c.out = appendFrameHeader(c.out, 4, http2.FrameRSTStream, 0, id)
	c.out = appendUint32(c.out, uint32(code))
	c.queued()
}

// controlLocked checks, with c.mu held, that the control frames the read
// loop is about to queue do not pile up unread.
func (c *h2conn) controlLocked() error {
	if len(c.out) > h2MaxControl {
		return http2.ConnectionError(http2.ErrCodeEnhanceYourCalm)
	}
	return nil
}

func (c *h2conn) windowUpdateLocked(id uint32, incr int64) {
	c.out = appendFrameHeader(c.out, 4, http2.FrameWindowUpdate, 0, id)
	c.out = appendUint32(c.out, uint32(incr))
	c.queued()
}

func (c *h2conn) goAwayLocked(code http2.ErrCode) {
	if c.sentGoAway {
		return
	}
	c.sentGoAway = true
	c.out = appendFrameHeader(c.out, 8, http2.FrameGoAway, 0, 0)
	c.out = appendUint32(c.out, c.lastID)
	c.out = appendUint32(c.out, uint32(code))
	c.queued()
}

// dataWriter is the io.Writer a stream's buffered body writer flushes
// into: each flush becomes DATA frames. With last set, the final frame of
// the next flush carries END_STREAM.
type dataWriter struct {
	st   *h2stream
	last bool
}

func (w *dataWriter) Write(p []byte) (int, error) {
	if err := w.st.c.writeData(w.st, p, w.last); err != nil {
		return 0, err
	}
	return len(p), nil
}
