package ranchertest

import (
	"bytes"
	"time"
)

// pendingEvent is a resource.change waiting to be sent. Removed resources
// are rendered when removed, since they are gone by the time of sending.
type pendingEvent struct {
	id    string
	frame []byte // pre-rendered frame, or nil to render at send time
}

// changed queues a resource.change for a resource and drops its cached
// rendering. Changes to one resource within a batch become one event, as
// in Cattle. Called with s.mu held.
func (s *Server) changed(id string) {
	s.invalidate(id)
	if len(s.subs) == 0 {
		return
	}
	if _, ok := s.pending[id]; !ok {
		s.pendingKeys = append(s.pendingKeys, id)
	}
	s.pending[id] = pendingEvent{id: id}
}

// removed queues the final resource.change of a resource that is about to
// be deleted from the world. Called with s.mu held.
func (s *Server) removed(id string) {
	if len(s.subs) == 0 {
		return
	}
	if _, ok := s.pending[id]; !ok {
		s.pendingKeys = append(s.pendingKeys, id)
	}
	s.pending[id] = pendingEvent{id: id, frame: s.eventFrame(id, true)}
}

// flushUnlock sends pending events unless they are batched, then unlocks.
func (s *Server) flushUnlock() {
	if s.opts.EventDelay <= 0 {
		s.flush()
	}
	s.mu.Unlock()
}

// flushLoop sends batched events every EventDelay until Close.
func (s *Server) flushLoop() {
	t := time.NewTicker(s.opts.EventDelay)
	defer t.Stop()
	for {
		select {
		case <-s.closing:
			return
		case <-t.C:
			s.mu.Lock()
			s.flush()
			s.mu.Unlock()
		}
	}
}

// flush sends the pending events to every subscriber that asked for
// resource.change. Called with s.mu held.
func (s *Server) flush() {
	for _, id := range s.pendingKeys {
		ev := s.pending[id]
		frame := ev.frame
		if frame == nil {
			frame = s.eventFrame(id, false)
		}
		if frame == nil {
			continue
		}
		for sub := range s.subs {
			if sub.changes {
				sub.send(frame)
				s.stats.Events++
			}
		}
	}
	clear(s.pending)
	s.pendingKeys = s.pendingKeys[:0]
}

// eventFrame renders a resource.change frame. Frames carry the full
// current resource, project-scoped, with slashes left unescaped (reference
// §4.2). Called with s.mu held.
func (s *Server) eventFrame(id string, removed bool) []byte {
	doc := s.render(id, removed)
	if doc == nil {
		return nil
	}
	ev := map[string]any{
		"id":           newUUID(),
		"name":         "resource.change",
		"resourceId":   id,
		"resourceType": doc["type"],
		"data":         map[string]any{"resource": doc},
		"time":         time.Now().UnixMilli(),
	}
	var buf bytes.Buffer
	encodeJSON(&buf, ev)
	version := s.ts.URL + "/v2-beta"
	b := bytes.ReplaceAll(buf.Bytes(), []byte(phScope), []byte(version+"/projects/"+s.opts.ProjectID))
	return bytes.ReplaceAll(b, []byte(phVersion), []byte(version))
}

// pingFrame renders Cattle's ping event.
func (s *Server) pingFrame() []byte {
	ev := cloneMap(s.tmpl.ping)
	ev["id"] = newUUID()
	ev["time"] = time.Now().UnixMilli()
	var buf bytes.Buffer
	encodeJSON(&buf, ev)
	return buf.Bytes()
}
