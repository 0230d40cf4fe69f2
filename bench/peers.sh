#!/usr/bin/env bash
# bench/peers.sh — `make bench-peers`: the edge against HAProxy, nginx and
# Caddy on loopback. See bench/README.md.
#
#   QUICK=1            1 round of 3 s runs (smoke test)
#   BENCH_OUT=DIR      results directory (default bench/results/<UTC timestamp>)
#   CADDY_VERSION=v…   Caddy to install through the Go module proxy (v2.11.9)
#   BENCH_TOOLS=DIR    where the Caddy binary is cached (~/.cache/rancher-edge-bench)
#   BENCH_NO_INSTALL=1 do not apt-get/go install; measure what is there
#   EDGE_REF=<commit>  measure that commit (git archive) instead of the working tree
#   EDGE_BASE_REF=<commit>  measure that commit too, as the target edge-base, in the same rounds
#   PEERS=edge,edge-base,haproxy  measure only these targets (default: all)
#   ROUNDS=5           interleaved rounds (default 3)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
QUICK=${QUICK:-0}
TS=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${BENCH_OUT:-$ROOT/bench/results/$TS}
TMP=$OUT/tmp
CADDY_VERSION=${CADDY_VERSION:-v2.11.9}
TOOLS=${BENCH_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/rancher-edge-bench}
GO=${GO:-go}
mkdir -p "$TMP" "$OUT/logs"
chmod 700 "$TMP"

log() { echo "$(date +%T) $*" | tee -a "$OUT/run.log"; }
die() { log "FATAL: $*"; exit 1; }

PEERS_PID=
cleanup() {
	local rc=$?
	# The harness stops what it started; if it died, stop those PIDs here,
	# each only if it still runs the executable it was started as.
	if [ -n "$PEERS_PID" ] && kill -0 "$PEERS_PID" 2>/dev/null; then
		kill -TERM "$PEERS_PID" 2>/dev/null || true
		for _ in $(seq 1 100); do kill -0 "$PEERS_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$PEERS_PID" 2>/dev/null || true
	fi
	if [ -f "$OUT/pids" ]; then
		while read -r pid exe; do
			if [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$exe" ]; then
				log "stopping leftover pid $pid ($exe)"
				kill -KILL "$pid" 2>/dev/null || true
			fi
		done <"$OUT/pids"
		rm -f "$OUT/pids"
	fi
	# No keys or binaries are kept.
	rm -rf "$TMP"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "results in $OUT"

# --- 1. what the run needs: Debian packages and Caddy.
declare -A pkg_of=([nginx]=nginx [haproxy]=haproxy [wrk]=wrk [h2load]=nghttp2-client [openssl]=openssl [curl]=curl)
missing=()
for cmd in nginx haproxy wrk h2load openssl curl; do
	PATH=$PATH:/usr/sbin:/sbin command -v "$cmd" >/dev/null 2>&1 || missing+=("${pkg_of[$cmd]}")
done
export PATH=$PATH:/usr/sbin:/sbin
if [ ${#missing[@]} -gt 0 ]; then
	if [ "${BENCH_NO_INSTALL:-0}" = 1 ]; then
		log "missing and not installing (BENCH_NO_INSTALL=1): ${missing[*]}"
	elif [ "$(id -u)" != 0 ]; then
		log "missing: ${missing[*]} — not root, cannot apt-get; continuing with what is there"
	else
		log "apt-get install ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		if ! { timeout 300 apt-get update -qq && timeout 600 apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
			>>"$OUT/logs/apt.log" 2>&1; then
			log "apt-get failed (see logs/apt.log); continuing with what is there"
		fi
	fi
fi
for cmd in wrk h2load openssl curl; do
	command -v "$cmd" >/dev/null 2>&1 || die "$cmd is required (package ${pkg_of[$cmd]})"
done

CADDY=$TOOLS/caddy-$CADDY_VERSION
if [ ! -x "$CADDY" ] && [ "${BENCH_NO_INSTALL:-0}" != 1 ]; then
	log "go install github.com/caddyserver/caddy/v2/cmd/caddy@$CADDY_VERSION (first run only; a few minutes)"
	mkdir -p "$TOOLS/gobin"
	if (cd "$TOOLS" && GOBIN=$TOOLS/gobin GOFLAGS= timeout 900 "$GO" install "github.com/caddyserver/caddy/v2/cmd/caddy@$CADDY_VERSION") \
		>>"$OUT/logs/caddy-install.log" 2>&1; then
		mv "$TOOLS/gobin/caddy" "$CADDY"
	else
		log "Caddy could not be installed (see logs/caddy-install.log); continuing without it"
	fi
fi
[ -x "$CADDY" ] || CADDY=

# --- 2. the certificate: ECDSA P-256 for *.bench.test and bench.test.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$TMP/key.pem" -out "$TMP/cert.pem" -days 2 -subj "/CN=bench.test" \
	-addext "subjectAltName=DNS:*.bench.test,DNS:bench.test" >>"$OUT/logs/openssl.log" 2>&1 ||
	die "openssl could not make the certificate (see logs/openssl.log)"
chmod 600 "$TMP/key.pem"

# --- 3. the binaries.
EDGE=$TMP/edge
{
	echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown) ($(git describe --tags --always --dirty 2>/dev/null || echo ?))"
	echo "uncommitted changes in the tree measured:"
	git status --short 2>/dev/null | sed 's/^/  /'
	"$GO" version
	uname -a
	nproc
} >"$OUT/env.txt" 2>&1
# The edge as it is in the working tree (EDGE_REF=<commit> measures a commit
# instead). Others edit the tree while they work: when it does not build,
# measure HEAD rather than nothing.
build_from_ref() { # ref [out] → builds $EDGE (or out) from `git archive` of it; the tree is untouched
	rm -rf "$TMP/src" && mkdir -p "$TMP/src" &&
		git archive "$1" | tar -x -C "$TMP/src" &&
		(cd "$TMP/src" && "$GO" build -o "${2:-$EDGE}" ./cmd/edge) >>"$OUT/logs/build.log" 2>&1
}
if [ -n "${EDGE_REF:-}" ]; then
	EDGE_DESC="$(git rev-parse --short "$EDGE_REF")"
	build_from_ref "$EDGE_REF" || { log "the edge at $EDGE_REF does not build (see logs/build.log)"; EDGE=; }
elif "$GO" build -o "$EDGE" ./cmd/edge >>"$OUT/logs/build.log" 2>&1; then
	EDGE_DESC="$(git describe --tags --always --dirty 2>/dev/null || echo dev)"
else
	EDGE_DESC="HEAD@$(git rev-parse --short HEAD)"
	log "the working tree does not build (see logs/build.log); measuring the edge at HEAD ($EDGE_DESC) instead"
	echo "MEASURED: HEAD $EDGE_DESC, not the working tree (it did not build)" >>"$OUT/env.txt"
	build_from_ref HEAD || { log "HEAD does not build either; measuring the peers only"; EDGE=; }
fi
EDGE_BASE=
if [ -n "${EDGE_BASE_REF:-}" ]; then
	EDGE_BASE_DESC="$(git rev-parse --short "$EDGE_BASE_REF")"
	if build_from_ref "$EDGE_BASE_REF" "$TMP/edge-base"; then
		EDGE_BASE=$TMP/edge-base
		echo "edge-base: $EDGE_BASE_DESC" >>"$OUT/env.txt"
	else
		log "the edge at $EDGE_BASE_REF does not build (see logs/build.log); no edge-base"
	fi
fi
"$GO" build -o "$TMP/peers" ./bench/peers >>"$OUT/logs/build.log" 2>&1 || die "bench/peers does not build (see logs/build.log)"

# --- 4. measure.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
args=(run -out "$OUT" -tmp "$TMP" -cert "$TMP/cert.pem" -key "$TMP/key.pem"
	-edge "$EDGE" -edge-version "${EDGE_DESC:-}"
	-caddy "$CADDY" -caddy-version "$CADDY_VERSION"
	-edge-base "$EDGE_BASE" -edge-base-version "${EDGE_BASE_DESC:-}" -only "${PEERS:-}")
[ "$QUICK" = 1 ] && args+=(-quick)
[ -n "${ROUNDS:-}" ] && args+=(-rounds "$ROUNDS")
"$TMP/peers" "${args[@]}" &
PEERS_PID=$!
wait "$PEERS_PID"
