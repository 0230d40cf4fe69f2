package acme

import "github.com/caddyserver/certmagic"

// Key types, as Traefik's acme.keyType (and TRAEFIK_ACME_KEYTYPE) spell
// them.
const (
	KeyEC256   = "EC256"
	KeyEC384   = "EC384"
	KeyRSA2048 = "RSA2048"
	KeyRSA4096 = "RSA4096"
	KeyRSA8192 = "RSA8192"
)

var keyTypes = map[string]certmagic.KeyType{
	"":         certmagic.P256,
	KeyEC256:   certmagic.P256,
	KeyEC384:   certmagic.P384,
	KeyRSA2048: certmagic.RSA2048,
	KeyRSA4096: certmagic.RSA4096,
	KeyRSA8192: certmagic.RSA8192,
}

// KeyTypes lists the key types [Config.KeyType] accepts.
func KeyTypes() []string {
	return []string{KeyEC256, KeyEC384, KeyRSA2048, KeyRSA4096, KeyRSA8192}
}
