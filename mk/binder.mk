# usbip-binder: Embedded Swift, static musl binaries for the Pi and for VM tests.
#
#   make -f mk/binder.mk binder        build/binder/{x86_64,aarch64,armv6}/usbip-binder
#   make -f mk/binder.mk binder-test   fake-sysfs suite + real `usbip list -r` peer, every arch
#                                      (aarch64 and armv6 under qemu-user-static)
#   make -f mk/binder.mk binder-vm-test the x86_64 binary against a real kernel (Debian's, in
#                                      qemu, TCG): bind, list, import hand-over, unbind
#
# Needs: swiftc (Swift 6.3 with the Embedded stdlib), python3 -m ziglang (PyPI
# `ziglang`, for musl and its headers), qemu-user-static and usbip for the tests
# (deps/binder.apt, deps/binder.pip). Self-contained: the main Makefile includes it.

SWIFTC ?= /opt/swift/usr/bin/swiftc
PYTHON ?= python3
BINDER_ARCHS := x86_64 aarch64 armv6
BINDER_OUT := build/binder
BINDER_EMBEDDED_LIB := $(abspath $(dir $(SWIFTC))../lib/swift/embedded)
BINDER_ZIG_LIBC = $(shell $(PYTHON) -c 'import ziglang, os; print(os.path.dirname(ziglang.__file__))')/lib/libc/include
BINDER_SOURCES := $(sort $(wildcard Sources/USBIPWire/*.swift)) $(sort $(wildcard Sources/BinderConf/*.swift)) \
  $(sort $(wildcard Binder/Sources/*.swift))
BINDER_C := Binder/CBinder/cbinder.h Binder/CBinder/module.modulemap Binder/stubs.c Sources/CLinux/usbip_socket.h

# Per architecture: Swift target, zig (musl) target, musl header directory, extra flags.
BINDER_SWIFT_TARGET_x86_64 := x86_64-unknown-linux-gnu
BINDER_ZIG_TARGET_x86_64 := x86_64-linux-musl
BINDER_MUSL_x86_64 := x86_64-linux-musl
BINDER_SWIFT_TARGET_aarch64 := aarch64-none-none-elf
BINDER_ZIG_TARGET_aarch64 := aarch64-linux-musl
BINDER_MUSL_aarch64 := aarch64-linux-musl
# Raspberry Pi 0/1: ARMv6 + VFPv2, hard-float (Debian's armhf would be ARMv7).
BINDER_SWIFT_TARGET_armv6 := armv6-none-none-eabi
BINDER_SWIFT_FLAGS_armv6 := -Xcc -mfloat-abi=hard -Xcc -mcpu=arm1176jzf-s
BINDER_ZIG_TARGET_armv6 := arm-linux-musleabihf
BINDER_ZIG_FLAGS_armv6 := -mcpu=arm1176jzf_s
BINDER_MUSL_armv6 := arm-linux-musl

BINDER_BINARIES := $(foreach a,$(BINDER_ARCHS),$(BINDER_OUT)/$(a)/usbip-binder)

.PHONY: binder binder-test binder-vm-test binder-sizes FORCE
.SECONDARY: $(foreach a,$(BINDER_ARCHS),$(BINDER_OUT)/$(a)/usbip-binder.o)

binder: $(BINDER_BINARIES) binder-sizes

binder-sizes: $(BINDER_BINARIES)
	@for f in $^; do printf '%s %s bytes\n' "$$f" "$$(stat -c %s "$$f")"; done

# The version string: regenerated only when `git describe` changes.
$(BINDER_OUT)/Version.generated.swift: FORCE
	@mkdir -p $(@D)
	@v="$$(scripts/version.sh 2>/dev/null || echo unversioned)"; \
	 line="let binderBuildVersion = \"$$v\""; \
	 [ -f $@ ] && [ "$$(cat $@)" = "$$line" ] || echo "$$line" > $@

$(BINDER_OUT)/%/usbip-binder.o: $(BINDER_SOURCES) $(BINDER_C) $(BINDER_OUT)/Version.generated.swift
	@mkdir -p $(@D)
	$(SWIFTC) -target $(BINDER_SWIFT_TARGET_$*) -enable-experimental-feature Embedded -wmo \
	  -parse-as-library -Osize -module-name UsbipBinder \
	  -Xcc -fPIC -Xllvm -relocation-model=pic $(BINDER_SWIFT_FLAGS_$*) \
	  -I Binder/CBinder -Xcc -nostdlibinc \
	  -Xcc -isystem -Xcc $(BINDER_ZIG_LIBC)/$(BINDER_MUSL_$*) \
	  -Xcc -isystem -Xcc $(BINDER_ZIG_LIBC)/generic-musl \
	  -Xfrontend -function-sections -Xllvm -enable-machine-outliner=always -module-cache-path $(@D)/module-cache \
	  -c $(BINDER_SOURCES) $(BINDER_OUT)/Version.generated.swift -o $@

$(BINDER_OUT)/%/usbip-binder: $(BINDER_OUT)/%/usbip-binder.o Binder/stubs.c
	$(PYTHON) -m ziglang cc -target $(BINDER_ZIG_TARGET_$*) $(BINDER_ZIG_FLAGS_$*) -Os -static -s -Wl,--gc-sections \
	  $< Binder/stubs.c $(BINDER_EMBEDDED_LIB)/$(BINDER_SWIFT_TARGET_$*)/libswiftUnicodeDataTables.a -o $@

# Runs each binary the way it would run on its machine: natively or under qemu-user.
BINDER_RUN_x86_64 :=
BINDER_RUN_aarch64 := qemu-aarch64-static
BINDER_RUN_armv6 := qemu-arm-static -cpu arm1176

binder-test: $(BINDER_BINARIES)
	$(foreach a,$(BINDER_ARCHS),BINDER=$(BINDER_OUT)/$(a)/usbip-binder BINDER_RUNNER="$(BINDER_RUN_$(a))" \
	  BINDER_ARCH=$(a) bash Binder/tests/run-all.sh &&) true

binder-vm-test: $(BINDER_OUT)/x86_64/usbip-binder
	bash Binder/tests/vm/run-vm.sh $<
