package kubetest

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// envInside marks a test binary re-executed inside its own network
// namespace.
const envInside = "EDGE_TEST_NETNS"

// InNetns runs the calling top-level test inside a network namespace of
// its own, where test addresses such as 10.200.0.x can be added to the
// loopback interface: the apiserver refuses loopback endpoint addresses,
// and nothing may dial a non-loopback address outside such a namespace.
//
// Go's unshare(2) affects only the calling thread, so the first call
// re-executes the test binary under `unshare -n` (`unshare -Urn` when not
// root), running only this test, and reports its output and result; it
// returns false and the caller returns. Inside, it brings lo up, adds
// addrs to it and returns true.
func InNetns(t *testing.T, addrs ...string) bool {
	t.Helper()
	if os.Getenv(envInside) == "" {
		args := []string{"-n"}
		if os.Geteuid() != 0 {
			args = []string{"-Urn"}
		}
		timeout := 10 * time.Minute
		if d, ok := t.Deadline(); ok {
			timeout = time.Until(d) - 10*time.Second
		}
		args = append(args, os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1", "-test.timeout="+timeout.String())
		cmd := exec.Command("unshare", args...)
		cmd.Env = append(os.Environ(), envInside+"=1")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		for _, line := range strings.Split(strings.TrimRight(out.String(), "\n"), "\n") {
			t.Log(line)
		}
		if err != nil {
			t.Fatalf("the test failed inside its network namespace (unshare %s): %v", strings.Join(args[:1], " "), err)
		}
		if !strings.Contains(out.String(), "--- PASS: "+t.Name()) {
			t.Fatalf("the test did not pass inside its network namespace")
		}
		return false
	}
	ip := func(args ...string) {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	ip("link", "set", "lo", "up")
	for _, a := range addrs {
		ip("addr", "add", a+"/32", "dev", "lo")
	}
	return true
}
