# Packaging (issue 23): a .deb that installs without Swift, and `make install` for builds from
# source; both lay out the same tree (scripts/dist/install-tree.sh).
#
#   make dist                   build/dist/fpga-lab_VERSION_amd64.deb and .tar.gz (the same
#                               tree), then lintian on the .deb (no errors allowed)
#   make install [PREFIX=/usr/local] [DESTDIR=]
#   make deb-lane               make install into build/dist/install-check must give the .deb's
#                               tree; Tests/dist/deb-lane.sh: the .deb installed with apt into
#                               clean Debian 12 and 13 roots (mmdebstrap), each verb run inside
#
# The binary: release, Swift runtime and Foundation linked statically (FoundationNetworking
# needs libcurl named for the linker), no RUNPATH (SwiftPM adds $ORIGIN by default: libraries
# beside /usr/bin/fpga-lab would be loaded), in its own scratch path so it never thrashes the
# debug build. VERSION is scripts/version.sh's (git describe); the man page and the changelog entry
# take the date of the commit.

DIST_OUT := build/dist
DIST_SCRATCH := .build-dist
DIST_BIN := $(DIST_SCRATCH)/release/fpga-lab
DIST_GEN := $(DIST_OUT)/generated
DIST_STAGE := $(DIST_OUT)/stage
PREFIX ?= /usr/local
DESTDIR ?=
# Computed on first use and then kept (the `$(eval VAR := ...)$(VAR)` idiom): one value for the
# whole run, and no git or version.sh for targets that never use them (make unit, make build).
DIST_VERSION = $(eval DIST_VERSION := $$(shell scripts/version.sh 2>/dev/null))$(DIST_VERSION)
# A tree with uncommitted changes is not the commit: its changelog entry takes the build's time.
ifndef DIST_DATE
DIST_DATE = $(eval DIST_DATE := $$(if $$(findstring dirty,$$(DIST_VERSION)),$$(shell date -R),$$(shell git log -1 --format=%cD)))$(DIST_DATE)
endif
DIST_EPOCH = $(eval DIST_EPOCH := $$(shell git log -1 --format=%ct))$(DIST_EPOCH)

.PHONY: dist dist-build dist-generated install deb-lane

dist-build: deps version-header
	@test -n "$(DIST_VERSION)" || { echo "make dist: no version: scripts/version.sh needs a git checkout"; exit 1; }
	$(SWIFT) build -c release --static-swift-stdlib --disable-local-rpath --product fpga-lab -Xlinker -lcurl \
	  -Xlinker -z -Xlinker relro -Xlinker -z -Xlinker now --scratch-path $(DIST_SCRATCH) \
	  -Xcc -ffile-prefix-map=$(CURDIR)=. -Xswiftc -file-prefix-map -Xswiftc $(CURDIR)=.

# The man page and the shell completions, from the built binary's own help.
dist-generated: dist-build
	@mkdir -p $(DIST_GEN)
	$(DIST_BIN) --generate-completion-script bash > $(DIST_GEN)/fpga-lab.bash
	$(DIST_BIN) --generate-completion-script zsh > $(DIST_GEN)/_fpga-lab
	$(DIST_BIN) --generate-completion-script fish > $(DIST_GEN)/fpga-lab.fish
	$(DIST_BIN) --experimental-dump-help > $(DIST_GEN)/help.json
	python3 scripts/dist/gen-man.py --json $(DIST_GEN)/help.json --version "$(DIST_VERSION)" \
	  --date "$$(git log -1 --format=%cs)" --output $(DIST_GEN)/fpga-lab.1

install: dist-generated $(BINDER_BINARIES)
	scripts/dist/install-tree.sh --destdir "$(DESTDIR)" --prefix "$(PREFIX)" --fpga-lab $(DIST_BIN) \
	  --generated $(DIST_GEN) --binders $(BINDER_OUT) --version "$(DIST_VERSION)" --date "$(DIST_DATE)"

dist: dist-generated $(BINDER_BINARIES)
	rm -rf $(DIST_STAGE) && mkdir -p $(DIST_STAGE)/etc/fpga-lab
	SOURCE_DATE_EPOCH=$(DIST_EPOCH) scripts/dist/install-tree.sh --destdir $(DIST_STAGE) --prefix /usr \
	  --fpga-lab $(DIST_BIN) --generated $(DIST_GEN) --binders $(BINDER_OUT) \
	  --version "$(DIST_VERSION)" --date "$(DIST_DATE)"
	rm -f $(DIST_OUT)/fpga-lab_*.deb $(DIST_OUT)/fpga-lab_*.tar.gz
	SOURCE_DATE_EPOCH=$(DIST_EPOCH) scripts/dist/make-deb.sh --stage $(DIST_STAGE) --version "$(DIST_VERSION)" --out $(DIST_OUT)
	lintian --fail-on error --info --display-info $(DIST_OUT)/fpga-lab_*.deb
	@ls -l $(DIST_OUT)/fpga-lab_*

deb-lane: dist
	rm -rf $(DIST_OUT)/install-check
	$(MAKE) --no-print-directory install DESTDIR=$(abspath $(DIST_OUT)/install-check) PREFIX=/usr \
	  DIST_VERSION="$(DIST_VERSION)" DIST_DATE="$(DIST_DATE)"
	Tests/dist/deb-lane.sh --deb $$(ls $(DIST_OUT)/fpga-lab_*.deb) --install-tree $(DIST_OUT)/install-check
