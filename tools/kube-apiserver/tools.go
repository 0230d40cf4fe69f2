//go:build tools

// Package tools keeps kube-apiserver's main package in this wrapper module's
// go.mod and go.sum (go mod tidy).
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
