# e2e lanes (issue 7). Included by the main Makefile (`-include mk/*.mk`), which defines BIN and
# the `build` target.
#
#   e2e            the server lane: builds the bootable stand-in (cached in build/cache/standin),
#                  patches it with E2E_LAB into build/e2e/server.img, boots it under qemu TCG and
#                  checks cold-plug, hot-plug (latency), replugs, non-matching devices and the
#                  host's `usbip list -r` (Tests/e2e/server-lane.sh)
#   e2e-client     the .deb of `make dist` end to end: a server VM (patched with
#                  Tests/e2e/lab-binder.yaml by the .deb's fpga-lab and usbip-binder) and an
#                  unpatched client VM that installs the .deb with apt from a local repository
#                  on its data disk (with its dependencies' .debs, cached in
#                  build/cache/clientvm/debs): the client-recipe's vhci-hcd, fpga-lab
#                  attach/status/detach, the packaged fpga-lab-watch@lab unit, bytes both ways
#                  through the board's serial port; over a virtual cable between the VMs, per
#                  daemon (usbip-binder, then Debian's usbipd): 1000 one-byte round trips and
#                  1 MiB each way, who holds a board, a dead client and a dead server
#                  (Tests/e2e/client-lane.sh)
#   e2e-trixie     the server lane (usbip-binder) on the trixie stand-in (Debian 13: systemd 257,
#                  cloud-init, NetworkManager; scripts/make-standin-base.sh --release trixie)
#   e2e-firstboot  for the bookworm and the trixie stand-in, patched with a lab holding server.ssh
#                  (a key made for the run) and server.network (a static address): the host logs
#                  in over ssh through a forward to that address, runs `id` and
#                  `systemctl is-active usbip-binder`, a password login is refused; one line per
#                  release with the seconds from starting qemu to the first login
#                  (Tests/e2e/firstboot-lane.sh)
#   e2e-arm64      the arm64 stand-in (scripts/make-standin-arm64.sh, cached) patched with the
#                  aarch64 binder boots under qemu-system-aarch64 -M virt -cpu cortex-a57 to
#                  multi-user.target with usbip-binder active and the board plugged at boot
#                  listed by the host's `usbip list -r` (Tests/e2e/arm64-lane.sh); the cold
#                  stand-in (mmdebstrap --arch=arm64 under qemu-user) takes about 7 min; warm, the
#                  lane takes under 2 min
#
# E2E_LAB picks the lab file: Tests/e2e/lab.yaml runs Debian's usbipd (daemon: usbipd); a
# `daemon: binder` variant is selected the same way, e.g. make e2e E2E_LAB=Tests/e2e/lab-binder.yaml
# E2E_REPLUGS sets the unplug/replug cycles (default 10).

E2E_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)
E2E_LAB ?= $(E2E_ROOT)/Tests/e2e/lab.yaml
E2E_REPLUGS ?= 10

.PHONY: e2e e2e-server e2e-binder e2e-trixie e2e-firstboot e2e-client e2e-arm64

## e2e: the server lane twice on bookworm, with Debian's usbipd and with the baked-in
## usbip-binder, and once on trixie; the first-boot lane; the client lane; the arm64 smoke lane
e2e: e2e-server e2e-binder e2e-trixie e2e-firstboot e2e-client e2e-arm64

e2e-server: build
	$(E2E_ROOT)/Tests/e2e/server-lane.sh --fpga-lab $(BIN) --lab $(E2E_LAB) --replugs $(E2E_REPLUGS)

e2e-binder: build $(BINDER_OUT)/x86_64/usbip-binder
	$(E2E_ROOT)/Tests/e2e/server-lane.sh --fpga-lab $(BIN) --lab $(E2E_ROOT)/Tests/e2e/lab-binder.yaml --replugs $(E2E_REPLUGS)

e2e-trixie: build $(BINDER_OUT)/x86_64/usbip-binder
	$(E2E_ROOT)/Tests/e2e/server-lane.sh --fpga-lab $(BIN) --lab $(E2E_ROOT)/Tests/e2e/lab-binder.yaml --replugs $(E2E_REPLUGS) --release trixie

e2e-firstboot: build $(BINDER_OUT)/x86_64/usbip-binder
	$(E2E_ROOT)/Tests/e2e/firstboot-lane.sh --fpga-lab $(BIN)

e2e-client: dist
	$(E2E_ROOT)/Tests/e2e/client-lane.sh --deb $$(ls build/dist/fpga-lab_*.deb)

e2e-arm64: build $(BINDER_OUT)/aarch64/usbip-binder
	$(E2E_ROOT)/Tests/e2e/arm64-lane.sh --fpga-lab $(BIN)
