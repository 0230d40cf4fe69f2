#!/usr/bin/env bash
# build.sh assembles the edge's container image from scratch, without a
# registry: the static binary, /etc/passwd and /etc/group with the non-root
# user edge (10001), Debian's CA bundle, and /data owned by that user. No
# base image is pulled and the binary carries no file capability.
#
#   deploy/image/build.sh [--archs "amd64 arm64"] [--bin-dir bin]
#                         [--version v1.2.3] [--name rancher-edge] [--out dir]
#
# It expects <bin-dir>/edge-linux-<arch> for each arch (`make image` builds
# them) and tags <name>:<version>-<arch>, plus, with buildah or podman, the
# manifest list <name>:<version> naming them all. With --out it also writes
# <out>/<name>-<version>-<arch>.tar, which `docker load` and `podman load`
# read. It uses buildah when installed (storage options from the usual
# buildah environment, e.g. STORAGE_DRIVER=vfs), else podman, else docker;
# IMAGE_TOOL picks one.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
archs=amd64
bin_dir=bin
version=dev
name=rancher-edge
out=
ca_bundle=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

die() { echo "build.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--archs) archs=$2; shift 2 ;;
	--bin-dir) bin_dir=$2; shift 2 ;;
	--version) version=$2; shift 2 ;;
	--name) name=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	*) die "unknown argument $1 (see the comment at the top of $0)" ;;
	esac
done

tool=${IMAGE_TOOL:-}
if [ -z "$tool" ]; then
	for t in buildah podman docker; do
		if command -v "$t" >/dev/null 2>&1; then tool=$t; break; fi
	done
fi
[ -n "$tool" ] || die "no image tool: install buildah (apt-get install buildah), podman or docker"
[ -s "$ca_bundle" ] || die "no CA bundle at $ca_bundle: apt-get install ca-certificates (or set CA_BUNDLE)"

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT

for arch in $archs; do
	bin="$bin_dir/edge-linux-$arch"
	[ -x "$bin" ] || die "$bin is missing: build it with CGO_ENABLED=0 GOOS=linux GOARCH=$arch (make image does)"
	rm -rf "$ctx"/*
	mkdir -p "$ctx/rootfs/usr/local/bin" "$ctx/rootfs/etc/ssl/certs" "$ctx/rootfs/tmp" "$ctx/data/acme"
	chmod 1777 "$ctx/rootfs/tmp"
	chmod 0755 "$ctx/data" "$ctx/data/acme"
	# A plain copy: no extended attributes, so no file capability either.
	cp "$bin" "$ctx/rootfs/usr/local/bin/edge"
	chmod 0755 "$ctx/rootfs/usr/local/bin/edge"
	install -m 0644 "$here/passwd" "$here/group" "$ctx/rootfs/etc/"
	install -m 0644 "$ca_bundle" "$ctx/rootfs/etc/ssl/certs/ca-certificates.crt"

	tag="$name:$version-$arch"
	case $tool in
	buildah)
		buildah bud --quiet --layers=false --arch "$arch" --os linux \
			--build-arg "VERSION=$version" -f "$here/Containerfile" -t "$tag" "$ctx" >/dev/null
		;;
	podman | docker)
		"$tool" build --quiet --platform "linux/$arch" \
			--build-arg "VERSION=$version" -f "$here/Containerfile" -t "$tag" "$ctx" >/dev/null
		;;
	*) die "IMAGE_TOOL=$tool: want buildah, podman or docker" ;;
	esac
	echo "built $tag ($tool)"

	if [ -n "$out" ]; then
		mkdir -p "$out"
		archive="$out/$name-$version-$arch.tar"
		rm -f "$archive"
		case $tool in
		buildah | podman) "$tool" push --quiet "$tag" "docker-archive:$archive:$tag" ;;
		docker) docker save -o "$archive" "$tag" ;;
		esac
		echo "wrote $archive (docker load -i $archive)"
	fi
done

# One name for every architecture: a manifest list, which `buildah
# manifest push --all <name>:<version> docker://registry/...` publishes.
case $tool in
buildah | podman)
	list="$name:$version"
	"$tool" manifest rm "$list" >/dev/null 2>&1 || true
	"$tool" manifest create "$list" >/dev/null
	for arch in $archs; do
		"$tool" manifest add "$list" "containers-storage:localhost/$name:$version-$arch" >/dev/null
	done
	echo "manifest list $list: linux/{${archs// /,}}"
	;;
esac
