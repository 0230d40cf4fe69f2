package image

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rancher-edge/edge/internal/testtools"
)

// The image's user, as deploy/image/passwd and Containerfile set it.
const imageUID = 10001

// TestImage builds the image for linux/amd64 and linux/arm64 the way
// `make image` does (build.sh, buildah, no registry), checks what a
// runtime reads from it, and runs the edge inside it with every
// capability dropped and no-new-privileges.
func TestImage(t *testing.T) {
	if _, err := exec.LookPath("buildah"); err != nil {
		t.Fatal("buildah is not installed; `make deps-test` installs it (apt-get install buildah)")
	}
	if os.Geteuid() != 0 {
		t.Fatal("building with buildah's vfs storage and chroot isolation needs root")
	}
	dir := t.TempDir()
	b := newBuildah(t, dir)
	checkGetcapWorks(t, dir)

	archs := []string{"amd64", "arm64"}
	binDir := filepath.Join(dir, "bin")
	binSize := map[string]int64{}
	for _, arch := range archs {
		out := filepath.Join(binDir, "edge-linux-"+arch)
		run(t, append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch),
			"go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=image-test", "-o", out, "../../cmd/edge")
		fi, err := os.Stat(out)
		if err != nil {
			t.Fatal(err)
		}
		binSize[arch] = fi.Size()
	}
	b.run(t, "bash", "build.sh", "--archs", strings.Join(archs, " "), "--bin-dir", binDir,
		"--version", "image-test", "--name", "edge-image-test")

	// One name for both: the manifest list lists each platform.
	var list struct {
		Manifests []struct {
			Platform struct{ Architecture, OS string }
		}
	}
	if err := json.Unmarshal([]byte(b.run(t, "buildah", "manifest", "inspect", "edge-image-test:image-test")), &list); err != nil {
		t.Fatalf("manifest list: %v", err)
	}
	var platforms []string
	for _, m := range list.Manifests {
		platforms = append(platforms, m.Platform.OS+"/"+m.Platform.Architecture)
	}
	if strings.Join(platforms, " ") != "linux/amd64 linux/arm64" {
		t.Errorf("manifest list platforms %v, want linux/amd64 linux/arm64", platforms)
	}

	for _, arch := range archs {
		t.Run(arch, func(t *testing.T) {
			ref := "edge-image-test:image-test-" + arch
			checkConfig(t, b, ref, arch, binSize[arch])
			root := b.mount(t, ref)
			checkFiles(t, root, arch)
		})
	}

	host := runtime.GOARCH
	ctr := b.container(t, "edge-image-test:image-test-"+host)
	t.Run("version", func(t *testing.T) {
		out := b.run(t, "setpriv", "--no-new-privs", "buildah", "run", "--isolation", "chroot", "--cap-drop", "ALL",
			ctr, "--", "/usr/local/bin/edge", "version")
		if got := strings.TrimSpace(out); got != "edge image-test" {
			t.Errorf("edge version in the image = %q, want %q", got, "edge image-test")
		}
	})
	t.Run("serve", func(t *testing.T) { checkServe(t, b, ctr) })
	t.Run("port 80 without privilege", func(t *testing.T) { checkLowPort(t, b, ctr) })
}

// checkConfig reads the image's configuration as a runtime would.
func checkConfig(t *testing.T, b *buildah, ref, arch string, binSize int64) {
	t.Helper()
	var img struct {
		Manifest string
		OCIv1    struct {
			Architecture string `json:"architecture"`
			OS           string `json:"os"`
			Config       struct {
				User         string
				Entrypoint   []string
				Cmd          []string
				ExposedPorts map[string]struct{}
				Volumes      map[string]struct{}
				Labels       map[string]string
			} `json:"config"`
		}
	}
	if err := json.Unmarshal([]byte(b.run(t, "buildah", "inspect", "--type", "image", ref)), &img); err != nil {
		t.Fatalf("buildah inspect %s: %v", ref, err)
	}
	c := img.OCIv1.Config
	if img.OCIv1.Architecture != arch || img.OCIv1.OS != "linux" {
		t.Errorf("platform = %s/%s, want linux/%s", img.OCIv1.OS, img.OCIv1.Architecture, arch)
	}
	if c.User != fmt.Sprintf("%d:%d", imageUID, imageUID) {
		t.Errorf("user = %q, want %d:%d (non-root)", c.User, imageUID, imageUID)
	}
	if strings.Join(c.Entrypoint, " ") != "/usr/local/bin/edge" || strings.Join(c.Cmd, " ") != "serve" {
		t.Errorf("entrypoint %q cmd %q, want [/usr/local/bin/edge] [serve]", c.Entrypoint, c.Cmd)
	}
	for _, p := range []string{"80/tcp", "443/tcp", "8000/tcp"} {
		if _, ok := c.ExposedPorts[p]; !ok {
			t.Errorf("port %s not exposed (exposed: %v)", p, c.ExposedPorts)
		}
	}
	if _, ok := c.Volumes["/data"]; !ok || len(c.Volumes) != 1 {
		t.Errorf("volumes = %v, want only /data", c.Volumes)
	}
	if v := c.Labels["org.opencontainers.image.version"]; v != "image-test" {
		t.Errorf("version label = %q, want image-test", v)
	}
	var m struct {
		Config struct{ Size int64 }
		Layers []struct{ Size int64 }
	}
	if err := json.Unmarshal([]byte(img.Manifest), &m); err != nil {
		t.Fatalf("manifest of %s: %v", ref, err)
	}
	size := m.Config.Size
	for _, l := range m.Layers {
		size += l.Size
	}
	if limit := binSize + 3<<20; size > limit {
		t.Errorf("image is %d bytes; the binary is %d, so the limit (binary + 3 MiB) is %d", size, binSize, limit)
	}
	t.Logf("%s: image %d bytes, binary %d bytes (+%d)", ref, size, binSize, size-binSize)
}

// checkFiles looks at the image's file system: the binary's architecture
// and its lack of file capabilities, the user, the CA bundle, /data.
func checkFiles(t *testing.T, root, arch string) {
	t.Helper()
	bin := filepath.Join(root, "usr/local/bin/edge")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("the image's binary: %v", err)
	}
	defer f.Close()
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[arch]
	if f.Machine != want {
		t.Errorf("binary's ELF machine = %v, want %v", f.Machine, want)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("binary is dynamically linked (PT_INTERP); the image has no libc")
		}
	}
	// getcap lists nothing on the whole tree: a file capability makes
	// exec fail with EPERM once the runtime drops every capability.
	if out := strings.TrimSpace(run(t, nil, "getcap", "-r", root)); out != "" {
		t.Errorf("getcap finds file capabilities in the image:\n%s", out)
	}
	passwd, err := os.ReadFile(filepath.Join(root, "etc/passwd"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(passwd), fmt.Sprintf("edge:x:%d:%d:", imageUID, imageUID)) {
		t.Errorf("/etc/passwd has no user edge with uid %d:\n%s", imageUID, passwd)
	}
	if g, err := os.ReadFile(filepath.Join(root, "etc/group")); err != nil || !strings.Contains(string(g), fmt.Sprintf("edge:x:%d:", imageUID)) {
		t.Errorf("/etc/group has no group edge with gid %d (%v)", imageUID, err)
	}
	ca, err := os.ReadFile(filepath.Join(root, "etc/ssl/certs/ca-certificates.crt"))
	if n := bytes.Count(ca, []byte("BEGIN CERTIFICATE")); err != nil || n < 50 {
		t.Errorf("CA bundle holds %d certificates (%v), want Debian's ca-certificates", n, err)
	}
	for _, d := range []string{"data", "data/acme"} {
		fi, err := os.Stat(filepath.Join(root, d))
		if err != nil {
			t.Fatalf("/%s: %v", d, err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if !fi.IsDir() || st.Uid != imageUID || st.Gid != imageUID {
			t.Errorf("/%s is owned by %d:%d (dir %v), want a directory owned by %d:%d", d, st.Uid, st.Gid, fi.IsDir(), imageUID, imageUID)
		}
	}
}

// checkGetcapWorks proves the getcap check below can fail: it sees a
// capability set on a file in dir.
func checkGetcapWorks(t *testing.T, dir string) {
	t.Helper()
	probe := filepath.Join(dir, "probe", "bin")
	if err := os.MkdirAll(filepath.Dir(probe), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(probe, []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, nil, "setcap", "cap_net_bind_service=+ep", probe)
	if out := run(t, nil, "getcap", "-r", filepath.Dir(probe)); !strings.Contains(out, "cap_net_bind_service") {
		t.Fatalf("getcap -r does not report a capability set with setcap (%q); the image check would prove nothing", out)
	}
}

// checkServe runs `edge serve` in the image with every capability dropped
// and no-new-privileges, on a port above 1024, and asks it for a page.
func checkServe(t *testing.T, b *buildah, ctr string) {
	port := freePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "setpriv", "--no-new-privs", "buildah", "run", "--isolation", "chroot",
		"--network", "host", "--cap-drop", "ALL", ctr, "--",
		"/usr/local/bin/edge", "serve", "--http-port", strconv.Itoa(port), "--https-enable=false", "--admin-port=0")
	cmd.Env = b.env
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		cmd.Wait() //nolint:errcheck // ended by the signal
	}()

	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			// No routes: the edge answers 404 itself.
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s = %d, want 404 from an edge without routes", url, resp.StatusCode)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the edge in the image did not answer on %s within 60s: %v\n%s", url, err, out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}

	// What the kernel says about the edge process itself.
	pid := findEdge(t, port)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{}
	for _, line := range strings.Split(string(status), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[k] = strings.TrimSpace(v)
		}
	}
	if uid := strings.Fields(fields["Uid"]); len(uid) == 0 || uid[0] != strconv.Itoa(imageUID) {
		t.Errorf("the edge runs as uid %q, want %d", fields["Uid"], imageUID)
	}
	for _, k := range []string{"CapPrm", "CapEff", "CapAmb"} {
		if fields[k] != "0000000000000000" {
			t.Errorf("%s = %s, want no capability", k, fields[k])
		}
	}
	if fields["NoNewPrivs"] != "1" {
		t.Errorf("NoNewPrivs = %q, want 1", fields["NoNewPrivs"])
	}
}

// findEdge finds the edge process serving port: the one whose command
// line names it.
func findEdge(t *testing.T, port int) int {
	t.Helper()
	entries, _ := os.ReadDir("/proc")
	want := "--http-port\x00" + strconv.Itoa(port) + "\x00"
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if strings.TrimSpace(string(comm)) == "edge" && strings.Contains(string(cmdline), want) {
			return pid
		}
	}
	t.Fatalf("no edge process serving port %d", port)
	return 0
}

// checkLowPort binds port 80 in a fresh network namespace, where
// net.ipv4.ip_unprivileged_port_start is the kernel's default 1024: the
// bind is refused and the error names the three fixes.
func checkLowPort(t *testing.T, b *buildah, ctr string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", "--net", "setpriv", "--no-new-privs", "buildah", "run",
		"--isolation", "chroot", "--cap-drop", "ALL", ctr, "--",
		"/usr/local/bin/edge", "serve", "--https-enable=false", "--admin-port=0")
	cmd.Env = b.env
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the edge bound port 80 without privilege:\n%s", out)
	}
	for _, want := range []string{"permission denied", "ip_unprivileged_port_start", "NET_BIND_SERVICE", "TRAEFIK_HTTP_PORT"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("the refused bind's error does not mention %q:\n%s", want, out)
		}
	}
}

func freePort(t *testing.T) int { return testtools.Port(t) }

// buildah runs buildah on vfs storage of its own under dir, removed with
// every container and image when the test ends.
type buildah struct{ env []string } // the whole environment of buildah's commands

func newBuildah(t *testing.T, dir string) *buildah {
	conf := filepath.Join(dir, "storage.conf")
	body := fmt.Sprintf("[storage]\ndriver = \"vfs\"\ngraphroot = %q\nrunroot = %q\n",
		filepath.Join(dir, "storage"), filepath.Join(dir, "run"))
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	b := &buildah{env: append(os.Environ(), "CONTAINERS_STORAGE_CONF="+conf, "BUILDAH_ISOLATION=chroot")}
	t.Cleanup(func() {
		// Best effort: t.TempDir removes the storage in any case.
		for _, args := range [][]string{{"rm", "--all"}, {"rmi", "--all", "--force"}} {
			c := exec.Command("buildah", args...)
			c.Env = b.env
			c.Run() //nolint:errcheck // see above
		}
	})
	return b
}

func (b *buildah) run(t *testing.T, name string, args ...string) string {
	t.Helper()
	return run(t, b.env, name, args...)
}

// container creates a working container from ref.
func (b *buildah) container(t *testing.T, ref string) string {
	t.Helper()
	return strings.TrimSpace(b.run(t, "buildah", "from", "--pull-never", "--cap-drop", "ALL", ref))
}

// mount returns the root of a working container of ref on the host.
func (b *buildah) mount(t *testing.T, ref string) string {
	t.Helper()
	return strings.TrimSpace(b.run(t, "buildah", "mount", b.container(t, ref)))
}

// run runs a command to completion and returns its standard output; env
// nil means the test's environment.
func run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}
