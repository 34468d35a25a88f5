# idstack: build, run and test the local multi-region identity stack.
# Every pinned version is in versions.env.
include versions.env

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

ROOT := $(abspath .)
BIN := $(ROOT)/bin
GO ?= go
export CGO_ENABLED := 0
APT_PACKAGES := chromium chromium-driver debootstrap
SERVERS := kratos hydra vault toxiproxy
INFRA := $(BIN)/idstack-infra
export IDSTACK_ROOT := $(ROOT)
# Integration tests share one machine's Docker engine: one package at a time.
TEST_FLAGS ?= -count=1
INTEGRATION_TIMEOUT ?= 60m

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

.PHONY: tools
tools: apt $(addprefix $(BIN)/,$(SERVERS)) own $(BIN)/staticcheck ## install and build everything that is missing

.PHONY: apt
apt: ## install the Debian packages the project needs, only when missing
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "apt: installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# Third-party servers, from their locked modules under tools/.
$(BIN)/%: tools/%/go.mod tools/%/go.sum tools/build.sh
	tools/build.sh $* $@

# Our own binaries, rebuilt on every call (go build is a no-op when warm).
.PHONY: own
own:
	@mkdir -p $(BIN)
	$(GO) build -trimpath -o $(BIN)/ ./infra/cmd/... ./keyrotation/cmd/... ./bridge/cmd/... ./e2e/cmd/... ./chaos/cmd/...

$(BIN)/staticcheck: versions.env
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

.PHONY: tools-lock
tools-lock: ## re-lock tools/*/go.mod from versions.env after a version change
	for t in $(SERVERS); do tools/lock.sh $$t; done

.PHONY: images
images: tools ## build every container image that is missing (tagged by content hash)
	$(INFRA) images

.PHONY: up
up: images ## start the default topology and print its URLs
	$(INFRA) up

.PHONY: status
status: own ## show the stack's nodes and the health of every URL
	$(INFRA) status

.PHONY: down
down: own ## remove exactly what make up created
	$(INFRA) down

# The release gate: the default chaos suite on a stack of its own (name and
# ports clear of make up's), brought up and removed by the run. idstack-chaos
# exits 1 when a scenario failed its SLO or an invariant, 2 when the run could
# not be made; make turns any failure into its own 2, so the CLI's code is
# kept in results/chaos/exit-code for a pipeline to tell them apart.
GATE_FLAGS ?= --suite default
.PHONY: gate
gate: images ## the main job: chaos suite under live logins on a fresh local stack; report in results/chaos
	@mkdir -p results/chaos; rm -f results/chaos/exit-code; \
	code=0; $(BIN)/idstack-chaos run --up --name idstack-gate --base-port 5130 --report-dir results/chaos $(GATE_FLAGS) || code=$$?; \
	echo $$code > results/chaos/exit-code; \
	[ $$code -eq 0 ] || echo "make gate: idstack-chaos exited $$code (1: gate closed, 2: the run could not be made); make reports any failure as 2, results/chaos/exit-code keeps the 1 or 2"; \
	exit $$code

# The gate's verdict, measured: N fresh-clone runs of make gate in a row,
# each run's verdict and figures. STABILITY_BROKEN=1 runs the replica kills
# on a stack with one replica per service, which the gate must fail.
STABILITY_RUNS ?= 3
.PHONY: gate-stability
gate-stability: own ## make gate N times from fresh clones (STABILITY_RUNS=3; STABILITY_BROKEN=1: a broken stack that must fail)
ifeq ($(STABILITY_BROKEN),1)
	EXPECT=1 tools/gate-stability.sh $(STABILITY_RUNS) --replicas 1 --scenario kill-kratos-replica,kill-hydra-replica,kill-bridge-replica
else
	tools/gate-stability.sh $(STABILITY_RUNS) $(GATE_FLAGS)
endif

.PHONY: lint
lint: $(BIN)/staticcheck ## gofmt, go vet, staticcheck
	@unformatted=$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags integration ./...
	$(GO) vet -tags e2e ./...
	$(BIN)/staticcheck ./...
	$(BIN)/staticcheck -tags integration ./...
	$(BIN)/staticcheck -tags e2e ./...

.PHONY: test-unit
test-unit: ## fast unit tests, no Docker
	$(GO) test $(TEST_FLAGS) ./...

.PHONY: test-integration
test-integration: images ## integration tests against real servers in Docker
	@mkdir -p .cache
	@# Verbose into a log; print the package results, failures and skips (with their
	@# reasons); on failure, each failed test's own output and the log's tail.
	@set +e; $(GO) test $(TEST_FLAGS) -v -p 1 -tags integration -timeout $(INTEGRATION_TIMEOUT) ./... > .cache/integration.log 2>&1; rc=$$?; \
	grep -E '^(ok|FAIL|panic)|^--- (FAIL|SKIP)|SKIP \(' .cache/integration.log; \
	if [ $$rc -ne 0 ]; then tools/failed-tests.sh .cache/integration.log 200; echo "--- last 40 lines of .cache/integration.log ---"; tail -n 40 .cache/integration.log; fi; \
	exit $$rc

.PHONY: test
test: tools lint test-unit test-helm test-terraform test-integration test-e2e ## everything CI runs: lint, unit, chart, module, integration (chaos short suite included) and browser tests

.PHONY: test-e2e
test-e2e: images ## the browser suite (Chromium) against a local topology of its own
	@mkdir -p .cache
	@set +e; $(GO) test $(TEST_FLAGS) -v -tags e2e -timeout 30m ./e2e/... > .cache/e2e.log 2>&1; rc=$$?; \
	grep -E '^(ok|FAIL|panic)|^ *--- (FAIL|SKIP)|SKIP \(|^ *\|' .cache/e2e.log; \
	if [ $$rc -ne 0 ]; then tools/failed-tests.sh .cache/e2e.log 200; echo "--- last 40 lines of .cache/e2e.log ---"; tail -n 40 .cache/e2e.log; fi; \
	exit $$rc

# --- helm (issue #7): targets owned by helm/ ---
# Tests use Helm as a Go library (helm.sh/helm/v3 at HELM_VERSION, checked
# against versions.env by a test): no helm binary, no cluster, no registry.
.PHONY: test-helm
test-helm: ## helm lint, template and manifest checks of every chart (helm/, its own Go module)
	@unformatted=$$(gofmt -l helm); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	cd helm && $(GO) vet ./... && $(GO) test $(TEST_FLAGS) ./...

.PHONY: helm-golden
helm-golden: ## rewrite helm/testdata/golden from the charts (review the diff)
	cd helm && $(GO) test -count=1 -run 'TestRender' ./... -update

# The pinned Helm CLI, for installing the charts by hand (not needed by tests).
$(BIN)/helm: versions.env
	GOBIN=$(BIN) $(GO) install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
# --- end helm ---

# --- terraform (issue #8): targets owned by terraform/ ---
# Terraform from PATH when it is TERRAFORM_VERSION, else built into bin/ from
# the lock in terraform/tool (`go install` cannot build Terraform: see
# terraform/tool/lock.sh). CHECKPOINT_DISABLE: no update check over the network.
.PHONY: test-terraform
test-terraform: ## terraform fmt and module checks (terraform/, its own Go module)
	@tf=$$(command -v terraform || true); \
	if [ -z "$$tf" ] || [ "$$(CHECKPOINT_DISABLE=1 "$$tf" version 2>/dev/null | sed -n 1p)" != "Terraform $(TERRAFORM_VERSION)" ]; then \
	  $(MAKE) --no-print-directory $(BIN)/terraform; tf=$(BIN)/terraform; \
	fi; \
	echo "terraform fmt -check -recursive terraform/ ($$tf)"; \
	CHECKPOINT_DISABLE=1 "$$tf" fmt -check -recursive terraform/
	cd terraform && $(GO) vet ./... && $(GO) test $(TEST_FLAGS) ./...

$(BIN)/terraform: versions.env terraform/tool/go.mod terraform/tool/go.sum terraform/tool/build.sh
	terraform/tool/build.sh $@

.PHONY: terraform-lock
terraform-lock: ## re-lock terraform/tool/go.mod after changing TERRAFORM_* in versions.env
	terraform/tool/lock.sh
# --- end terraform ---

.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME each (default 20s)
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $${FUZZTIME:-20s} $$pkg; \
	  done; \
	done

.PHONY: clean
clean: ## remove build outputs (not the stack: that is make down)
	rm -rf $(BIN) .cache
