package main

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// hostScenarios replays the conformance scenarios of listener hostnames
// and their intersection with the routes' hostnames: their own Gateways
// with several HTTP listeners on port 80, one edge listener.
func (f *gwFixture) hostScenarios(t *testing.T) {
	const v1, v2, v3 = "infra-backend-v1", "infra-backend-v2", "infra-backend-v3"
	accepted := []condition{{"Accepted", "True", "Accepted"}, {"ResolvedRefs", "True", "ResolvedRefs"}}
	t.Run("listener hostname matching", func(t *testing.T) {
		objs := conformanceFile(t, f.conf, "tests/httproute-listener-hostname-matching.yaml")
		f.ap.apply(t, f.ctx, objs)
		defer f.ap.remove(t, f.ctx, objs)
		for _, r := range []string{"backend-v1", "backend-v2", "backend-v3"} {
			f.routeConds(t, infraNS, r, "httproute-listener-hostname-matching", accepted...)
		}
		f.cases(t, "",
			gwCase{host: "bar.com", path: "/", backend: v1}, gwCase{host: "foo.bar.com", path: "/", backend: v2},
			gwCase{host: "baz.bar.com", path: "/", backend: v3}, gwCase{host: "boo.bar.com", path: "/", backend: v3},
			gwCase{host: "multiple.prefixes.bar.com", path: "/", backend: v3}, gwCase{host: "multiple.prefixes.foo.com", path: "/", backend: v3},
			gwCase{host: "foo.com", path: "/", status: 404}, gwCase{host: "no.matching.host", path: "/", status: 404})
	})
	t.Run("hostname intersection", func(t *testing.T) {
		objs := conformanceFile(t, f.conf, "tests/httproute-hostname-intersection.yaml")
		f.ap.apply(t, f.ctx, objs)
		defer f.ap.remove(t, f.ctx, objs)
		for _, r := range []string{"specific-host-matches-listener-specific-host", "specific-host-matches-listener-wildcard-host",
			"wildcard-host-matches-listener-specific-host", "wildcard-host-matches-listener-wildcard-host"} {
			f.routeConds(t, infraNS, r, "httproute-hostname-intersection", accepted...)
		}
		f.routeConds(t, infraNS, "no-intersecting-hosts", "httproute-hostname-intersection",
			condition{"Accepted", "False", "NoMatchingListenerHostname"})
		f.cases(t, "",
			gwCase{host: "very.specific.com", path: "/s1", backend: v1},
			gwCase{host: "non.matching.com", path: "/s1", status: 404}, gwCase{host: "foo.nonmatchingwildcard.io", path: "/s1", status: 404},
			gwCase{host: "foo.wildcard.io", path: "/s1", status: 404}, gwCase{host: "very.specific.com", path: "/non-matching-prefix", status: 404},
			gwCase{host: "foo.wildcard.io", path: "/s2", backend: v2}, gwCase{host: "bar.wildcard.io", path: "/s2", backend: v2},
			gwCase{host: "foo.bar.wildcard.io", path: "/s2", backend: v2},
			gwCase{host: "non.matching.com", path: "/s2", status: 404}, gwCase{host: "wildcard.io", path: "/s2", status: 404},
			gwCase{host: "very.specific.com", path: "/s2", status: 404}, gwCase{host: "foo.wildcard.io", path: "/non-matching-prefix", status: 404},
			gwCase{host: "very.specific.com", path: "/s3", backend: v3},
			gwCase{host: "non.matching.com", path: "/s3", status: 404}, gwCase{host: "foo.specific.com", path: "/s3", status: 404},
			gwCase{host: "foo.wildcard.io", path: "/s3", status: 404},
			gwCase{host: "foo.anotherwildcard.io", path: "/s4", backend: v1}, gwCase{host: "bar.anotherwildcard.io", path: "/s4", backend: v1},
			gwCase{host: "foo.bar.anotherwildcard.io", path: "/s4", backend: v1},
			gwCase{host: "anotherwildcard.io", path: "/s4", status: 404}, gwCase{host: "foo.wildcard.io", path: "/s4", status: 404},
			gwCase{host: "very.specific.com", path: "/s4", status: 404},
			gwCase{host: "specific.but.wrong.com", path: "/s5", status: 404}, gwCase{host: "wildcard.io", path: "/s5", status: 404})
		// attachedRoutes counts the accepted routes only.
		waitFor(t, 20*time.Second, func() error {
			g, err := f.gwc.GatewayV1().Gateways(infraNS).Get(f.ctx, "httproute-hostname-intersection", metav1.GetOptions{})
			if err != nil {
				return err
			}
			for l, want := range map[string]int32{"listener-1": 2, "listener-2": 1, "listener-3": 1} {
				if got := gwListener(g, l).AttachedRoutes; got != want {
					return fmt.Errorf("%s attachedRoutes %d, want %d", l, got, want)
				}
			}
			return nil
		})
	})
}
