package edge

import (
	"strings"
	"testing"

	"github.com/rancher-edge/edge/route"
)

// Rules that differ only in spaces or in the case of a host name claim the
// same requests: the compiler reports the clash once per service, with the
// same words (the dashboard lists it once), across providers. Paths keep
// their case.
func TestRuleClashIgnoresSpacesAndHostCase(t *testing.T) {
	s, err := New(Config{HTTPAddr: ":0"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Update(snapshot(svc("a", "Host:shop.example.com", "http://127.0.0.1:1"),
		svc("p1", "Host:x.example.com;Path:/A", "http://127.0.0.1:1")))
	tbl := s.Update(route.Snapshot{Provider: "rancher", Services: []route.Service{
		{Name: "b.shop", Source: route.Source{Provider: "rancher", Stack: "shop", Service: "b"},
			Rule: "Host: Shop.Example.com", Servers: []route.Server{{URL: "http://127.0.0.1:1", Weight: 1}}},
		{Name: "p2.x", Source: route.Source{Provider: "rancher", Stack: "x", Service: "p2"},
			Rule: "Host:x.example.com;Path:/a", Servers: []route.Server{{URL: "http://127.0.0.1:1", Weight: 1}}},
	}})
	var msgs []string
	for _, p := range tbl.Problems() {
		if strings.Contains(p.Message, "claimed by") {
			msgs = append(msgs, p.Source.String()+": "+p.Message)
		}
	}
	if len(msgs) != 2 || !strings.Contains(msgs[0], "file:a, rancher:shop/b") || msgs[0][strings.Index(msgs[0], "rule"):] != msgs[1][strings.Index(msgs[1], "rule"):] {
		t.Errorf("clash reports:\n%s", strings.Join(msgs, "\n"))
	}
	if got := clashKey("Host: Shop.Example.com ; Path:/A"); got != "host:shop.example.com;Path:/A" {
		t.Errorf("clashKey = %q", got)
	}
}
