package edge

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// accessLog writes one line per request in Common Log Format (with the
// route and duration appended, as Traefik 1.x does) or as JSON.
type accessLog struct {
	mu   sync.Mutex
	w    *bufio.Writer
	json bool
	stop chan struct{}
	done chan struct{}
}

func newAccessLog(w io.Writer, format string) *accessLog {
	a := &accessLog{w: bufio.NewWriterSize(w, 64<<10), json: format == "json", stop: make(chan struct{}), done: make(chan struct{})}
	go a.flushLoop()
	return a
}

// flushLoop flushes buffered lines every second so logs are timely without
// a write system call per request.
func (a *accessLog) flushLoop() {
	defer close(a.done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-t.C:
			a.mu.Lock()
			a.w.Flush()
			a.mu.Unlock()
		}
	}
}

func (a *accessLog) close() error {
	close(a.stop)
	<-a.done
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.w.Flush()
}

type accessEntry struct {
	Time       string  `json:"time"`
	ClientIP   string  `json:"client_ip"`
	Method     string  `json:"method"`
	Host       string  `json:"host"`
	URI        string  `json:"uri"`
	Proto      string  `json:"proto"`
	Status     int     `json:"status"`
	Size       int64   `json:"size"`
	Referer    string  `json:"referer,omitempty"`
	UserAgent  string  `json:"user_agent,omitempty"`
	Route      string  `json:"route,omitempty"`
	DurationMS float64 `json:"duration_ms"`
}

func (a *accessLog) log(r *http.Request, status int, size int64, route string, start time.Time) {
	d := time.Since(start)
	if a.json {
		e := accessEntry{
			Time: start.UTC().Format(time.RFC3339Nano), ClientIP: clientIP(r.RemoteAddr),
			Method: r.Method, Host: r.Host, URI: r.RequestURI, Proto: r.Proto,
			Status: status, Size: size, Referer: r.Referer(), UserAgent: r.UserAgent(),
			Route: route, DurationMS: float64(d.Microseconds()) / 1000,
		}
		line, _ := json.Marshal(e)
		a.mu.Lock()
		a.w.Write(line)
		a.w.WriteByte('\n')
		a.mu.Unlock()
		return
	}
	buf := make([]byte, 0, 256)
	buf = append(buf, clientIP(r.RemoteAddr)...)
	buf = append(buf, " - - ["...)
	buf = start.AppendFormat(buf, "02/Jan/2006:15:04:05 -0700")
	buf = append(buf, "] \""...)
	buf = append(buf, r.Method...)
	buf = append(buf, ' ')
	buf = append(buf, r.RequestURI...)
	buf = append(buf, ' ')
	buf = append(buf, r.Proto...)
	buf = append(buf, "\" "...)
	buf = strconv.AppendInt(buf, int64(status), 10)
	buf = append(buf, ' ')
	buf = strconv.AppendInt(buf, size, 10)
	buf = append(buf, ' ')
	buf = strconv.AppendQuote(buf, r.Referer())
	buf = append(buf, ' ')
	buf = strconv.AppendQuote(buf, r.UserAgent())
	buf = append(buf, ' ')
	buf = strconv.AppendQuote(buf, route)
	buf = append(buf, ' ')
	buf = strconv.AppendInt(buf, d.Milliseconds(), 10)
	buf = append(buf, "ms\n"...)
	a.mu.Lock()
	a.w.Write(buf)
	a.mu.Unlock()
}
