# rancher-edge. `make demo` runs the edge on an embedded sample world;
# `make test` runs every test. Both work on a fresh machine with Go.

GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
PKGS      := ./...
# -race multiplies CPU time; 2 cores and a 15-minute budget shape these.
TESTFLAGS ?= -race -timeout 12m

.PHONY: all build demo test vet bench fuzz deps-test clean docs tools image

# Real servers the tests run against, each built once per machine from its
# wrapper module in tools/<name> (tools/README.md). Add a name here.
TOOLS     := rancher-metadata consul kube-apiserver helm
export EDGE_TOOLS_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/rancher-edge/tools

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/edge ./cmd/edge

demo:
	$(GO) run ./cmd/edge demo

# vet builds with the tests' -race (when they have it): the packages it
# compiles are then the ones go test reuses, instead of a second, plain
# build of every dependency (the larger part of a cold run's compiling).
vet:
	$(GO) vet $(filter -race,$(TESTFLAGS)) $(PKGS)
	@unformatted=$$("$$($(GO) env GOROOT)/bin/gofmt" -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt -w needed:"; echo "$$unformatted"; exit 1; fi

# deps-test installs what the tests need beyond Go modules.
deps-test:
	@command -v ip >/dev/null 2>&1 || { \
		echo "installing iproute2: the Kubernetes tests add test addresses in their own network namespace"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends iproute2; \
	}
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing chromium for the dashboard's browser test (cmd/edge/browser_test.go)"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; \
	}
	@command -v buildah >/dev/null 2>&1 && command -v getcap >/dev/null 2>&1 && [ -s /etc/ssl/certs/ca-certificates.crt ] || { \
		echo "installing buildah for the image test (deploy/image/image_test.go)"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends buildah libcap2-bin ca-certificates; \
	}
	@command -v named >/dev/null 2>&1 || [ -x /usr/sbin/named ] || { \
		echo "installing bind9 for the DNS-01 test (cmd/edge/acmedns_test.go, certs/acme/bindtest)"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends bind9; \
	}
	@command -v curl >/dev/null 2>&1 || { \
		echo "installing curl for the digest authentication test (cmd/edge/labels_test.go)"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl; \
	}

tools:
	@for t in $(TOOLS); do bash tools/build.sh $$t || exit 1; done

test: deps-test vet tools
	$(GO) test $(TESTFLAGS) $(PKGS)

# fuzz runs every fuzz target in the repository for FUZZTIME each, one at
# a time (make test runs their seed corpora). A failing input is saved
# under the package's testdata/fuzz, to commit as a regression seed.
FUZZTIME ?= 1m
fuzz:
	@grep -r --include='*_test.go' -o '^func Fuzz[A-Za-z0-9_]*' . | sed 's|^\./||; s|/[^/]*_test.go:func |:|' | sort -u | \
	while IFS=: read -r dir fn; do \
		echo "== $$fn (./$$dir, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) ./$$dir || exit 1; \
	done

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

# docs regenerates the settings table of docs/configuration.md, the label
# table of docs/labels.md and the ingress-nginx annotation table of
# docs/kubernetes.md from the code (tests fail when they disagree).
docs:
	sed -n '1,/^## Settings$$/p' docs/configuration.md > docs/.configuration.tmp
	echo >> docs/.configuration.tmp
	$(GO) run ./cmd/edge help settings >> docs/.configuration.tmp
	mv docs/.configuration.tmp docs/configuration.md
	$(GO) test ./discovery/labels -run 'TestDocsLabelsInStep|TestNginxTable' -update
	sed '/^| variable | image |/,$$d' docs/migrating.md > docs/.migrating.tmp
	$(GO) run ./cmd/edge help migrating >> docs/.migrating.tmp
	mv docs/.migrating.tmp docs/migrating.md

# image builds the container image from scratch, without a registry, for
# each of IMAGE_ARCHS (deploy/image/build.sh; docs/image.md). It tags
# rancher-edge:$(VERSION)-<arch> in the image tool's storage and writes
# bin/rancher-edge-$(VERSION)-<arch>.tar for `docker load`.
IMAGE_ARCHS ?= amd64 arm64
image:
	@for a in $(IMAGE_ARCHS); do \
		echo "go build linux/$$a"; \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$a $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/edge-linux-$$a ./cmd/edge || exit 1; \
	done
	bash deploy/image/build.sh --archs "$(IMAGE_ARCHS)" --bin-dir bin --version $(VERSION) --out bin

clean:
	rm -rf bin artifacts

# bench-peers measures the edge against HAProxy, nginx and Caddy on loopback
# (installs them on a fresh machine; QUICK=1 for a smoke test). bench/README.md.
.PHONY: bench-peers
bench-peers:
	bash bench/peers.sh
