package secrets

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"log/slog"
)

// Kind says how a [Value] was given.
type Kind int

const (
	// Unset is the zero Kind: the setting was not given.
	Unset Kind = iota
	// Literal is a value given directly in a flag or variable.
	Literal
	// File is the content of a file; [Value.Path] names it.
	File
	// PEM is PEM content given directly in a flag or variable.
	PEM
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case Unset:
		return "unset"
	case Literal:
		return "literal"
	case File:
		return "file"
	case PEM:
		return "PEM"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Value is one resolved setting. Its printed forms never contain the
// secret: see the package documentation. The zero Value means unset.
//
// A Value is immutable; [Value.Reload] returns a new one.
type Value struct {
	// Setting is the name the value was looked up under, for messages,
	// e.g. "TRAEFIK_SSL_CERT" or "TRAEFIK_SSL_CERT[1]".
	Setting string
	// Kind says how the value was given.
	Kind Kind
	// Path is the file the value was read from when Kind is File.
	Path string

	data []byte
}

// IsZero reports whether the value is unset.
func (v Value) IsZero() bool { return v.Kind == Unset }

// Bytes returns a copy of the secret. It is the only way to get at it.
func (v Value) Bytes() []byte { return bytes.Clone(v.data) }

// Sum returns the SHA-256 of the secret, to tell whether it changed without
// keeping a second copy of it.
func (v Value) Sum() [sha256.Size]byte { return sha256.Sum256(v.data) }

// String describes where the value came from without revealing it.
func (v Value) String() string {
	switch v.Kind {
	case Unset:
		return "unset"
	case File:
		return "file " + v.Path
	case PEM:
		return "inline PEM"
	case Literal:
		return "literal (redacted)"
	}
	return v.Kind.String()
}

// Format makes every fmt verb, including %#v and %x, print [Value.String],
// because the default %#v and %x would print the unexported bytes.
func (v Value) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		fmt.Fprintf(f, "%q", v.String())
	default:
		_, _ = f.Write([]byte(v.String()))
	}
}

// GoString is the %#v form; see [Value.Format].
func (v Value) GoString() string { return v.String() }

// LogValue keeps the secret out of slog output.
func (v Value) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("kind", v.Kind.String())}
	if v.Setting != "" {
		attrs = append(attrs, slog.String("setting", v.Setting))
	}
	if v.Kind == File {
		attrs = append(attrs, slog.String("path", v.Path))
	}
	return slog.GroupValue(attrs...)
}

// MarshalText keeps the secret out of JSON, YAML and other encoders that a
// status page might run over a struct holding a Value.
func (v Value) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// Interface guards.
var (
	_ fmt.Stringer   = Value{}
	_ fmt.Formatter  = Value{}
	_ fmt.GoStringer = Value{}
	_ slog.LogValuer = Value{}
)
