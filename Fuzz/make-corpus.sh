#!/usr/bin/env bash
# Regenerates the seed corpora under Fuzz/Corpus/<target>/ from the real tools (sfdisk,
# mkfs.vfat + mcopy, mkfs.ext4) and the project's own samples (examples/, Tests/). Timestamps,
# volume ids, UUIDs and hash seeds are pinned, so running it again gives the same bytes.
#
#   Fuzz/make-corpus.sh [CORPUS_DIR]      default: Fuzz/Corpus
#
# Every seed stays under 64 KiB (the whole corpus well under 1 MiB). Needs fdisk (sfdisk),
# dosfstools, mtools, e2fsprogs and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-Fuzz/Corpus}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1700000000 E2FSPROGS_FAKE_TIME=1700000000 MTOOLS_SKIP_CHECK=1 TZ=UTC
for target in mbr fat ext4 usbip configtxt labconfig; do
    rm -rf "${out:?}/$target"
    mkdir -p "$out/$target"
done

# The first `bytes` bytes of `file`, without its trailing zero bytes (fuzz-mbr reads what is
# missing as zeros).
head_trimmed() { # file bytes dest
    python3 - "$@" <<'EOF'
import sys
path, count, dest = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = open(path, 'rb').read(count).rstrip(b'\0')
open(dest, 'wb').write(data)
EOF
}

# --- mbr: the start of a 64 MiB disk (fuzz-mbr pads it with zeros to 64 MiB) ---------------
disk=$work/disk.img
truncate -s 64M "$disk"
sfdisk --quiet "$disk" <<'EOF'
label: dos
label-id: 0x1234abcd
start=8192, size=65536, type=c, bootable
start=73728, type=83
EOF
head_trimmed "$disk" 512 "$out/mbr/dos-bootfs-rootfs"

rm -f "$disk" && truncate -s 64M "$disk"
sfdisk --quiet "$disk" <<'EOF'
label: dos
label-id: 0xdeadbeef
start=2, size=4094, type=e
start=4096, size=8192, type=83
start=12288, size=4096, type=82
EOF
mkfs.vfat --invariant -i 0badf00d -n BOOT --offset 2 "$disk" 2047 >/dev/null 2>&1
head_trimmed "$disk" 2048 "$out/mbr/dos-fat-at-sector-2"

rm -f "$disk" && truncate -s 64M "$disk"
sfdisk --quiet "$disk" <<'EOF'
label: gpt
label-id: 0F4A2C1E-7B3D-4E59-9A61-2C8D5B7E3F10
first-lba: 34
start=2048, size=65536, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=6E1D4F3A-2B5C-4D7E-8F90-1A2B3C4D5E6F, name=bootfs
start=67584, type=B921B045-1DF0-41C3-AF44-4C6F280D3FAE, uuid=7F2E5A4B-3C6D-4E8F-9A01-2B3C4D5E6F70, name=rootfs
EOF
head_trimmed "$disk" $((34 * 512)) "$out/mbr/gpt-bootfs-rootfs"

# --- fat: volumes with the files build-image touches, as chunks (see Fuzz/fuzz-fat/main.swift) --
# Each run of non-zero 512-byte sectors becomes a chunk: u32 LE offset, u32 LE length, bytes.
# FAT32 needs 65525 clusters for mtools to treat it as FAT32, so that volume is 33 MiB: as
# chunks it is a few KiB.
sparse_chunks() { # image dest
    python3 - "$@" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
out, sector, n = bytearray(), 512, len(data) // 512
i = 0
while i < n:
    if data[i * sector:(i + 1) * sector].strip(b'\0'):
        j = i
        while j < n and data[j * sector:(j + 1) * sector].strip(b'\0'):
            j += 1
        chunk = data[i * sector:j * sector]
        out += struct.pack('<II', i * sector, len(chunk)) + chunk
        i = j
    else:
        i += 1
open(sys.argv[2], 'wb').write(out)
PY
}
mkdir -p "$work/files/overlays"
printf 'dtparam=audio=on\n[cm5]\ndtoverlay=dwc2,dr_mode=host\n[all]\n' >"$work/files/config.txt"
printf 'console=serial0,115200 root=PARTUUID=1234abcd-02 rootwait\n' >"$work/files/cmdline.txt"
printf 'overlay\n' >"$work/files/overlays/README"
printf 'a long name\n' >"$work/files/A Long File Name.txt"
make_fat() { # name size-KiB mkfs-options...
    local name=$1 size=$2 image=$work/$1.img
    shift 2
    rm -f "$image"
    mkfs.vfat --invariant -i 1234abcd -n BOOTFS "$@" -C "$image" "$size" >/dev/null
    touch -d @"$SOURCE_DATE_EPOCH" "$work"/files/* "$work"/files/overlays/*
    mcopy -i "$image" -m "$work/files/config.txt" "$work/files/cmdline.txt" "$work/files/A Long File Name.txt" ::/
    mmd -i "$image" ::/overlays
    mcopy -i "$image" -m "$work/files/overlays/README" ::/overlays/
    mmd -i "$image" "::/overlays/Deeper Directory"
    sparse_chunks "$image" "$out/fat/$name"
}
make_fat fat12 1024 -F 12 -s 4
make_fat fat16 4096 -F 16 -s 1 -r 112
make_fat fat32 33792 -F 32 -s 1
make_fat fat32-one-fat 33792 -F 32 -s 1 -f 1

# --- ext4: the superblock record (1024 bytes at byte 1024) of mkfs.ext4 volumes ---------------
make_ext4() { # name mkfs-options...
    local name=$1 image=$work/$1.ext4
    shift
    rm -f "$image" && truncate -s 8M "$image"
    mkfs.ext4 -q -F -U 5b1f6a3c-8d2e-4f70-9a1b-c2d3e4f5a6b7 -E hash_seed=3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f "$@" "$image"
    dd if="$image" of="$out/ext4/$name" bs=1024 skip=1 count=1 status=none
}
make_ext4 debian12-default
make_ext4 raspios -O ^64bit,^huge_file
make_ext4 csum-seed-orphan-file -O metadata_csum_seed,orphan_file
make_ext4 quota -O quota
make_ext4 inline-data -O inline_data
make_ext4 ext2 -t ext2

# --- usbip: every message of DESIGN.md section 6 (the golden values of Tests/USBIPWireTests) --
python3 - "$out/usbip" <<'EOF'
import struct, sys, os
out = sys.argv[1]
def field(text, size): return text.encode() + b'\0' * (size - len(text))
def device(path, busid, busnum, devnum, speed, vid, pid, bcd, cls, nif):
    return (field(path, 256) + field(busid, 32) + struct.pack('>III', busnum, devnum, speed)
            + struct.pack('>HHH', vid, pid, bcd) + bytes([cls, 0, 0, 1, 1, nif]))
arty = device('/sys/devices/platform/soc/usb1/1-1/1-1.3', '1-1.3', 1, 5, 3, 0x0403, 0x6010, 0x0700, 0, 2)
hub = device('/sys/devices/pci0000:00/0000:00:14.0/usb3/3-2', '3-2', 3, 0x01020304, 5, 0x09fb, 0x6810, 0xabcd, 0xef, 1)
def header(code, status=0): return struct.pack('>HHI', 0x0111, code, status)
seeds = {
    'req-devlist': header(0x8005),
    'req-import': header(0x8003) + field('1-1.3', 32),
    'rep-devlist-two': header(0x0005) + struct.pack('>I', 2) + arty + bytes([0xff, 0xff, 0xff, 0, 0xff, 0x42, 1, 0])
                       + hub + bytes([9, 0, 0, 0]),
    'rep-devlist-empty': header(0x0005) + struct.pack('>I', 0),
    'rep-devlist-error': header(0x0005, 5),
    'rep-import-ok': header(0x0003) + arty,
    'rep-import-busy': header(0x0003, 2),
}
for name, data in seeds.items():
    open(os.path.join(out, name), 'wb').write(data)
EOF

# --- configtxt: first byte picks server.board (index into Board.allCases), the rest is the file
board_seed() { # name board-index file
    { python3 -c 'import sys; sys.stdout.buffer.write(bytes([int(sys.argv[1])]))' "$2"; cat "$3"; } >"$out/configtxt/$1"
}
cat >"$work/stock.txt" <<'EOF'
# For more options and information see
# http://rptl.io/configtxt

# Enable audio (loads snd_bcm2835)
dtparam=audio=on
camera_auto_detect=1
display_auto_detect=1
auto_initramfs=1
dtoverlay=vc4-kms-v3d
max_framebuffers=2
disable_fw_kms_setup=1
arm_64bit=1
disable_overscan=1
arm_boost=1

[cm4]
# Enable host mode on the 2711 built-in XHCI USB controller.
otg_mode=1

[cm5]
dtoverlay=dwc2,dr_mode=host
EOF
board_seed stock-ends-in-cm5-auto 13 "$work/stock.txt"
{ cat "$work/stock.txt"; printf '[all]\n'; } >"$work/stock-all.txt"
board_seed stock-ends-in-all-pi3 5 "$work/stock-all.txt"
sed 's/$/\r/' "$work/stock-all.txt" >"$work/stock-crlf.txt"
board_seed stock-crlf-pi02 2 "$work/stock-crlf.txt"
printf 'arm_64bit=1\n[gpio4=1]\ndtparam=spi=on\n[pi3]\ndtoverlay=dwc2\n[none]\nx=1\n[0x12345678]\n[hdmi:0]\n[edid=ABC]\n[pi4]\n' >"$work/filters.txt"
board_seed filters-open-pi0 0 "$work/filters.txt"
board_seed golden-usbipd-pi3plus 6 Tests/OverlayTests/Golden/usbipd/boot/firmware/config.txt
printf 'console=serial0,115200 console=tty1 root=PARTUUID=1234abcd-02 rootfstype=ext4 fsck.repair=yes rootwait modules-load=dwc2,g_ether\n' >"$work/cmdline.txt"
board_seed cmdline-pi1 3 "$work/cmdline.txt"
printf '&DefaultIn\r\r' >"$work/stray-cr.txt"
board_seed stray-cr-pi3 5 "$work/stray-cr.txt"

# --- labconfig: the example labs, and configs with the mistakes the decoder reports -----------
cp examples/lab.yaml "$out/labconfig/example"
cp Tests/e2e/lab.yaml "$out/labconfig/e2e-usbipd"
cp Tests/e2e/lab-binder.yaml "$out/labconfig/e2e-binder"
cat >"$out/labconfig/mistakes" <<'EOF'
lab: Lab_1
server:
  board: pi9
  port: 70000
  daemon: systemd
  allow: [192.168.10.1/24, "fd00::/8", 10.0.0.0/33, ::1]
  blacklist: [ftdi_sio, "bad name"]
  ssh: {user: root, authorized_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI comment", "nope"]}
devices:
  - name: arty
    vendor: 0403
    product: "60x0"
    serial: "has space"
    port: "1-1..3"
    also: [{vendor: "09fb"}]
  - name: arty
    vendor: "0403"
    product: "6010"
    colour: red
client:
  ports: 0
  server: -bad-.example
EOF
cat >"$out/labconfig/anchors-flow" <<'EOF'
lab: lab-2
server: &srv {board: pi4, hostname: pi-2, allow: [10.1.0.0/16]}
devices:
  - &board {name: a, vendor: "03fd", product: "0008", port: 1-1.2.3, also: [{vendor: "03fd", product: "0013"}]}
  - {name: b, vendor: "03fd", product: "0008", port: 1-1.2.4}
  - *board
client: {server: 10.1.2.3, ports: 300}
EOF

# --- inputs that once trapped (the regression tests' fixtures) stay in the corpora ------------
cp Tests/DiskFormatsTests/Fixtures/fuzz/gpt-* "$out/mbr/"
cp Tests/DiskFormatsTests/Fixtures/fuzz/fat-* "$out/fat/"
cp Tests/DiskFormatsTests/Fixtures/fuzz/ext4-* "$out/ext4/"
