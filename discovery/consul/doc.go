// Package consul discovers routes in a Consul catalog, as Traefik 1.7's
// consulCatalog provider did, but live, with less load on Consul, and
// without losing routes when the agent is unreachable.
//
// # Overview
//
// Service tags are labels: <prefix>.x.y=v (prefix "traefik" by default,
// matched case-insensitively) is the label traefik.x.y=v, and every
// service's labels go through the shared labels.Build, the one code path
// that turns traefik.* labels into routes for every provider. A service's
// labels are the union of its instances' tags; traefik.port and
// traefik.weight belong to each instance. Servers are the instances whose
// aggregated checks (their own and their node's) pass, or also warn with
// [Config.WarningIsHealthy]; maintenance is always out. Without a
// traefik.frontend.rule tag, the rule comes from the frontend rule
// template (Host:{{.ServiceName}}.{{.Domain}}).
//
// # Watching
//
// [Provider.Run] keeps two blocking queries open through the official
// client (github.com/hashicorp/consul/api, behind the narrow reader
// interface): /v1/catalog/services and /v1/health/state/any. When one
// returns, the provider compares tags and a digest of each service's
// checks with the previous answer and reads /v1/health/service/<name> only
// for the services that changed — Traefik read every service on every
// change. A catalog move that neither explains (an instance without
// checks) and the first answer after an outage read every service. The
// result is built by the pure build(world) and published only when its
// fingerprint changed.
//
// Failed reads back off with jitter and publish nothing, so the last good
// routes keep serving; [Provider.Status] says why in plain words (an
// unreachable agent, a 403 naming the setting the token came from, a
// token whose ACL policy hides every service). The token never appears in
// the status or the log.
//
// Package consultest runs a real Consul agent for the tests.
package consul
