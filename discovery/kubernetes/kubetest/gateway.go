package kubetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/yaml"
)

// GatewayAPIModule is the module whose CRDs and conformance manifests the
// tests read: the project's go.mod requires it, and its conformance
// manifests are a module of their own at the same version.
const (
	GatewayAPIModule      = "sigs.k8s.io/gateway-api"
	GatewayAPIConformance = "sigs.k8s.io/gateway-api/conformance"
)

// moduleDir is where the go command keeps a module: the version go.mod
// requires (version empty, asked from dir, inside the project), or an
// exact version (downloaded into the module cache when missing; call it
// before InNetns, where there is no network).
func moduleDir(t testing.TB, dir, module, version string) string {
	t.Helper()
	args := []string{"list", "-m", "-json", module}
	if version != "" {
		args = []string{"mod", "download", "-json", module + "@" + version}
		dir = os.TempDir() // outside the project: nothing is added to go.mod or go.sum
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	var m struct{ Dir, Version string }
	if err := json.Unmarshal(out.Bytes(), &m); err != nil || m.Dir == "" {
		t.Fatalf("go %s: no module directory in %q (%v)", strings.Join(args, " "), out.String(), err)
	}
	return m.Dir
}

// GatewayAPIDir is the module cache directory of the gateway-api module at
// the version go.mod requires.
func GatewayAPIDir(t testing.TB) (dir, version string) {
	t.Helper()
	d := moduleDir(t, ".", GatewayAPIModule, "")
	_, v, _ := strings.Cut(filepath.Base(d), "@")
	return d, v
}

// ConformanceDir is the module cache directory of the gateway-api
// conformance module at the same version: its tests/*.yaml and
// base/manifests.yaml are the scenarios the Gateway API tests replay.
func ConformanceDir(t testing.TB) string {
	t.Helper()
	_, v := GatewayAPIDir(t)
	return moduleDir(t, os.TempDir(), GatewayAPIConformance, v)
}

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// InstallGatewayAPI applies the standard-channel CRDs of the gateway-api
// module (config/crd/standard, read from the module cache) server-side and
// waits until the apiserver serves them.
func (c *Cluster) InstallGatewayAPI(ctx context.Context) error {
	dir, _ := GatewayAPIDir(c.t)
	files, err := filepath.Glob(filepath.Join(dir, "config", "crd", "standard", "*.yaml"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no CRDs in %s/config/crd/standard (%v)", dir, err)
	}
	crds := c.Dynamic.Resource(crdResource)
	var names []string
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
		for {
			var obj map[string]any
			if err := dec.Decode(&obj); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return fmt.Errorf("%s: %w", f, err)
			}
			u := &unstructured.Unstructured{Object: obj}
			if u.GetKind() != "CustomResourceDefinition" {
				continue // the ValidatingAdmissionPolicy guarding upgrades
			}
			body, _ := json.Marshal(obj)
			force := true
			if _, err := crds.Patch(ctx, u.GetName(), types.ApplyPatchType, body, metav1.PatchOptions{FieldManager: "edge-test", Force: &force}); err != nil {
				return fmt.Errorf("applying %s: %w", u.GetName(), err)
			}
			names = append(names, u.GetName())
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range names {
		for {
			got, err := crds.Get(ctx, n, metav1.GetOptions{})
			if err == nil && established(got) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("CRD %s not established after 30 s (%v)", n, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

func established(u *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}
