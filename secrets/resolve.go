package secrets

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Names of the environment variables the package itself reads.
const (
	// DirEnv names the variable that moves the secrets directory.
	DirEnv = "TRAEFIK_SECRETS_DIR"
	// DefaultDir is where Docker swarm and Rancher 1.x mount secrets.
	DefaultDir = "/run/secrets"
	// FileSuffix turns NAME into the NAME_FILE variable.
	FileSuffix = "_FILE"
)

// Resolver turns raw setting values into [Value]s. The zero Resolver reads
// the real environment and file system.
type Resolver struct {
	// Dir is the secrets directory bare aliases are looked up in. Empty
	// means the TRAEFIK_SECRETS_DIR variable (through Getenv), and when
	// that is empty too, /run/secrets.
	Dir string
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// ReadFile reads a file; nil means os.ReadFile.
	ReadFile func(string) ([]byte, error)
}

// SecretsDir returns the directory bare aliases are looked up in.
func (r Resolver) SecretsDir() string {
	if r.Dir != "" {
		return r.Dir
	}
	if d := r.getenv(DirEnv); d != "" {
		return d
	}
	return DefaultDir
}

func (r Resolver) getenv(name string) string {
	if r.Getenv == nil {
		return os.Getenv(name)
	}
	return r.Getenv(name)
}

func (r Resolver) readFile(path string) ([]byte, error) {
	if r.ReadFile == nil {
		return os.ReadFile(path)
	}
	return r.ReadFile(path)
}

// Get resolves setting with the documented precedence: flag when not
// empty, else [Resolver.Lookup]. Material settings (certificates, keys)
// must be PEM or a file.
func (r Resolver) Get(setting, flag string, material bool) (Value, error) {
	if flag != "" {
		return r.Resolve(setting, flag, material)
	}
	return r.Lookup(setting, material)
}

// Lookup resolves setting from the environment: the file named by
// NAME_FILE when that is set, else NAME through [Resolver.Resolve]. It
// returns the zero Value, and no error, when neither is set.
func (r Resolver) Lookup(setting string, material bool) (Value, error) {
	if path := strings.TrimSpace(r.getenv(setting + FileSuffix)); path != "" {
		v, err := r.readValue(setting, path)
		if err != nil {
			return Value{}, fmt.Errorf("%s%s: %w", setting, FileSuffix, err)
		}
		return v, nil
	}
	return r.Resolve(setting, r.getenv(setting), material)
}

// LookupList is [Resolver.Lookup] for settings that take a comma-separated
// list (TRAEFIK_SSL_CERT with several pairs). Each element is resolved on
// its own and named setting[i]; a single element keeps the plain name.
// Splitting at commas is safe for inline PEM, whose alphabet has none.
// All problems are returned at once.
func (r Resolver) LookupList(setting string, material bool) ([]Value, error) {
	if paths := r.getenv(setting + FileSuffix); strings.TrimSpace(paths) != "" {
		return r.list(setting, paths, func(name, p string) (Value, error) {
			v, err := r.readValue(name, strings.TrimSpace(p))
			if err != nil {
				return Value{}, fmt.Errorf("%s%s: %w", name, FileSuffix, err)
			}
			return v, nil
		})
	}
	return r.list(setting, r.getenv(setting), func(name, raw string) (Value, error) {
		return r.Resolve(name, raw, material)
	})
}

func (r Resolver) list(setting, raw string, one func(name, elem string) (Value, error)) ([]Value, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	elems := strings.Split(raw, ",")
	var (
		out  []Value
		errs []error
	)
	for i, e := range elems {
		name := setting
		if len(elems) > 1 {
			name = fmt.Sprintf("%s[%d]", setting, i)
		}
		if strings.TrimSpace(e) == "" {
			errs = append(errs, fmt.Errorf("%s: empty list element", name))
			continue
		}
		v, err := one(name, e)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, v)
	}
	return out, errors.Join(errs...)
}

// Resolve interprets one raw value of setting as PEM, a file path, a secret
// alias or a literal; see the package documentation for the order. An
// empty raw value gives the zero Value. Errors name the setting and path,
// never the value.
func (r Resolver) Resolve(setting, raw string, material bool) (Value, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return Value{}, nil
	}
	if strings.HasPrefix(s, "-----BEGIN") {
		// Compose files often carry PEM on one line with "\n" escapes.
		// Base64 has no backslash, so the replacement cannot corrupt a body.
		data := []byte(strings.ReplaceAll(s, `\n`, "\n"))
		if material {
			if b, _ := pem.Decode(data); b == nil {
				return Value{}, fmt.Errorf("%s: inline value starts like PEM but holds no valid PEM block", setting)
			}
		}
		return Value{Setting: setting, Kind: PEM, data: append(data, '\n')}, nil
	}

	var candidates []string
	switch {
	case filepath.IsAbs(s):
		candidates = []string{s}
	case isAlias(s):
		candidates = []string{filepath.Join(r.SecretsDir(), s)}
		if material {
			candidates = append(candidates, s) // relative to the working directory
		}
	case material && !strings.ContainsAny(s, " \t\r\n"):
		candidates = []string{s}
	}
	for _, p := range candidates {
		v, err := r.readValue(setting, p)
		if err == nil {
			return v, nil
		}
		if !errors.Is(err, errNotFound) {
			if !filepath.IsAbs(s) && !isAlias(s) && !looksLikePath(s) {
				// Tried as a relative path only because it has no
				// space: a key or token that cannot be a file name
				// (too long, say). The error would quote it.
				continue
			}
			return Value{}, fmt.Errorf("%s: %w", setting, err)
		}
	}
	if !material {
		// A value that starts with / names a file: a missing one is an
		// error, never a password (a missing /run/secrets/x used to become
		// the key "/run/secrets/x", and Rancher answered 401 with no hint).
		if filepath.IsAbs(s) {
			return Value{}, fmt.Errorf("%s: file %q not found", setting, s)
		}
		return Value{Setting: setting, Kind: Literal, data: []byte(s)}, nil
	}
	if len(candidates) > 0 && looksLikePath(s) {
		return Value{}, fmt.Errorf("%s: file %q not found", setting, candidates[0])
	}
	// Not echoed: a mangled PEM body or key would land in the log.
	return Value{}, fmt.Errorf("%s: value is neither PEM content nor the path of an existing file", setting)
}

// Reload re-reads a File value, for rotation. Other kinds are returned
// unchanged. A file that vanished is an error, never a fallback to a
// literal.
func (v Value) Reload(r Resolver) (Value, error) {
	if v.Kind != File {
		return v, nil
	}
	nv, err := r.readValue(v.Setting, v.Path)
	if err != nil {
		return Value{}, fmt.Errorf("%s: %w", v.Setting, err)
	}
	return nv, nil
}

// errNotFound marks a path that does not exist, so that Resolve can fall
// back to the next interpretation.
var errNotFound = errors.New("not found")

// readValue reads path into a File value. Errors carry the path and the
// reason but not the setting, which callers add.
func (r Resolver) readValue(setting, path string) (Value, error) {
	data, err := r.readFile(path)
	if err != nil {
		// Drop the *PathError wrapper: it would repeat the path.
		reason := err
		var pe *fs.PathError
		if errors.As(err, &pe) {
			reason = pe.Err
		}
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return Value{}, fmt.Errorf("file %q %w", path, errNotFound)
		}
		return Value{}, fmt.Errorf("reading file %q: %w", path, reason)
	}
	return Value{Setting: setting, Kind: File, Path: path, data: trimTrailing(data)}, nil
}

// trimTrailing drops the newline `echo` and editors add; PEM parses the
// same with or without it.
func trimTrailing(b []byte) []byte {
	return bytes.TrimRight(b, " \t\r\n")
}

// isAlias reports whether s can name a file directly inside the secrets
// directory: Docker and Rancher secret names are [A-Za-z0-9._-].
func isAlias(s string) bool {
	if s == "." || s == ".." || len(s) > 255 {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// looksLikePath decides whether a material value that matched no file may
// be quoted in an error. Anything long or starting like base64 DER ("MI")
// could be key material pasted without its PEM armour, so it is not.
func looksLikePath(s string) bool {
	if len(s) > 200 || strings.HasPrefix(s, "MI") {
		return false
	}
	return strings.HasPrefix(s, "/") || strings.HasPrefix(s, ".") || isAlias(s) && len(s) <= 64
}
