#!/usr/bin/env bash
# Builds the Sluice OCI image from this repository, with no container registry: the base is a Debian
# bookworm root file system with openjdk-17-jre-headless assembled by mmdebstrap from Debian's packages
# and imported into podman as localhost/sluice-base:bookworm (built once, reused); the image adds the
# agent's jar and launcher (Containerfile). Writes deploy/image/target/sluice-<version>.oci.tar too.
# Needs: podman, mmdebstrap (apt-get install podman mmdebstrap), root or a rootless podman setup.
# Usage: deploy/image/build.sh [--rebuild-base]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/deploy/image"
out="$here/target"
base=localhost/sluice-base:bookworm
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
mkdir -p "$out"

jar="$root/agent/target/sluice.jar"
if [ ! -f "$jar" ]; then
  echo "image: building $jar" >&2
  mvn -B -q -f "$root/pom.xml" -DskipTests package >&2
fi
# "sluice 0.1.0-SNAPSHOT (commit 1a2b3c4)"
read -r _ version _ commit < <(java -jar "$jar" --version | tr -d '()')
tag="localhost/sluice:$version"

if [ "${1:-}" = --rebuild-base ] || ! podman image exists "$base"; then
  echo "image: assembling the base $base with mmdebstrap (Debian bookworm, openjdk-17-jre-headless)" >&2
  rootfs="$out/base-rootfs.tar"
  # Documentation and locales left out; man1 must exist for update-alternatives. The sluice user
  # (65532) gets a passwd entry and a home, so the JVM's user.name and user.home are real.
  mmdebstrap --variant=essential --include=openjdk-17-jre-headless,ca-certificates \
    --setup-hook='mkdir -p "$1/usr/share/man/man1"' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook='echo "sluice:x:65532:65532:Sluice:/home/sluice:/usr/sbin/nologin" >> "$1/etc/passwd"' \
    --customize-hook='echo "sluice:x:65532:" >> "$1/etc/group"' \
    --customize-hook='mkdir -p "$1/home/sluice" "$1/etc/sluice" && chown 65532:65532 "$1/home/sluice"' \
    --customize-hook='rm -rf "$1/var/cache/apt/"* "$1/var/lib/apt/lists/"*' \
    bookworm "$rootfs" "deb $mirror bookworm main" "deb $mirror bookworm-updates main" "deb $security bookworm-security main" >&2
  podman import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' "$rootfs" "$base" >&2
  rm -f "$rootfs"
fi

ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
cp "$jar" "$ctx/sluice.jar"
cp "$root/bin/sluice" "$ctx/sluice"
cp "$root/LICENSE" "$ctx/LICENSE"
podman build --build-arg "BASE=$base" --build-arg "VERSION=$version" --build-arg "COMMIT=$commit" \
  -f "$here/Containerfile" -t "$tag" "$ctx" >&2
archive="$out/sluice-$version.oci.tar"
rm -f "$archive"
podman save --format oci-archive -o "$archive" "$tag" >&2
echo "image: $tag ($(podman image inspect "$tag" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}')), $archive"
