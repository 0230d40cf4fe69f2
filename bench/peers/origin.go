package main

import (
	"bytes"
	"flag"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// origin serves GET / with 1 KiB over HTTP/1.1 and names itself in the
// X-Backend header. GET /__hits (asked directly, not through a proxy)
// returns how many other requests it has answered.
func origin(args []string) error {
	fs := flag.NewFlagSet("origin", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:18080", "listen address (loopback)")
	_ = fs.Parse(args)

	_, port, err := net.SplitHostPort(*addr)
	if err != nil {
		return err
	}
	body := bytes.Repeat([]byte("x"), 1024)
	var hits atomic.Int64
	name := []string{"origin-" + port}
	ctype := []string{"text/plain"}
	clen := []string{strconv.Itoa(len(body))}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/__hits" {
			w.Write([]byte(strconv.FormatInt(hits.Load(), 10) + "\n"))
			return
		}
		hits.Add(1)
		hd := w.Header()
		hd["X-Backend"] = name
		hd["Content-Type"] = ctype
		hd["Content-Length"] = clen
		w.Write(body)
	})
	srv := &http.Server{
		Addr:              *addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       5 * time.Minute,
	}
	return srv.ListenAndServe()
}
