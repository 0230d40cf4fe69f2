package main

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// hsload opens one TLS connection per request, each with a full handshake:
// no session cache and tickets disabled, so nothing can be resumed whatever
// the server offers. It mirrors wrk's Connection: close scenario otherwise
// (c connections in flight, GET / with Connection: close, read the whole
// response) and prints one JSON line with the totals.
//
// The key share is pinned to X25519, which is what the OpenSSL 3.0 clients
// (wrk, h2load) and servers here use; Go would otherwise offer
// X25519MLKEM768 first and the Go servers would take it while the OpenSSL
// ones cannot, which would compare different key exchanges.
func hsload(args []string) error {
	fs := flag.NewFlagSet("hsload", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:18443", "server address")
	host := fs.String("host", "www.bench.test", "SNI and Host header")
	conns := fs.Int("c", 64, "connections in flight")
	dur := fs.Duration("d", 10*time.Second, "duration")
	_ = fs.Parse(args)

	cfg := &tls.Config{
		ServerName:             *host,
		InsecureSkipVerify:     true, // the server's certificate is checked by the harness's probes
		MinVersion:             tls.VersionTLS13,
		CurvePreferences:       []tls.CurveID{tls.X25519},
		SessionTicketsDisabled: true,
		ClientSessionCache:     nil,
	}
	req := []byte("GET / HTTP/1.1\r\nHost: " + *host + "\r\nUser-Agent: hsload\r\nConnection: close\r\n\r\n")

	var ok, failed, resumed, non200 atomic.Int64
	var firstErr atomic.Value
	start := time.Now()
	deadline := start.Add(*dur)
	var wg sync.WaitGroup
	for i := 0; i < *conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			br := bufio.NewReaderSize(nil, 4096)
			for time.Now().Before(deadline) {
				status, didResume, err := oneConn(*addr, cfg, req, br)
				switch {
				case err != nil:
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				case status != http.StatusOK:
					non200.Add(1)
				default:
					ok.Add(1)
				}
				if didResume {
					resumed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	out := map[string]any{
		"ok":           ok.Load(),
		"errors":       failed.Load(),
		"non200":       non200.Load(),
		"resumed":      resumed.Load(),
		"seconds":      secs,
		"conn_per_sec": float64(ok.Load()) / secs,
	}
	if e, _ := firstErr.Load().(string); e != "" {
		out["first_error"] = e
	}
	b, _ := json.Marshal(out)
	fmt.Fprintln(os.Stdout, string(b))
	return nil
}

func oneConn(addr string, cfg *tls.Config, req []byte, br *bufio.Reader) (status int, resumed bool, err error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, false, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	tc := tls.Client(c, cfg)
	if err := tc.Handshake(); err != nil {
		return 0, false, err
	}
	resumed = tc.ConnectionState().DidResume
	if _, err := tc.Write(req); err != nil {
		return 0, resumed, err
	}
	br.Reset(tc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return 0, resumed, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resumed, err
}
