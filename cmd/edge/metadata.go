package main

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/rancher-edge/edge/discovery/metadata"
)

// metadataConfig holds the settings of TRAEFIK_RANCHER_MODE=metadata:
// routes from rancher-metadata, which needs no API key.
type metadataConfig struct {
	URL          string
	Prefix       string
	Refresh      time.Duration
	IntervalPoll bool
	Domain       string
	Exposed      bool
	HealthFilter bool
	Sidekick     bool
	RuleOrder    string
	Constraints  []string
}

// provider is the metadata provider's configuration for these settings.
func (mc *metadataConfig) provider(logger *slog.Logger) metadata.Config {
	return metadata.Config{
		URL: mc.URL, Prefix: mc.Prefix, Refresh: mc.Refresh, IntervalPoll: mc.IntervalPoll,
		Domain: mc.Domain, ExposedByDefault: mc.Exposed, HealthFilter: mc.HealthFilter,
		RuleOrder: mc.RuleOrder, Constraints: mc.Constraints, SidekickLabels: mc.Sidekick, Logger: logger,
	}
}

// rancherMode reads TRAEFIK_RANCHER_MODE: "api" or "metadata".
func rancherMode(e env, p *problems) string {
	switch m := strings.ToLower(e.value(lookupSetting("TRAEFIK_RANCHER_MODE"))); m {
	case "api", "metadata":
		return m
	default:
		p.add("TRAEFIK_RANCHER_MODE: %q is not api or metadata", m)
		return ""
	}
}

// loadMetadata reads metadata mode's settings, or returns nil in api
// mode. The settings it shares with api mode mean the same there.
func loadMetadata(e env, p *problems) *metadataConfig {
	if rancherMode(e, p) != "metadata" {
		return nil
	}
	mc := &metadataConfig{
		URL:          strings.TrimSpace(e.value(lookupSetting("TRAEFIK_RANCHER_METADATA_URL"))),
		Prefix:       strings.TrimSpace(e.value(lookupSetting("TRAEFIK_RANCHER_PREFIX"))),
		Refresh:      e.durationSetting("TRAEFIK_RANCHER_REFRESH", p),
		IntervalPoll: e.boolSetting("TRAEFIK_RANCHER_INTERVALPOLL", p),
		Domain:       strings.Trim(strings.TrimSpace(e.get("TRAEFIK_RANCHER_DOMAIN")), "."),
		Exposed:      e.boolSetting("TRAEFIK_RANCHER_EXPOSED", p),
		HealthFilter: e.boolSetting("TRAEFIK_RANCHER_HEALTHCHECK", p),
		Sidekick:     e.boolSetting("TRAEFIK_RANCHER_SIDEKICK_LABELS", p),
		RuleOrder:    strings.ToLower(e.value(lookupSetting("TRAEFIK_RANCHER_RULE_ORDER"))),
		Constraints:  splitList(e.get("TRAEFIK_RANCHER_CONSTRAINTS")),
	}
	// The provider's own validation, so that check refuses what serve
	// would: the 2015-07-25 prefix, a URL with a path, a bad constraint.
	if err := mc.provider(nil).Validate(); err != nil {
		p.add("TRAEFIK_RANCHER_MODE=metadata: %w", err)
	}
	return mc
}

// newMetadataProvider makes the provider of metadata mode.
func newMetadataProvider(mc *metadataConfig, logger *slog.Logger) (*metadata.Provider, error) {
	mp, err := metadata.New(mc.provider(logger))
	if err != nil {
		return nil, fmt.Errorf("rancher-metadata: %w", err)
	}
	logger.Info("rancher-metadata discovery configured", "url", mc.URL, "prefix", mc.Prefix, "interval_poll", mc.IntervalPoll)
	return mp, nil
}

// describeMetadata is edge check's line about metadata mode.
func describeMetadata(mc *metadataConfig) string {
	how := "long-polling /version, changes live at once"
	if mc.IntervalPoll {
		how = fmt.Sprintf("polling /version every %v", mc.Refresh)
	}
	return fmt.Sprintf("rancher-metadata: %s/%s (%s)",
		strings.TrimRight(mc.URL, "/"), strings.Trim(mc.Prefix, "/"), how)
}
