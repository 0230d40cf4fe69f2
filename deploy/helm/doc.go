// Package helm holds the rancher-edge Helm chart (rancher-edge/) and its
// tests: helm lint, helm template with the values users choose, the
// chart's promises (non-root, no capability, read-only root, ports above
// 1024, a grace period longer than the drain) and a server-side dry-run of
// the rendered chart and of deploy/kubernetes against a real apiserver.
package helm
