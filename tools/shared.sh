#!/usr/bin/env bash
# tools/shared.sh A B lists the modules the wrapper modules tools/A and
# tools/B both build from at different versions. Each one found makes Go
# compile its packages, and every package above them, twice on a cold
# machine; require the higher version in both (go mod edit -require,
# go mod tidy) until this prints nothing (tools/README.md).
set -euo pipefail
root=$(cd "$(dirname "$0")" && pwd)
mods() { # the modules, at their selected versions, that tools/$1 compiles
	(cd "$root/$1" && . ./build.conf && for b in $BINS; do echo "${b#*:}"; done |
		xargs env GOFLAGS=-mod=mod go list -deps -f '{{if not .Standard}}{{with .Module}}{{.Path}} {{with .Replace}}{{.Version}}{{else}}{{.Version}}{{end}}{{end}}{{end}}' |
		grep . | sort -u)
}
join <(mods "${1:?usage: tools/shared.sh A B}") <(mods "${2:?usage: tools/shared.sh A B}") | awk '$2 != $3 { print $1, "'"$1"'", $2, "'"$2"'", $3 }'
