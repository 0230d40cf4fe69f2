package ranchertest

import (
	"fmt"
	"strconv"
)

// DemoConfig describes the sample environment built by [NewDemo].
type DemoConfig struct {
	// Options configure the server.
	Options Options

	// WhoamiIP returns the primaryIpAddress of the whoami container with
	// the given 1-based index; the demo runs a real backend on each.
	// Indexes 1–3 are the healthy containers, 4 is the unhealthy one (which
	// uses UnhealthyIP instead), and 5 and up are started by scaling.
	// Nil means 127.0.0.<index+1>.
	WhoamiIP func(index int) string

	// Port is the port the whoami backends listen on (its traefik.port
	// label); zero means 8080.
	Port int

	// UnhealthyIP is the address of the unhealthy container, which
	// discovery must leave out; empty means 127.0.0.250.
	UnhealthyIP string

	// MixedIP is the address of the MixedCase/Api container; empty means
	// the first whoami address.
	MixedIP string

	// HealthCheckPath, when set, gives whoami the edge's active health
	// check (traefik.backend.healthcheck.path, every 2 s) and makes the
	// unhealthy container one Rancher believes healthy: discovery routes
	// it, and the edge's own check takes it out of rotation, as with a
	// container whose process hangs while Rancher's check still passes.
	HealthCheckPath string
}

// Demo names the resources [NewDemo] created.
type Demo struct {
	WebStack     string // stack "web"
	Whoami       string // service web/whoami: 3 healthy containers and 1 unhealthy
	Unhealthy    string // the unhealthy whoami container
	NoLabels     string // service web/nolabels: containers but no traefik labels
	MixedStack   string // stack "MixedCase"
	MixedService string // service MixedCase/Api, routed as api.mixedcase.<domain>
	SystemStack  string // system stack "healthcheck", never routed
	ScaleCommand string // a curl command that scales whoami to 5 through the API, printing one line
}

// NewDemo starts a server with the demo environment:
//
//   - stack web, service whoami with traefik.port and traefik.enable, three
//     healthy containers at cfg.WhoamiIP(1..3) and one unhealthy one;
//   - service web/nolabels without any labels (skipped by discovery);
//   - stack MixedCase with service Api (on cfg.MixedIP), to show that
//     mixed-case names route in lower case;
//   - the system stack healthcheck (skipped).
func NewDemo(cfg DemoConfig) (*Server, *Demo, error) {
	if cfg.WhoamiIP == nil {
		cfg.WhoamiIP = func(i int) string { return "127.0.0." + strconv.Itoa(i+1) }
	}
	if cfg.Port == 0 {
		cfg.Port = 8080
	}
	if cfg.UnhealthyIP == "" {
		cfg.UnhealthyIP = "127.0.0.250"
	}
	s, err := New(cfg.Options)
	if err != nil {
		return nil, nil, err
	}
	port := strconv.Itoa(cfg.Port)
	d := &Demo{}
	d.SystemStack = s.AddStack(StackSpec{Name: "healthcheck", System: true})
	s.AddService(d.SystemStack, ServiceSpec{Name: "healthcheck", HealthCheck: true, Scale: 2})
	d.WebStack = s.AddStack(StackSpec{Name: "web"})
	whoamiLabels := map[string]string{"traefik.enable": "true", "traefik.port": port}
	unhealthy := "unhealthy"
	if cfg.HealthCheckPath != "" {
		whoamiLabels["traefik.backend.healthcheck.path"] = cfg.HealthCheckPath
		whoamiLabels["traefik.backend.healthcheck.interval"] = "2s"
		unhealthy = "healthy"
	}
	d.Whoami = s.AddService(d.WebStack, ServiceSpec{
		Name:        "whoami",
		Labels:      whoamiLabels,
		HealthCheck: true,
		Scale:       3,
		IP:          cfg.WhoamiIP,
	})
	// Like in Rancher, the unhealthy container counts towards the scale.
	d.Unhealthy = s.AddContainer(d.Whoami, ContainerSpec{IP: cfg.UnhealthyIP, Health: unhealthy})
	s.setScale(d.Whoami, 4)
	d.NoLabels = s.AddService(d.WebStack, ServiceSpec{Name: "nolabels", Scale: 1})
	d.MixedStack = s.AddStack(StackSpec{Name: "MixedCase"})
	first := cfg.WhoamiIP(1)
	if cfg.MixedIP != "" {
		first = cfg.MixedIP
	}
	d.MixedService = s.AddService(d.MixedStack, ServiceSpec{
		Name:   "Api",
		Labels: map[string]string{"traefik.port": port},
		Scale:  1,
		IP:     func(int) string { return first },
	})
	access, secret := s.EnvironmentKey()
	d.ScaleCommand = fmt.Sprintf(`curl -s -o /dev/null -w 'whoami scaled to 5: HTTP %%{http_code}\n' -u %s:%s -X PUT -H 'Content-Type: application/json' -d '{"scale":5}' %s/services/%s`,
		access, secret, s.ProjectURL(), d.Whoami)
	return s, d, nil
}
