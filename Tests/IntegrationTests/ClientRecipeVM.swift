import Foundation
import Testing
import TestSupport

/// Boots Debian's own kernel (linux-image-amd64) in qemu (TCG: nested KVM is not dependable in
/// CI) with an initramfs holding a tiny static init and a list of modules, which it loads in
/// name order with finit_module(2) before reporting what vhci-hcd made:
///
/// ```
/// initramfs.cpio (newc)
///   /init                  static C program below
///   /m/1-usb-common.ko     the kernel's own modules, from `modprobe --show-depends vhci-hcd`
///   /m/2-usbcore.ko
///   /m/3-usbip-core.ko
///   /m/4-vhci-hcd.ko       the module under test
///   /dev /sys              mount points
/// console: FPGA-LAB-VM: loaded 4-vhci-hcd.ko / FPGA-LAB-VM: nports=300 / FPGA-LAB-VM: controllers=10
/// ```
enum ClientRecipeVM {
    struct Report {
        /// Modules the kernel accepted, in load order.
        var loaded: [String]
        /// `/sys/devices/platform/vhci_hcd.0/nports`.
        var nports: Int?
        /// The number of `vhci_hcd.N` platform devices.
        var controllers: Int?
        var console: String
    }

    static let initSource = #"""
    #include <dirent.h>
    #include <fcntl.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>
    #include <sys/mount.h>
    #include <sys/reboot.h>
    #include <sys/syscall.h>
    #include <unistd.h>

    static int by_name(const void *a, const void *b) { return strcmp(a, b); }

    int main(void) {
        mount("sysfs", "/sys", "sysfs", 0, NULL);
        mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
        int console = open("/dev/console", O_WRONLY);
        if (console >= 0) { dup2(console, 1); dup2(console, 2); }
        char names[16][64];
        int count = 0;
        DIR *modules = opendir("/m");
        struct dirent *entry;
        while (modules && (entry = readdir(modules)) && count < 16)
            if (entry->d_name[0] != '.') snprintf(names[count++], sizeof names[0], "%s", entry->d_name);
        qsort(names, count, sizeof names[0], by_name);
        for (int i = 0; i < count; i++) {
            char path[128];
            snprintf(path, sizeof path, "/m/%s", names[i]);
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0 || syscall(SYS_finit_module, fd, "", 0) != 0) printf("FPGA-LAB-VM: failed %s: %m\n", names[i]);
            else printf("FPGA-LAB-VM: loaded %s\n", names[i]);
            if (fd >= 0) close(fd);
        }
        char text[32] = "none\n";
        int fd = open("/sys/devices/platform/vhci_hcd.0/nports", O_RDONLY);
        if (fd >= 0) { ssize_t n = read(fd, text, sizeof text - 1); text[n > 0 ? n : 0] = 0; close(fd); }
        int controllers = 0;
        DIR *platform = opendir("/sys/devices/platform");
        while (platform && (entry = readdir(platform)))
            if (strncmp(entry->d_name, "vhci_hcd.", 9) == 0) controllers++;
        printf("FPGA-LAB-VM: nports=%s", text);
        printf("FPGA-LAB-VM: controllers=%d\n", controllers);
        fflush(stdout);
        reboot(RB_POWER_OFF);
        return 0;
    }
    """#

    /// Boots `/boot/vmlinuz-<kernel>` with the kernel's own dependencies of vhci-hcd and
    /// `module` in place of its vhci-hcd.ko.
    static func load(_ module: String, kernel: String, scratch: String) throws -> Report {
        let root = scratch + "/vm-root"
        for directory in ["m", "dev", "sys"] {
            try FileManager.default.createDirectory(atPath: root + "/" + directory, withIntermediateDirectories: true)
        }
        try Data(initSource.utf8).write(to: URL(fileURLWithPath: scratch + "/init.c"))
        let gcc = try ProcessRunner.run("gcc", ["-static", "-O2", "-o", root + "/init", scratch + "/init.c"], timeout: 600)
        try #require(gcc.status == 0, "gcc -static: \(gcc.stderr)")

        let depends = try ProcessRunner.run("modprobe", ["-S", kernel, "--show-depends", "vhci-hcd"], timeout: 600)
        try #require(depends.status == 0, "modprobe --show-depends: \(depends.stderr)")
        // insmod /lib/modules/6.1.0-56-amd64/kernel/drivers/usb/common/usb-common.ko
        let stock = depends.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").dropFirst().first.map(String.init) }
        try #require(stock.last?.hasSuffix("/vhci-hcd.ko") == true, "unexpected dependencies:\n\(depends.stdout)")
        for (index, path) in (stock.dropLast() + [module]).enumerated() {
            let name = URL(fileURLWithPath: path).lastPathComponent
            try FileManager.default.copyItem(atPath: path, toPath: root + "/m/\(index + 1)-\(name)")
        }
        let cpio = try ProcessRunner.run("sh", ["-c", "cd \"$1\" && find . | cpio -o -H newc --quiet > \"$2\"", "sh",
                                                    root, scratch + "/initramfs.cpio"], timeout: 600)
        try #require(cpio.status == 0, "cpio: \(cpio.stderr)")

        let qemu = try ProcessRunner.run("qemu-system-x86_64", [
            "-accel", "tcg", "-m", "512", "-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio",
            "-kernel", "/boot/vmlinuz-\(kernel)", "-initrd", scratch + "/initramfs.cpio",
            "-append", "console=ttyS0 panic=-1 loglevel=4",
        ], timeout: 300)
        try #require(qemu.status == 0, "qemu: \(qemu.stderr)")
        let lines = qemu.stdout.split(whereSeparator: \.isNewline).compactMap { line -> Substring? in
            guard let range = line.range(of: "FPGA-LAB-VM: ") else { return nil }
            return line[range.upperBound...]
        }
        func value(_ key: String) -> Int? {
            lines.first { $0.hasPrefix(key + "=") }.flatMap { Int($0.dropFirst(key.count + 1)) }
        }
        return Report(loaded: lines.filter { $0.hasPrefix("loaded ") }.map { String($0.dropFirst("loaded ".count)) },
                      nports: value("nports"), controllers: value("controllers"), console: qemu.stdout)
    }
}
