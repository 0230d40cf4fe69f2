package edge

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"time"
)

// poolTransport sends the attempts (nhExchange.attempt) of requests that
// go through the handler chain while the fast path is on — routes with
// middlewares, over HTTP/1 by net/http's server and over HTTP/2 by the
// edge's, and upgrades — to HTTP/1.1 backends. It draws on the fast path's
// connection pools and works on the calling goroutine: the request is written and the response head read
// synchronously, without http.Transport's read and write loops and the
// channel hand-offs between them, which cost a third of an HTTP/2
// request's CPU. A request body is sent whole before the response is
// read, as on the HTTP/1.1 fast path (the HTTP/2 one is full duplex).
type poolTransport struct {
	pools  *upPools
	header time.Duration // ResponseHeaderTimeout; 0 means none
}

// exchange writes out on uc and reads the response head. A client that
// goes away meanwhile (an HTTP/2 stream reset) ends the wait.
func (t *poolTransport) exchange(uc *upConn, out *http.Request) (*http.Response, error) {
	ctx := out.Context()
	stop := context.AfterFunc(ctx, func() { uc.conn.SetDeadline(time.Unix(1, 0)) })
	resp, done, err := t.exchangeHead(uc, out)
	if !stop() || ctx.Err() != nil {
		// The deadline may be set: uc is closed (by the caller), never
		// pooled.
		if err == nil && !done {
			resp.Body.Close()
		}
		return nil, ctx.Err()
	}
	if done {
		t.release(uc, resp.Close)
	}
	return resp, err
}

// exchangeHead writes out and reads the response head. done reports a
// response without a body: its connection is free once the wait for the
// client is stopped.
func (t *poolTransport) exchangeHead(uc *upConn, out *http.Request) (resp *http.Response, done bool, err error) {
	w := uc.writer()
	err = out.Write(w)
	if err == nil {
		err = w.Flush()
	}
	putWriter(w)
	if err != nil {
		return nil, false, err
	}
	if t.header > 0 {
		uc.conn.SetReadDeadline(time.Now().Add(t.header))
	}
	for {
		resp, err := http.ReadResponse(uc.br, out)
		if err != nil {
			return nil, false, err
		}
		switch {
		case resp.StatusCode == http.StatusSwitchingProtocols:
			uc.conn.SetReadDeadline(time.Time{})
			// ReverseProxy writes to the body of a 101 to reach the
			// backend: give it the connection itself.
			resp.Body = &upgradedBody{uc: uc}
			return resp, false, nil
		case resp.StatusCode < 200:
			// An interim response (103 Early Hints, 100 Continue):
			// ReverseProxy relays what a client trace reports.
			if tr := httptrace.ContextClientTrace(out.Context()); tr != nil && tr.Got1xxResponse != nil {
				if err := tr.Got1xxResponse(resp.StatusCode, textproto.MIMEHeader(resp.Header)); err != nil {
					return nil, false, err
				}
			}
			continue
		}
		if t.header > 0 {
			uc.conn.SetReadDeadline(time.Time{})
		}
		if resp.Body == http.NoBody || out.Method == http.MethodHead {
			return resp, true, nil
		}
		pb := &pooledBody{ReadCloser: resp.Body, t: t, uc: uc, close: resp.Close}
		// The client may go while the body streams (a reset stream, a
		// closed connection): cut the backend read then, as the head's
		// wait is cut, or the exchange is held until the backend ends.
		conn := uc.conn
		pb.stop = context.AfterFunc(out.Context(), func() { conn.SetDeadline(time.Unix(1, 0)) })
		resp.Body = pb
		return resp, false, nil
	}
}

// release returns uc to its pool unless the backend is closing it.
func (t *poolTransport) release(uc *upConn, closing bool) {
	if closing {
		uc.conn.Close()
		return
	}
	t.pools.put(uc)
}

// pooledBody returns its connection to the pool once the body has been
// read to the end, and closes it if the body is abandoned before that.
type pooledBody struct {
	io.ReadCloser
	t     *poolTransport
	uc    *upConn
	close bool
	stop  func() bool // stops watching the client's context
}

func (b *pooledBody) Read(p []byte) (int, error) {
	if b.uc == nil {
		return 0, io.EOF
	}
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) {
		if !b.stop() {
			b.close = true // the client went as the body ended: the deadline is set
		}
		b.t.release(b.uc, b.close)
		b.uc = nil
	} else if err != nil {
		b.stop()
		b.uc.conn.Close()
		b.uc = nil
	}
	return n, err
}

func (b *pooledBody) Close() error {
	if b.uc != nil {
		b.stop()
		b.uc.conn.Close()
		b.uc = nil
	}
	return nil
}

// upgradedBody is a switched-protocol connection as a response body.
type upgradedBody struct{ uc *upConn }

func (b *upgradedBody) Read(p []byte) (int, error)  { return b.uc.br.Read(p) }
func (b *upgradedBody) Write(p []byte) (int, error) { return b.uc.conn.Write(p) }
func (b *upgradedBody) Close() error                { return b.uc.conn.Close() }
