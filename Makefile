# kubectl-savepoint: build, test and generate. `make help` lists the targets.

SHELL := /usr/bin/env bash -o pipefail
GO    ?= go
BIN   := $(CURDIR)/bin
PKGS  := ./...

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
# Both binaries print them (kubectl savepoint version, savepoint-manager
# --version and its log); the manager publishes its own for the plugin.
LDFLAGS := -X github.com/kubectl-savepoint/kubectl-savepoint/internal/version.Version=$(VERSION) \
           -X github.com/kubectl-savepoint/kubectl-savepoint/internal/version.Commit=$(COMMIT)

# The tests' control plane (kube-apiserver, kube-controller-manager, etcd,
# kubectl), built from the Go module proxy by e2e/tools/build.sh and cached
# under .cache/controlplane.
CONTROLPLANE = $(shell bash e2e/tools/build.sh | tail -n 1)

TEST_FLAGS ?= -count=1 -timeout 45m

.PHONY: help
help: ## List the targets.
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

.PHONY: build
build: ## Build the plugin and the manager into bin/.
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/...

.PHONY: dev
dev: build ## Run the playground: control plane, manager, a real Flink with its SQL Gateway, demo application and statement (Ctrl-C stops).
	$(GO) run ./e2e/playground

.PHONY: tools
tools: ## Build the control plane and the Go tools (cached; a second run is free).
	bash e2e/tools/build.sh
	$(GO) build -o /dev/null tool

.PHONY: test
test: ## Run every test, including the integration tests against a real API server and a real Flink.
	KUBEBUILDER_ASSETS=$(CONTROLPLANE) $(GO) tool gotestsum --format testname -- $(TEST_FLAGS) $(PKGS)

.PHONY: test-unit
test-unit: ## Run only the tests that need no control plane and no Flink.
	$(GO) tool gotestsum --format testname -- -short $(TEST_FLAGS) $(PKGS)

.PHONY: generate
generate: ## Regenerate deepcopy functions and CRDs from api/, webhook configurations from webhook/, the manager's RBAC from its markers.
	$(GO) tool controller-gen object paths=./api/...
	rm -f manifests/crd/cmf.confluent.io_*.yaml
	$(GO) tool controller-gen crd:crdVersions=v1 paths=./api/... output:crd:dir=manifests/crd
	$(GO) tool controller-gen webhook paths=./internal/webhook/... output:webhook:dir=manifests/webhook
	$(GO) tool controller-gen rbac:roleName=savepoint-manager paths="{./internal/controller/...,./internal/manager/...}" output:rbac:dir=manifests/rbac

.PHONY: verify-generated
verify-generated: ## Fail when the committed generated files (deepcopy, CRDs) are stale.
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(GO) tool controller-gen object paths=./api/... output:object:dir=$$tmp/object && \
	$(GO) tool controller-gen crd:crdVersions=v1 paths=./api/... output:crd:dir=$$tmp/crd && \
	$(GO) tool controller-gen webhook paths=./internal/webhook/... output:webhook:dir=$$tmp/webhook && \
	diff -u manifests/webhook/manifests.yaml $$tmp/webhook/manifests.yaml && \
	$(GO) tool controller-gen rbac:roleName=savepoint-manager paths="{./internal/controller/...,./internal/manager/...}" output:rbac:dir=$$tmp/rbac && \
	diff -u manifests/rbac/role.yaml $$tmp/rbac/role.yaml && \
	diff -u api/v1/zz_generated.deepcopy.go $$tmp/object/zz_generated.deepcopy.go && \
	diff -ru -x kustomization.yaml manifests/crd $$tmp/crd || \
	{ echo "generated files are stale: run 'make generate' and commit the result"; exit 1; }

.PHONY: lint
lint: verify-generated ## gofmt, go vet, staticcheck, the generated-files check and the dependency directions (e2e/tools/deps.sh).
	@bash e2e/tools/deps.sh
	@unformatted=$$(gofmt -l $$(git ls-files '*.go') 2>/dev/null); \
	if [ -n "$$unformatted" ]; then echo "not gofmt-formatted (run gofmt -w):"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

# make bench ROWS=admission runs one row (admission, concurrent, redeploy,
# starvation, scale); OBJECTS and DEAD size the scale and starvation rows.
ROWS    ?=
OBJECTS ?= 20000
DEAD    ?= 5000

.PHONY: bench
bench: ## Measure issue 20's goals against the playground and print the table (one row: ROWS=admission; compare ratios within one run).
	KUBEBUILDER_ASSETS=$(CONTROLPLANE) $(GO) test -run '^$$' -bench 'Issue20/$(ROWS)' -benchtime 1x -timeout 60m ./e2e/bench -objects $(OBJECTS) -dead $(DEAD)

.PHONY: bench-micro
bench-micro: ## Run the package benchmarks (savepoint round trip, lookups, lifecycle, redeploy).
	KUBEBUILDER_ASSETS=$(CONTROLPLANE) $(GO) test -run '^$$' -bench . -benchmem $$($(GO) list ./... | grep -v /e2e/bench)

.PHONY: clean
clean: ## Remove build output (keeps the control-plane and Maven caches; see clean-cache).
	rm -rf $(BIN) dist

.PHONY: clean-cache
clean-cache: ## Remove the cached control plane, Flink jar and Maven downloads.
	rm -rf .cache

# krew release files (archives per platform, checksums.txt, savepoint.yaml);
# VERSION must be a semantic version tag such as v0.1.0.
DIST_DIR ?= $(CURDIR)/dist

.PHONY: dist
dist: ## Cross-compile the plugin and write the krew archives, checksums and manifest to dist/
	VERSION='$(VERSION)' LDFLAGS='$(LDFLAGS)' DIST_DIR='$(DIST_DIR)' GO='$(GO)' bash krew/dist.sh
