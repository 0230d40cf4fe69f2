package ranchertest

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// subscriber is one open /subscribe websocket.
type subscriber struct {
	changes  bool        // asked for eventNames=resource.change
	frames   chan []byte // buffered; a subscriber that falls behind is dropped
	done     chan struct{}
	stopOnce sync.Once
}

// send queues a frame without blocking; a full queue means the client is
// not reading, and Cattle drops such subscriptions too.
func (sub *subscriber) send(frame []byte) {
	select {
	case sub.frames <- frame:
	default:
		sub.stop()
	}
}

func (sub *subscriber) stop() { sub.stopOnce.Do(func() { close(sub.done) }) }

// serveSubscribe upgrades GET …/subscribe to a websocket that carries a
// ping at once and every PingInterval, and resource.change events when
// eventNames asks for them (without it there are only pings).
func (s *Server) serveSubscribe(w http.ResponseWriter, req *request) {
	s.mu.Lock()
	refuse := s.refuseWS
	if refuse {
		s.stats.WebsocketRefused++
	}
	s.mu.Unlock()
	if refuse {
		s.writeError(w, req.r, http.StatusServiceUnavailable)
		return
	}
	if !websocket.IsWebSocketUpgrade(req.r) {
		s.writeError(w, req.r, http.StatusBadRequest)
		return
	}
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	hdr := http.Header{}
	for _, k := range []string{"X-Api-Schemas", "X-Api-Account-Id"} {
		hdr.Set(k, w.Header().Get(k))
	}
	hdr.Set("Content-Type", "text/plain")
	conn, err := up.Upgrade(w, req.r, hdr)
	if err != nil {
		return // Upgrade has answered the client
	}
	names := strings.Split(strings.Join(req.r.URL.Query()["eventNames"], ","), ",")
	sub := &subscriber{
		// Only the environment's own project has events to see.
		changes: req.visible && slices.Contains(names, "resource.change"),
		frames:  make(chan []byte, 4096),
		done:    make(chan struct{}),
	}
	s.mu.Lock()
	s.subs[sub] = struct{}{}
	s.stats.WebsocketDials++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.subs, sub)
		s.mu.Unlock()
		_ = conn.Close() // the connection is finished either way
	}()

	// The reader answers the client's control pings (gorilla's default
	// handler) and notices when the client goes away.
	go func() {
		defer sub.stop()
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}()

	write := func(frame []byte) bool {
		_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		return conn.WriteMessage(websocket.TextMessage, frame) == nil
	}
	if !write(s.pingFrame()) {
		return
	}
	pings := 1
	t := time.NewTicker(s.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-s.closing:
			return
		case <-sub.done:
			return
		case frame := <-sub.frames:
			if !write(frame) {
				return
			}
		case <-t.C:
			if pings >= s.opts.MaxPings {
				_ = conn.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
				return
			}
			pings++
			if !write(s.pingFrame()) {
				return
			}
		}
	}
}
