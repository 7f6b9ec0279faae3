#!/usr/bin/env bash
# Builds the tests' control plane (kube-apiserver, kube-controller-manager,
# etcd, kubectl) from the Go module proxy at the versions pinned in go.mod,
# stamps their versions, and caches them under .cache/controlplane/<versions>/
# so a second run is free. Prints the folder (envtest's KUBEBUILDER_ASSETS) on
# its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$here"

kube=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
etcd=$(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
cache="${CONTROLPLANE_CACHE:-$root/.cache/controlplane}"
out="$cache/kube-${kube}_etcd-${etcd}"

# Test packages run in parallel and may all ask at once: one builds, the rest wait.
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

binaries=(kube-apiserver kube-controller-manager kubectl etcd)
complete() {
  [[ -f "$out/.complete" ]] || return 1
  local b
  for b in "${binaries[@]}"; do [[ -x "$out/$b" ]] || return 1; done
}
if complete; then
  echo "$out"
  exit 0
fi
mkdir -p "$out"
echo "building control plane kube ${kube}, etcd ${etcd} into ${out} (a cold build takes minutes)" >&2

kv=${kube#v}
major=${kv%%.*}
minor=${kv#*.}; minor=${minor%%.*}
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
kflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  kflags+=" -X ${pkg}.gitVersion=${kube} -X ${pkg}.gitMajor=${major} -X ${pkg}.gitMinor=${minor}"
  kflags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=${date}"
done

# build NAME LDFLAGS PACKAGE: a binary of a finished build (.complete) is kept,
# so a cache from before a binary was added only gains that one; a new one is
# written beside its name and renamed into place, because other checkouts'
# tests may be running the old one.
build() {
  if [[ -f "$out/.complete" && -x "$out/$1" ]]; then return 0; fi
  go build -trimpath -ldflags "$2" -o "$out/.$1.partial" "$3"
  mv -f "$out/.$1.partial" "$out/$1"
}

export CGO_ENABLED=0
build kube-apiserver "-s -w ${kflags}" k8s.io/kubernetes/cmd/kube-apiserver
build kube-controller-manager "-s -w ${kflags}" k8s.io/kubernetes/cmd/kube-controller-manager
build kubectl "-s -w ${kflags}" k8s.io/kubernetes/cmd/kubectl
build etcd "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=${etcd}" ./etcd
touch "$out/.complete"
echo "$out"
