#!/bin/sh
# /init of the VM test's initramfs (klibc sh from Debian's initrd): loads the
# USB and usbip-host modules, then drives the real kernel through usbip-binder.
# Every line the host checks starts with "T:".
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
for m in usb-common usbcore xhci-hcd xhci-pci usbserial ftdi_sio usbip-core usbip-host e1000; do
    insmod "/modules/$m.ko" || echo "T: insmod $m failed"
done
ipconfig -t 10 -c none -d 10.0.2.15::10.0.2.2:255.255.255.0::eth0:off > /dev/null
B=/usbip-binder
n=0
while [ ! -e /sys/bus/usb/devices/1-1 ] && [ "$n" -lt 300 ]; do sleep 0.2; n=$((n + 1)); done
dmesg
echo "T: driver before: $(readlink /sys/bus/usb/devices/1-1/driver)"
$B bind 1-1; echo "T: bind rc=$?"
echo "T: driver after: $(readlink /sys/bus/usb/devices/1-1/driver)"
echo "T: usbip_status: $(cat /sys/bus/usb/devices/1-1/usbip_status)"
echo "T: match_busid: $(cat /sys/bus/usb/drivers/usbip-host/match_busid)"
$B bind 1-1; echo "T: rebind rc=$?"
$B bind 1-1.9; echo "T: missing rc=$?"
$B status
$B serve --allow 10.0.2.2 --timeout 5 &
n=0
while [ "$(cat /sys/bus/usb/devices/1-1/usbip_status 2> /dev/null)" != 2 ] && [ "$n" -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
echo "T: usbip_status after import: $(cat /sys/bus/usb/devices/1-1/usbip_status)"
sleep 1
$B unbind 1-1; echo "T: unbind rc=$?"
# The kernel probes the device again (usbip-binder asked for rebind): until its driver is usb.
n=0
while [ "$n" -lt 100 ]; do
    case "$(readlink /sys/bus/usb/devices/1-1/driver)" in *usbip-host) ;; *) break ;; esac
    sleep 0.1; n=$((n + 1))
done
echo "T: driver after unbind: $(readlink /sys/bus/usb/devices/1-1/driver)"
echo "T: match_busid after unbind: $(cat /sys/bus/usb/drivers/usbip-host/match_busid)"
$B unbind 1-1; echo "T: unbind again rc=$?"
echo "T: done"
poweroff -f
