#!/usr/bin/env bash
# The dependency directions `make lint` keeps: api/v1 and flink import nothing
# of ours (flink may use api/v1's words only through its callers); nothing
# imports plugin/ or cmd/; the webhook and the controllers never import each
# other; rules decides and does not fetch (it imports only api/v1 and flink). Prints each broken rule and fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
m=$(go list -m)
fail=0
# deps PKG: our packages PKG imports (directly or not), without test files.
deps() { go list -deps "$1" | grep "^$m/" | grep -vx "$1" || true; }
forbid() { # forbid PKG PATTERN WHY
  local bad
  bad=$(deps "$1" | grep -E "$2" || true)
  if [ -n "$bad" ]; then
    echo "dependency rule broken: $1 imports $(echo $bad | tr ' ' ','): $3"; fail=1
  fi
}
forbid "$m/api/v1" "." "api/v1 is the bottom layer"
forbid "$m/flink" "." "flink is the bottom layer"
forbid "$m/internal/rules" "^$m/(internal|plugin|cmd|e2e)" "rules decides; it does not fetch (the cache plumbing is internal/index)"
for p in $(go list ./... | grep -v "^$m/plugin\$" | grep -v "^$m/cmd/" | grep -v "^$m/e2e/"); do
  forbid "$p" "^$m/(plugin|cmd/)" "nothing imports the plugin's root or a binary"
done
for p in $(go list ./internal/webhook/...); do forbid "$p" "^$m/internal/controller" "webhook and controllers are peers"; done
for p in $(go list ./internal/controller/...); do forbid "$p" "^$m/internal/webhook" "webhook and controllers are peers"; done
exit $fail
