package kubestore

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Labels and annotations the store puts on its objects. The labels let
// it list only its own Secrets and Leases; the annotations carry what a
// name cannot: the full certmagic key or lock name, and times.
const (
	labelManagedBy = "app.kubernetes.io/managed-by"
	managedBy      = "rancher-edge"
	labelKind      = "rancher-edge.io/acme"
	kindStorage    = "storage"
	kindLock       = "lock"

	annotationKey      = "rancher-edge.io/acme-key"
	annotationModified = "rancher-edge.io/modified"
	annotationLock     = "rancher-edge.io/acme-lock"
	annotationReplica  = "rancher-edge.io/replica"
	annotationReleased = "rancher-edge.io/released"

	// secretType marks the store's Secrets for people reading the
	// namespace (kubectl get secrets shows it).
	secretType = "rancher-edge.io/acme"
	// dataKey is where a Secret holds its value.
	dataKey = "value"
)

// Selectors of the store's objects.
var (
	storageSelector = labelManagedBy + "=" + managedBy + "," + labelKind + "=" + kindStorage
	lockSelector    = labelManagedBy + "=" + managedBy + "," + labelKind + "=" + kindLock
)

func labels(kind string) map[string]string {
	return map[string]string{labelManagedBy: managedBy, labelKind: kind}
}

// maxReadable bounds the readable part of an object name, leaving room
// for the prefix and the hash within the 253 characters of a DNS
// subdomain.
const maxReadable = 200

// objectName derives a valid, stable object name from a certmagic key or
// lock name: prefix, a readable part (lower-cased, anything but
// [a-z0-9.-] turned into '-'), and 20 hex digits of the key's SHA-256,
// so that keys differing only in case or punctuation never share a
// name. The full key lives in an annotation.
func objectName(prefix, key string) string {
	sum := sha256.Sum256([]byte(key))
	var b strings.Builder
	b.Grow(len(prefix) + min(len(key), maxReadable) + 22)
	b.WriteString(prefix)
	n := 0
	dash := true // no leading dash, no runs of dashes
	for i := 0; i < len(key) && n < maxReadable; i++ {
		c := key[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '.':
		default:
			c = '-'
		}
		if c == '-' || c == '.' {
			if dash {
				continue
			}
			c, dash = '-', true
			if key[i] == '.' {
				c = '.'
			}
		} else {
			dash = false
		}
		b.WriteByte(c)
		n++
	}
	if !dash {
		b.WriteByte('-')
	}
	b.WriteString(hex.EncodeToString(sum[:10]))
	return b.String()
}

// secretName is the Secret holding a certmagic key.
func secretName(key string) string { return objectName("acme-", key) }

// leaseName is the Lease of a certmagic lock.
func leaseName(lock string) string { return objectName("acme-lock-", lock) }

// cleanKey drops leading and trailing slashes: certmagic keys are
// relative paths, and "a/" names the same directory as "a".
func cleanKey(key string) string { return strings.Trim(key, "/") }
