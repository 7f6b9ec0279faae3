#!/usr/bin/env bash
# Builds the tests' control plane (kube-apiserver, etcd, kubectl) from the Go
# module proxy at the versions pinned in go.mod, stamps their versions, and
# caches them under .cache/controlplane/<versions>/ so a second run is free.
# Prints the folder (envtest's KUBEBUILDER_ASSETS) on its last line.
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

if [[ -x "$out/kube-apiserver" && -x "$out/etcd" && -x "$out/kubectl" && -f "$out/.complete" ]]; then
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

export CGO_ENABLED=0
go build -trimpath -ldflags "-s -w ${kflags}" -o "$out/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
go build -trimpath -ldflags "-s -w ${kflags}" -o "$out/kubectl" k8s.io/kubernetes/cmd/kubectl
go build -trimpath -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=${etcd}" -o "$out/etcd" ./etcd
touch "$out/.complete"
echo "$out"
