//go:build tools

// Package tools keeps helm's main package in this wrapper module's go.mod
// and go.sum (go mod tidy).
package tools

import _ "helm.sh/helm/v4/cmd/helm"
