# Stand-in Raspberry Pi OS images and the e2e boot lane.
# Included by the main Makefile, or run alone from the repo root: make -f mk/standin.mk TARGET
#
#   standin-small      build/standin/small-{x86_64,aarch64}.img   (FAT16 bootfs at sector 8192)
#   standin-bootable   build/standin/bootable-x86_64.img + .vmlinuz + .initrd.img
#                      (FAT32 bootfs at sector 16384; cached in build/cache/standin), and
#                      build/standin/bootable-trixie-x86_64.img (--release trixie)
#   standin-bench      build/standin/bench-2g.img: 2 GiB, rootfs with 512 MiB of real files
#   standin-check      Tests/e2e/check-standin.sh on the small and bootable stand-ins
#   e2e-boot           boots the unpatched bootable stand-in, hot-plugs an FTDI board

STANDIN_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)
STANDIN_OUT := $(STANDIN_ROOT)/build/standin
STANDIN_SCRIPT := $(STANDIN_ROOT)/scripts/make-standin-base.sh
STANDIN_DEPS := $(STANDIN_SCRIPT) $(wildcard $(STANDIN_ROOT)/scripts/lib/standin-*)
STANDIN_E2E := $(STANDIN_ROOT)/Tests/e2e

.PHONY: standin-small standin-bootable standin-bench standin-check e2e-boot standin-clean

standin-small: $(STANDIN_OUT)/small-x86_64.img $(STANDIN_OUT)/small-aarch64.img

$(STANDIN_OUT)/small-%.img: $(STANDIN_DEPS)
	$(STANDIN_SCRIPT) --small $@ --arch $*

standin-bootable: $(STANDIN_OUT)/bootable-x86_64.img $(STANDIN_OUT)/bootable-trixie-x86_64.img

$(STANDIN_OUT)/bootable-x86_64.img: $(STANDIN_DEPS)
	$(STANDIN_SCRIPT) --bootable $@

$(STANDIN_OUT)/bootable-trixie-x86_64.img: $(STANDIN_DEPS)
	$(STANDIN_SCRIPT) --bootable $@ --release trixie

standin-bench: $(STANDIN_OUT)/bench-2g.img

$(STANDIN_OUT)/bench-2g.img: $(STANDIN_DEPS)
	$(STANDIN_SCRIPT) --small $@ --size-gib 2 --fill-mib 512

standin-check: $(STANDIN_OUT)/bootable-x86_64.img
	$(STANDIN_E2E)/check-standin.sh --bootable $<

e2e-boot: $(STANDIN_OUT)/bootable-x86_64.img
	$(STANDIN_E2E)/boot.sh $<

standin-clean:
	rm -rf $(STANDIN_OUT) $(STANDIN_ROOT)/build/e2e
