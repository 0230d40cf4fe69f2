#!/usr/bin/env bash
# tools/build.sh NAME builds the real server the tests run against from its
# wrapper module tools/NAME (its own go.mod: never the project's) once per
# machine, into $EDGE_TOOLS_DIR/NAME-<key>/, where <key> hashes the wrapper's
# go.mod, go.sum and build.conf: changing a version rebuilds, nothing else does.
# Builds are serialised with flock, so parallel `make` runs share one build.
#
# tools/NAME/build.conf is sourced and sets:
#   BINS     "bin:package bin:package" — what to build (`go build -o bin package`)
#   LDFLAGS  optional -ldflags
#   GCFLAGS  optional -gcflags: "all=-N -l" compiles without optimisation or
#            inlining, about a quarter less CPU, for a server whose speed
#            the tests do not feel
#   ABOUT    one line printed before a cold build (what it is, how long it takes)
set -euo pipefail
name=${1:?usage: tools/build.sh NAME}
root=$(cd "$(dirname "$0")/.." && pwd)
src=$root/tools/$name
[ -f "$src/build.conf" ] || { echo "tools/build.sh: no tools/$name/build.conf" >&2; exit 2; }
dir=${EDGE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rancher-edge/tools}
key=$(cd "$src" && cat go.mod go.sum build.conf 2>/dev/null | sha256sum | cut -c1-16)
out=$dir/$name-$key
mkdir -p "$dir"
exec 9>"$dir/.$name.lock"
flock 9
if [ -f "$out/.done" ]; then exit 0; fi
BINS= LDFLAGS= GCFLAGS= ABOUT=
# shellcheck source=/dev/null
. "$src/build.conf"
echo "tools: building $name once for this machine into $out${ABOUT:+ ($ABOUT)}" >&2
start=$(date +%s)
rm -rf "$out.tmp"; mkdir -p "$out.tmp"
for b in $BINS; do
  bin=${b%%:*} pkg=${b#*:}
  (cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -gcflags "$GCFLAGS" -ldflags "-s -w $LDFLAGS" -o "$out.tmp/$bin" "$pkg")
done
touch "$out.tmp/.done"
rm -rf "$out"; mv "$out.tmp" "$out"
echo "tools: $name built in $(( $(date +%s) - start )) s" >&2
