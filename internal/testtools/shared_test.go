package testtools

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// TestHelmSharesTheAPIServersModules keeps the two wrapper modules
// aligned (tools/README.md): one module at two versions makes a cold
// `make test` compile its packages, and all above them, twice — about two
// minutes for Helm on 2 cores.
//
// Only the script's standard output is its verdict: on a machine whose
// tool binaries are cached but whose module cache is empty, Go says
// "go: downloading …" on standard error while it lists the modules.
func TestHelmSharesTheAPIServersModules(t *testing.T) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("bash", "../../tools/shared.sh", "kube-apiserver", "helm")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tools/shared.sh: %v\n%s%s", err, stdout.Bytes(), stderr.Bytes())
	}
	if diff := strings.TrimSpace(stdout.String()); diff != "" {
		t.Errorf("modules tools/kube-apiserver and tools/helm use at different versions (require the higher in both):\n%s", diff)
	}
}
