package rancher

import (
	"github.com/rancher-edge/edge/discovery/cattle"
)

// The API's collections are read into the world both Rancher providers
// share (package cattle), which holds the filters and the route assembly.
type (
	raw          = cattle.World
	rawStack     = cattle.Stack
	rawService   = cattle.Service
	rawContainer = cattle.Container
	settings     = cattle.Settings
	prepared     = cattle.Prepared
)

func (c Config) settings() settings {
	return settings{Provider: "rancher", Labels: c.labelOptions(), HealthFilter: c.HealthFilter, StackFirst: c.RuleOrder == RuleOrderStackService}
}

func prepare(r raw, s settings) prepared { return cattle.Prepare(r, s) }
