// Package secrets resolves the value of one setting from a flag, the
// environment, or a secret file, and keeps that value from ever being
// printed.
//
// # Overview
//
// The community images passed secrets in three incompatible ways, and an
// operator replacing one of them should not have to rewrite a compose file:
//
//   - mch1307/rancher-traefik: a path to a file, by design under
//     /run/secrets/<alias> (TRAEFIK_SSL_CERT, TRAEFIK_SSL_PRIVATE_KEY,
//     TRAEFIK_RANCHER_ACCESSKEY, TRAEFIK_RANCHER_SECRET);
//   - rawmind0/alpine-traefik: the PEM content itself (TRAEFIK_SSL_CRT,
//     TRAEFIK_SSL_KEY);
//   - the Docker convention Traefik was asked for (traefik/traefik#3853):
//     NAME_FILE=/path.
//
// # Precedence
//
// [Resolver.Get] applies, first match wins:
//
//  1. an explicit flag value;
//  2. NAME_FILE=/path: the content of that file (missing file is an error);
//  3. NAME: the raw value, interpreted by [Resolver.Resolve].
//
// A raw value is, first match wins:
//
//  1. PEM content: it starts with "-----BEGIN" after leading whitespace.
//     Literal "\n" escapes, which some compose files write because YAML
//     strings cannot hold the newlines, are turned into newlines;
//  2. an absolute path to an existing file;
//  3. a bare secret alias whose file exists in the secrets directory
//     (TRAEFIK_SECRETS_DIR, default /run/secrets);
//  4. for material settings (certificates, keys) also a relative path;
//  5. otherwise the literal value — except for material settings, where a
//     value that is neither PEM nor an existing file is an error.
//
// Leading and trailing white space is trimmed from raw values and trailing
// white space (the newline `echo` and editors add) from file contents.
//
// # Redaction
//
// A [Value] prints as a description of where it came from ("file
// /run/secrets/wild_crt", "inline PEM", "literal (redacted)") through
// String, every fmt verb and slog, so that logging a Value, or a struct that
// holds one in an exported field, cannot leak it. Errors name the setting
// and, for files, the path, never the content. Only [Value.Bytes] returns
// the secret.
//
// # Rotation
//
// Rancher and Kubernetes update secret files either in place or by
// swapping a "..data" symlink to a new directory. [Watcher] polls the files
// by name and compares a hash of their content, which sees both.
package secrets
