# fpga-lab: the two commands a user needs are `make image` and `make test`; each installs
# what it needs first (`make deps`, apt packages listed in deps/*.apt, pip ones in deps/*.pip).

SWIFT_BIN ?= /opt/swift/usr/bin
export PATH := $(SWIFT_BIN):$(PATH)
SWIFT ?= swift
BUILD_FLAGS ?=
BIN := $(shell $(SWIFT) build $(BUILD_FLAGS) --show-bin-path 2>/dev/null)/fpga-lab
SOURCE_DATE_EPOCH ?= 1700000000
export SOURCE_DATE_EPOCH

IMAGE_CONFIG ?= examples/lab.yaml
OUT ?= build/out

-include mk/*.mk

.PHONY: deps build version-header unit integration test image bench clean

## deps: install the Debian (and PyPI) packages the build and the tests need
deps:
	@scripts/install-deps.sh deps

build: deps version-header
	$(SWIFT) build $(BUILD_FLAGS)

## version-header: the version the build reports (--version, the image manifest), from
## scripts/version.sh (`unversioned` outside a git checkout); rewritten only when it changes, so
## only Sources/CBuildVersion recompiles
VERSION_HEADER := Sources/CBuildVersion/version.generated.h
version-header:
	@v="$$(scripts/version.sh 2>/dev/null)" || v=unversioned; \
	 line="#define FPGA_LAB_BUILD_VERSION \"$$v\""; \
	 [ -f $(VERSION_HEADER) ] && [ "$$(cat $(VERSION_HEADER))" = "$$line" ] || echo "$$line" > $(VERSION_HEADER)

## unit: Swift Testing unit tests, seconds; the module graph's rules (scripts/module-graph.py);
## the man page generator's tests (Tests/dist, python3 -m unittest)
unit: build
	python3 scripts/module-graph.py --check
	$(SWIFT) test $(BUILD_FLAGS) --skip IntegrationTests
	FPGA_LAB=$(BIN) python3 -m unittest discover -s Tests/dist -q

## integration: tests against real tools (tar, systemd-analyze, mkfs, fsck, usbip...), and the
## usbip-binder suites (fake sysfs + Debian's real `usbip list -r`, every arch under qemu-user)
integration: build binder-test
	$(SWIFT) test $(BUILD_FLAGS) --filter IntegrationTests

## test: every lane (deb-lane: the .deb in clean Debian 12 and 13 roots, mk/dist.mk; fuzz-smoke:
## each fuzz target for 10 s, mk/fuzz.mk; workflow-lane: mk/workflow.mk)
test: unit integration deb-lane e2e fuzz-smoke workflow-lane

## image: patch BASE (default: a stand-in shaped like Raspberry Pi OS arm64, built with the real
## mkfs tools) with the overlay of IMAGE_CONFIG into $(OUT)/pi.img, pi.img.bmap and SHA256SUMS
BASE ?=
image: build binder
	@mkdir -p $(OUT)
	@if [ -z "$(BASE)" ]; then \
	    scripts/make-standin-base.sh --small build/standin/small-aarch64.img --arch aarch64 >/dev/null && \
	    echo "image: no BASE given; using the stand-in build/standin/small-aarch64.img"; \
	fi
	$(BIN) build-image --config $(IMAGE_CONFIG) --base $(or $(BASE),build/standin/small-aarch64.img) --output $(OUT)/pi.img

clean:
	rm -rf .build build

## bench: speed and memory against baselines in the same run (BENCH_QUICK=1: small base);
## BENCH_MAKE_STARTED (when make read this file) lets results.json time the whole `make bench`
bench: export BENCH_MAKE_STARTED := $(shell date +%s)
bench: deps $(BINDER_OUT)/x86_64/usbip-binder $(BINDER_OUT)/aarch64/usbip-binder
	$(SWIFT) build -c release --product fpga-lab
	python3 Benchmarks/bench.py $$($(SWIFT) build -c release --show-bin-path)/fpga-lab
