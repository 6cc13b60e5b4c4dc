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

.PHONY: deps build unit integration e2e test image bench clean

## deps: install the Debian (and PyPI) packages the build and the tests need
deps:
	@scripts/install-deps.sh deps

build: deps
	$(SWIFT) build $(BUILD_FLAGS)

## unit: Swift Testing unit tests, seconds
unit: build
	$(SWIFT) test $(BUILD_FLAGS) --skip IntegrationTests

## integration: tests against real tools (tar, systemd-analyze, mkfs, fsck, usbip...)
integration: build
	$(SWIFT) test $(BUILD_FLAGS) --filter IntegrationTests

## test: every lane
test: unit integration

## image: the main job on the example lab (renders its overlay until build-image lands)
image: build
	mkdir -p $(OUT)
	$(BIN) render --config $(IMAGE_CONFIG) --output $(OUT)/overlay.tar.gz
	cd $(OUT) && sha256sum overlay.tar.gz > SHA256SUMS && cat SHA256SUMS

clean:
	rm -rf .build build
