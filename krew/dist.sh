#!/usr/bin/env bash
# Cross-compiles kubectl-savepoint and writes what a krew release needs:
#
#   $DIST_DIR/kubectl-savepoint_<version>_<os>_<arch>.tar.gz   one per platform:
#       kubectl-savepoint[.exe], kubectl_complete-savepoint, LICENSE
#   $DIST_DIR/checksums.txt    sha256sum's format (`sha256sum -c checksums.txt`)
#   $DIST_DIR/savepoint.yaml   krew/savepoint.yaml.tmpl with the version and sums
#
# `make dist` runs it. Environment:
#   VERSION   the release tag, a semantic version with a leading v (krew's rule)
#   LDFLAGS   -ldflags for go build (the Makefile's: stamps internal/version's Version and Commit)
#   DIST_DIR  output folder (default: dist/ at the repository's root)
#   GO        the go command (default: go)
#   DIST_JOBS platforms built at once (default: 2)
#
# The archives are reproducible for one tree and toolchain: sorted entries,
# owner 0:0, fixed modes, every mtime set to the commit's time (or
# SOURCE_DATE_EPOCH), gzip without a name or time stamp. Needs GNU tar.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
go=${GO:-go}
out=${DIST_DIR:-$root/dist}
ldflags=${LDFLAGS-}
version=${VERSION:-}
platforms=(linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64)

semver='^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$'
if [[ ! $version =~ $semver ]]; then
  echo "dist: VERSION=\"$version\" is not a semantic version with a leading v (krew requires one, e.g. v0.1.0)." >&2
  echo "dist: tag the release (git tag v0.1.0) or pass it: make dist VERSION=v0.1.0" >&2
  exit 2
fi

tar=tar
command -v gtar >/dev/null && tar=gtar
if ! "$tar" --version 2>/dev/null | grep -q 'GNU tar'; then
  echo "dist: needs GNU tar (for reproducible archives); on macOS: brew install gnu-tar" >&2
  exit 2
fi

mtime=${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)}
work=$(mktemp -d)
trap 'wait; rm -rf "$work"' EXIT
mkdir -p "$out"

# Release binaries run anywhere their GOOS/GOARCH does: no cgo, the baseline
# instruction sets whatever the caller's environment asks for.
export CGO_ENABLED=0 GOAMD64=v1 GOARM64=v8.0

# pack OS ARCH builds the plugin for one platform into $out/<archive> and
# writes the archive's sha256 to $work/<os>_<arch>.sha256.
pack() {
  local os=$1 arch=$2 bin=kubectl-savepoint
  [[ $os == windows ]] && bin+=.exe
  local stage=$work/${os}_${arch} archive=kubectl-savepoint_${version}_${os}_${arch}.tar.gz
  mkdir -p "$stage"

  echo "dist: go build $os/$arch" >&2
  (cd "$root" && GOOS=$os GOARCH=$arch "$go" build -trimpath -ldflags "-s -w $ldflags" \
    -o "$stage/$bin" ./cmd/kubectl-savepoint)
  chmod 0755 "$stage/$bin"
  install -m 0755 "$here/kubectl_complete-savepoint" "$stage/kubectl_complete-savepoint"
  install -m 0644 "$root/LICENSE" "$stage/LICENSE"

  local entries
  mapfile -t entries < <(cd "$stage" && ls -A | sort)
  "$tar" -C "$stage" --format=gnu --sort=name --mtime="@$mtime" \
    --owner=0 --group=0 --numeric-owner -cf - "${entries[@]}" | gzip -n >"$out/$archive"
  rm -rf "$stage"
  sha256sum "$out/$archive" | cut -d' ' -f1 >"$work/${os}_${arch}.sha256"
}

# A cold build keeps every core busy by itself; two at a time overlap one's
# link (single-threaded) with the other's compile when the cache is warm.
parallel=${DIST_JOBS:-2}
pids=() failed=0
for platform in "${platforms[@]}"; do
  while (( $(jobs -rp | wc -l) >= parallel )); do wait -n || true; done
  pack "${platform%/*}" "${platform#*/}" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done # bash keeps reaped jobs' statuses
if (( failed )); then
  echo "dist: a build failed (above)" >&2
  exit 1
fi

archives=()
fill=(-e "s|@VERSION@|$version|g")
for platform in "${platforms[@]}"; do
  os=${platform%/*} arch=${platform#*/}
  archives+=("kubectl-savepoint_${version}_${os}_${arch}.tar.gz")
  fill+=(-e "s|@SHA256_${os}_${arch}@|$(<"$work/${os}_${arch}.sha256")|g")
done

(cd "$out" && sha256sum "${archives[@]}" >checksums.txt)
# The template's leading comment is about the template: the manifest gets its own.
{
  echo "# krew plugin manifest of kubectl-savepoint $version, written by krew/dist.sh."
  sed -e '1,/^apiVersion:/{/^#/d;}' "${fill[@]}" "$here/savepoint.yaml.tmpl"
} >"$work/savepoint.yaml"
if grep -nE '@[A-Za-z0-9_]+@' "$work/savepoint.yaml" >&2; then
  echo "dist: placeholders left in the manifest (above): krew/savepoint.yaml.tmpl and dist.sh disagree" >&2
  exit 1
fi
mv "$work/savepoint.yaml" "$out/savepoint.yaml"
echo "dist: wrote ${#archives[@]} archives, checksums.txt and savepoint.yaml ($version) to $out" >&2
