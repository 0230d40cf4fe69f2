package testtools

import (
	"os/exec"
	"strings"
	"testing"
)

// TestHelmSharesTheAPIServersModules keeps the two wrapper modules
// aligned (tools/README.md): one module at two versions makes a cold
// `make test` compile its packages, and all above them, twice — about two
// minutes for Helm on 2 cores.
func TestHelmSharesTheAPIServersModules(t *testing.T) {
	out, err := exec.Command("bash", "../../tools/shared.sh", "kube-apiserver", "helm").CombinedOutput()
	if err != nil {
		t.Fatalf("tools/shared.sh: %v\n%s", err, out)
	}
	if diff := strings.TrimSpace(string(out)); diff != "" {
		t.Errorf("modules tools/kube-apiserver and tools/helm use at different versions (require the higher in both):\n%s", diff)
	}
}
