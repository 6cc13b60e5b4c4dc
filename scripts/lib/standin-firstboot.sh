# shellcheck shell=bash
# The first boot of the bootable stand-ins, shaped like Raspberry Pi OS's (docs/DESIGN.md,
# "First boot"). Sourced by make-standin-base.sh through standin-bootable.sh.
#
#   both releases   uid 1000 `pi` made as pi-gen's stage1 makes it, in the groups of stage2;
#                   sshd installed and disabled, no host keys (regenerated at boot, as
#                   raspberrypi-sys-mods does); a bootfs `ssh` file turns sshd on (sshswitch);
#                   bootfs `userconf.txt` (NAME:CRYPT) renames uid 1000 and sets its password
#                   (userconf-pi); kernel interface names (eth0), as on a Pi
#   trixie          `adduser --disabled-login`: pi's shell is /usr/sbin/nologin (pi-gen
#                   4b9cd15c); cloud-init with the NoCloud seed read from /boot/firmware
#                   (rpi-cloud-init-mods' 99_raspberry-pi.cfg) and pi-gen's commented seed files
#                   on bootfs; NetworkManager renders cloud-init's network config
#   bookworm        `adduser --disabled-password`: pi's shell is /bin/bash; no cloud-init
#
# The stand-ins of raspberrypi-sys-mods and userconf-pi are small shell scripts doing what the
# originals do for these files; they are not those packages.

# The mmdebstrap customize hook that makes the first user ("$1" is the chroot), and gives the
# NIC its kernel name (eth0, as on a Pi): udev's 99-default.link masked, in the initramfs too
# (it names the NIC before the rootfs is mounted). qemu's pc machine has a floppy controller a Pi
# lacks; probing it (cloud-init's scan for a `cidata` volume) costs seconds of I/O errors.
# usage: firstboot_user_hook RELEASE
firstboot_user_hook() {
  local login=--disabled-password
  [[ $1 == trixie ]] && login=--disabled-login
  # shellcheck disable=SC2016 # "$1" is expanded by mmdebstrap's hook shell
  printf '%s\n' 'set -e' \
    "chroot \"\$1\" adduser --quiet $login --gecos '' pi" \
    'for g in adm dialout cdrom audio users sudo video games plugdev input netdev render; do' \
    '  if chroot "$1" getent group "$g" >/dev/null; then chroot "$1" adduser --quiet pi "$g"; fi' \
    'done' \
    'chroot "$1" systemctl disable --quiet ssh.service' \
    'rm -f "$1"/etc/ssh/ssh_host_*' \
    'mkdir -p "$1"/etc/systemd/network && ln -sf /dev/null "$1"/etc/systemd/network/99-default.link' \
    'printf "blacklist floppy\n" >"$1"/etc/modprobe.d/fpga-lab-standin.conf' \
    'chroot "$1" update-initramfs -u -k all'
}

# Writes the units and scripts of the stand-in's first boot into ROOT and the seed files into
# BOOT. usage: firstboot_shape ROOT BOOT RELEASE
firstboot_shape() {
  local r=$1 b=$2 release=$3 sys=$1/etc/systemd/system
  mkdir -p "$sys/multi-user.target.wants" "$sys/ssh.service.wants" "$r/usr/lib/userconf-pi"

  cat >"$sys/regenerate_ssh_host_keys.service" <<'EOF'
[Unit]
Description=Generate missing SSH host keys (fpga-lab stand-in of raspberrypi-sys-mods)
Before=ssh.service

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target ssh.service
EOF
  ln -sf ../regenerate_ssh_host_keys.service "$sys/multi-user.target.wants/regenerate_ssh_host_keys.service"
  ln -sf ../regenerate_ssh_host_keys.service "$sys/ssh.service.wants/regenerate_ssh_host_keys.service"

  cat >"$sys/sshswitch.service" <<'EOF'
[Unit]
Description=Turn on SSH if /boot/firmware/ssh is present (fpga-lab stand-in of raspberrypi-sys-mods)
ConditionPathExists=|/boot/firmware/ssh
ConditionPathExists=|/boot/firmware/ssh.txt
RequiresMountsFor=/boot/firmware

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'rm -f /boot/firmware/ssh /boot/firmware/ssh.txt; systemctl enable --now --no-block ssh'

[Install]
WantedBy=multi-user.target
EOF
  ln -sf ../sshswitch.service "$sys/multi-user.target.wants/sshswitch.service"

  cat >"$r/usr/lib/userconf-pi/userconf-service" <<'EOF'
#!/bin/sh
# fpga-lab stand-in of userconf-pi's userconf-service: the first line of userconf(.txt) on the
# boot partition is NAME:CRYPT; uid 1000 is renamed NAME and its password set to CRYPT. The
# real one also validates NAME and arms or cancels the first-boot wizard.
set -e
for f in /boot/firmware/userconf /boot/firmware/userconf.txt; do
  [ -f "$f" ] || continue
  line=$(head -n1 "$f" | tr -d '\r')
  name=${line%%:*}
  pass=${line#*:}
  first=$(getent passwd 1000 | cut -d: -f1)
  if [ "$first" != "$name" ]; then
    usermod -l "$name" "$first"
    usermod -m -d "/home/$name" "$name"
    groupmod -n "$name" "$first"
  fi
  if [ -n "$pass" ]; then echo "$name:$pass" | chpasswd -e; fi
  rm -f "$f"
done
systemctl disable userconfig.service
EOF
  chmod 755 "$r/usr/lib/userconf-pi/userconf-service"
  cat >"$sys/userconfig.service" <<'EOF'
[Unit]
Description=User configuration from the boot partition (fpga-lab stand-in of userconf-pi)
After=cloud-config.service
Before=systemd-user-sessions.service
RequiresMountsFor=/boot/firmware

[Service]
Type=oneshot
ExecStart=/usr/lib/userconf-pi/userconf-service

[Install]
WantedBy=multi-user.target
EOF
  ln -sf ../userconfig.service "$sys/multi-user.target.wants/userconfig.service"

  [[ $release == trixie ]] || return 0
  mkdir -p "$r/etc/cloud/cloud.cfg.d"
  cat >"$r/etc/cloud/cloud.cfg.d/99_raspberry-pi.cfg" <<'EOF'
# configure cloud-init with NoCloud
datasource_list: [ NoCloud, None ]
datasource:
  NoCloud:
    seedfrom: file:///boot/firmware
ssh:
  emit_keys_to_console: false
no_ssh_fingerprints: true
ssh_deletekeys: false
ssh_genkeytypes: []
EOF
  # What Raspberry Pi OS's cloud.cfg (variant raspberry-pi-os) has and Debian's does not.
  cat >"$r/etc/cloud/cloud.cfg.d/98_fpga-lab-standin.cfg" <<'EOF'
# fpga-lab stand-in: Raspberry Pi OS's default user and network renderer
system_info:
  default_user:
    name: pi
    lock_passwd: true
    shell: /bin/bash
    groups: [adm, dialout, cdrom, audio, users, sudo, video, plugdev, input, netdev]
    sudo: ["ALL=(ALL) NOPASSWD:ALL"]
  network:
    renderers: [network-manager]
EOF
  cat >"$b/meta-data" <<'EOF'
# This is the meta-data configuration file for cloud-init. Please refer to the
# cloud-init documentation for more information:
#
# https://cloudinit.readthedocs.io/

# Set the datasource mode to "local". This ensures that user-data is acted upon
# prior to bringing up the network (because everything about the datasource is
# assumed to be local). If you wish to use an HTTP datasource instead, you can
# change this to "net" or override it on the kernel cmdline (see README).
dsmode: local

# Specifies the "unique" identifier of the instance. Typically in cloud-init
# this is generated by the owning cloud and is actually unique (to some
# degree). Here our data-source is local, so this is just a fixed string.
# Warning: changing this will cause cloud-init to assume it is running on a
# "new" instance, and to go through first time setup again (the value is
# compared to a cached copy).
instance_id: rpios-image
EOF
  cat >"$b/user-data" <<'EOF'
#cloud-config

# This is the user-data configuration file for cloud-init. By default this sets
# up an initial user called "ubuntu" with password "ubuntu", which must be
# changed at first login. However, many additional actions can be initiated on
# first boot from this file. The cloud-init documentation has more details:
#
# https://cloudinit.readthedocs.io/
#
# Please note that the YAML format employed by this file is sensitive to
# differences in whitespace; if you are editing this with a text editor, use
# spaces, not tabs.

# Set the hostname of the system
#hostname: raspberrypi

# On first boot, set the (default) ubuntu user's password to "ubuntu" and
# expire user passwords
#ssh_pwauth: false

#users:
#- default
#- name: robot
#  gecos: Robot
#  lock_passwd: false
#  passwd: $5$6Q7k6nbyp0iY3qwD$zmHqRCeGRFS.rn5fgWThfzKBGGC2B.vV/ICFf/I0ho0

#runcmd:
#- [ ls, -l, / ]
EOF
  cat >"$b/network-config" <<'EOF'
# This file contains a netplan-compatible configuration which cloud-init will
# apply on first-boot (note: it will *not* update the config after the first
# boot). Please refer to the cloud-init documentation and the netplan reference
# for full details:
#
# https://netplan.io/reference
# https://cloudinit.readthedocs.io/en/latest/topics/network-config.html
#
#network:
#  version: 2
#  ethernets:
#    eth0:
#      dhcp4: true
#      optional: true
#  wifis:
#    wlan0:
#      dhcp4: true
#      optional: true
#      access-points:
#        myhomewifi:
#          password: "S3kr1t"
EOF
}
