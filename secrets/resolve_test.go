package secrets

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testPEM = "-----BEGIN CERTIFICATE-----\nTUlJQmZha2VjZXJ0aWZpY2F0ZWJvZHk=\n-----END CERTIFICATE-----"

// env is a fake environment for Resolver.Getenv.
type env map[string]string

func (e env) get(k string) string { return e[k] }

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestResolve(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secretsDir := filepath.Join(dir, "run-secrets")
	abs := writeFile(t, filepath.Join(dir, "abs_key"), "abs-secret-value\n\n")
	writeFile(t, filepath.Join(secretsDir, "wild_crt"), testPEM+"\n")
	writeFile(t, filepath.Join(secretsDir, "access_key"), "alias-secret-value \r\n")

	tests := []struct {
		name     string
		raw      string
		material bool
		kind     Kind
		path     string
		want     string
		wantErr  string // substring; empty means no error
	}{
		{name: "empty", raw: "  ", kind: Unset},
		{name: "literal", raw: "plain-secret-value", kind: Literal, want: "plain-secret-value"},
		{name: "literal trimmed", raw: " plain-secret-value\n", kind: Literal, want: "plain-secret-value"},
		{name: "pem", raw: testPEM, material: true, kind: PEM, want: testPEM + "\n"},
		{name: "pem leading whitespace", raw: "\n  " + testPEM + "\n", material: true, kind: PEM, want: testPEM + "\n"},
		{name: "pem escaped newlines", raw: strings.ReplaceAll(testPEM, "\n", `\n`), material: true, kind: PEM, want: testPEM + "\n"},
		{name: "pem not material", raw: testPEM, kind: PEM, want: testPEM + "\n"},
		{name: "broken pem", raw: "-----BEGIN CERTIFICATE-----\nabc", material: true, wantErr: "TRAEFIK_X: inline value starts like PEM"},
		{name: "absolute path", raw: abs, kind: File, path: abs, want: "abs-secret-value"},
		{name: "absolute path material", raw: abs, material: true, kind: File, path: abs, want: "abs-secret-value"},
		{name: "alias", raw: "access_key", kind: File, path: filepath.Join(secretsDir, "access_key"), want: "alias-secret-value"},
		{name: "alias material", raw: "wild_crt", material: true, kind: File, path: filepath.Join(secretsDir, "wild_crt"), want: testPEM},
		{name: "missing absolute path", raw: "/nonexistent/key", wantErr: `TRAEFIK_X: file "/nonexistent/key" not found`},
		{name: "missing alias literal", raw: "no_such_alias", kind: Literal, want: "no_such_alias"},
		{name: "missing absolute material", raw: "/run/secrets/x", material: true, wantErr: `TRAEFIK_X: file "/run/secrets/x" not found`},
		{name: "missing alias material", raw: "x", material: true, wantErr: `TRAEFIK_X: file "` + filepath.Join(secretsDir, "x") + `" not found`},
		{name: "base64 material not echoed", raw: "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", material: true, wantErr: "TRAEFIK_X: value is neither PEM"},
		{name: "spaces material not echoed", raw: "some secret words", material: true, wantErr: "TRAEFIK_X: value is neither PEM"},
		{name: "directory", raw: secretsDir, material: true, wantErr: "TRAEFIK_X: reading file"},
	}
	r := Resolver{Dir: secretsDir, Getenv: env{}.get}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := r.Resolve("TRAEFIK_X", tt.raw, tt.material)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				if s := strings.TrimSpace(tt.raw); len(s) > 10 && !strings.HasPrefix(s, "/") && strings.Contains(err.Error(), s) {
					t.Errorf("error %q repeats the value", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if v.Kind != tt.kind || v.Path != tt.path || string(v.Bytes()) != tt.want {
				t.Errorf("got kind %v path %q data %q, want %v %q %q", v.Kind, v.Path, v.Bytes(), tt.kind, tt.path, tt.want)
			}
			if !v.IsZero() && v.Setting != "TRAEFIK_X" {
				t.Errorf("Setting = %q", v.Setting)
			}
		})
	}
}

func TestGetPrecedence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := writeFile(t, filepath.Join(dir, "from_file"), "value-from-file\n")
	tests := []struct {
		name    string
		flag    string
		env     env
		want    string
		kind    Kind
		wantErr string
	}{
		{name: "flag beats all", flag: "from-flag", env: env{"K_FILE": file, "K": "from-env"}, want: "from-flag", kind: Literal},
		{name: "file beats env", env: env{"K_FILE": file, "K": "from-env"}, want: "value-from-file", kind: File},
		{name: "env", env: env{"K": "from-env"}, want: "from-env", kind: Literal},
		{name: "unset", env: env{}, kind: Unset},
		{name: "missing _FILE is an error", env: env{"K_FILE": "/nope/k", "K": "from-env"}, wantErr: `K_FILE: file "/nope/k" not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := Resolver{Dir: dir, Getenv: tt.env.get}
			v, err := r.Get("K", tt.flag, false)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := string(v.Bytes()); got != tt.want || v.Kind != tt.kind {
				t.Errorf("got %q (%v), want %q (%v)", got, v.Kind, tt.want, tt.kind)
			}
		})
	}
}

func TestSecretsDirFromEnv(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "k"), "v")
	r := Resolver{Getenv: env{DirEnv: dir, "K": "k"}.get}
	v, err := r.Lookup("K", false)
	if err != nil || v.Kind != File || string(v.Bytes()) != "v" {
		t.Fatalf("got %v %q %v", v, v.Bytes(), err)
	}
	if got := (Resolver{Getenv: env{}.get}).SecretsDir(); got != DefaultDir {
		t.Errorf("default dir = %q", got)
	}
}

func TestLookupList(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := writeFile(t, filepath.Join(dir, "a"), testPEM)
	r := Resolver{Dir: dir, Getenv: env{"C": a + ", b ,/missing/c"}.get}
	vs, err := r.LookupList("C", true)
	if err == nil || !strings.Contains(err.Error(), "C[1]: file") || !strings.Contains(err.Error(), `C[2]: file "/missing/c" not found`) {
		t.Fatalf("err = %v", err)
	}
	if len(vs) != 1 || vs[0].Setting != "C[0]" || vs[0].Path != a {
		t.Errorf("values = %v", vs)
	}

	r = Resolver{Dir: dir, Getenv: env{"C_FILE": a}.get}
	vs, err = r.LookupList("C", true)
	if err != nil || len(vs) != 1 || vs[0].Setting != "C" {
		t.Fatalf("got %v, %v", vs, err)
	}
}

func TestReload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := writeFile(t, filepath.Join(dir, "k"), "one")
	r := Resolver{Dir: dir}
	v, err := r.Resolve("K", p, false)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, p, "two\n")
	nv, err := v.Reload(r)
	if err != nil || string(nv.Bytes()) != "two" || string(v.Bytes()) != "one" {
		t.Fatalf("reload: %q (old %q), %v", nv.Bytes(), v.Bytes(), err)
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Reload(r); err == nil || !strings.Contains(err.Error(), "K: file") {
		t.Fatalf("reload of removed file: %v", err)
	}
	lit := Value{Setting: "L", Kind: Literal, data: []byte("x")}
	if nv, err := lit.Reload(r); err != nil || string(nv.Bytes()) != "x" {
		t.Fatalf("literal reload: %v", err)
	}
}

func TestReadErrorNotLiteral(t *testing.T) {
	t.Parallel()
	r := Resolver{ReadFile: func(string) ([]byte, error) {
		return nil, &fs.PathError{Op: "open", Path: "/run/secrets/k", Err: fs.ErrPermission}
	}}
	_, err := r.Resolve("K", "/run/secrets/k", false)
	if !errors.Is(err, fs.ErrPermission) || !strings.HasPrefix(err.Error(), `K: reading file "/run/secrets/k"`) {
		t.Fatalf("err = %v", err)
	}
}
