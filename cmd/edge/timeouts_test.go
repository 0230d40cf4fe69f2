package main

import (
	"strings"
	"testing"
	"time"
)

func TestLimitSettings(t *testing.T) {
	load := func(vars map[string]string) (limits, problems) {
		var p problems
		l := loadLimits(env{getenv: func(k string) string { return vars[k] }}, &p)
		return l, p
	}
	l, p := load(nil)
	if len(p) > 0 || l.MaxFails != 3 || l.FailTimeout != 10*time.Second || l.Dial != 30*time.Second || l.Header != 180*time.Second || l.Read != time.Minute || l.Write != time.Minute ||
		l.Idle != 180*time.Second || l.Grace != 10*time.Second || l.KeepUnderscores || len(l.notes) > 0 {
		t.Errorf("defaults: %+v, problems %v", l, p)
	}
	// The community images' bare seconds, and their 0 meaning "no
	// limit", which keeps the edge's bound and says so.
	l, p = load(map[string]string{"TRAEFIK_TIMEOUT_DIAL": "5", "TRAEFIK_TIMEOUT_HEADER": "0", "TRAEFIK_TIMEOUT_GRACE": "1.5",
		"TRAEFIK_UNDERSCORE_HEADERS": "keep", "TRAEFIK_MAX_BODY_SIZE": "10m"})
	if len(p) > 0 || l.MaxBody != 10<<20 || l.Dial != 5*time.Second || l.Header != 180*time.Second || l.Grace != 1500*time.Millisecond || !l.KeepUnderscores {
		t.Errorf("%+v, problems %v", l, p)
	}
	if len(l.notes) != 1 || !strings.Contains(l.notes[0], "TRAEFIK_TIMEOUT_HEADER=0") || !strings.Contains(l.notes[0], "3m0s") {
		t.Errorf("notes %q", l.notes)
	}
	_, p = load(map[string]string{"TRAEFIK_TIMEOUT_IDLE": "soon", "TRAEFIK_TIMEOUT_WRITE": "-1s", "TRAEFIK_UNDERSCORE_HEADERS": "maybe",
		"TRAEFIK_MAX_BODY_SIZE": "big", "TRAEFIK_TIMEOUT_ACCEPT": "-5"})
	if len(p) != 5 {
		t.Errorf("problems %v, want 5 (every one at once)", p)
	}
	// TRAEFIK_TIMEOUT_ACCEPT's 0 is Traefik's default: no accept period,
	// nothing to note.
	l, p = load(map[string]string{"TRAEFIK_TIMEOUT_ACCEPT": "0"})
	if len(p) > 0 || l.Accept != 0 || len(l.notes) > 0 {
		t.Errorf("accept 0: %+v, problems %v", l, p)
	}
	l, _ = load(map[string]string{"TRAEFIK_TIMEOUT_ACCEPT": "5"})
	if l.Accept != 5*time.Second {
		t.Errorf("accept 5: %s", l.Accept)
	}
}
