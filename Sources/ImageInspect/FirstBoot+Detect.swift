import DiskFormats
import Ext4FS
import BootFiles

extension FirstBoot {
    /// What the image's first boot will run (docs/DESIGN.md, "First boot"):
    /// - cloud-init: `/usr/bin/cloud-init`, not disabled (`/etc/cloud/cloud-init.disabled`), and a
    ///   NoCloud seed on bootfs (`meta-data` there, or `seedfrom: file:///boot/firmware` in
    ///   rpi-cloud-init-mods' `/etc/cloud/cloud.cfg.d/99_raspberry-pi.cfg`);
    /// - userconf-pi: `/usr/lib/userconf-pi/userconf-service`;
    /// - else none.
    /// The network stack: NetworkManager when `/usr/sbin/NetworkManager` is there, else
    /// systemd-networkd when it is enabled.
    public static func detect(boot: FATVolume, root: Ext4Volume) throws -> FirstBoot {
        let userData = try boot.readFile("user-data")
        let metaData = try boot.readFile("meta-data")
        let networkConfig = try boot.readFile("network-config")
        let raspberryCfg = try root.readFile("etc/cloud/cloud.cfg.d/99_raspberry-pi.cfg") ?? []
        let seeded = metaData != nil || String(decoding: raspberryCfg, as: UTF8.self).contains("file:///boot/firmware")
        let kind: Kind
        if try root.lookup("usr/bin/cloud-init") != nil, try root.lookup("etc/cloud/cloud-init.disabled") == nil, seeded {
            kind = .cloudInit
        } else if try root.lookup("usr/lib/userconf-pi/userconf-service") != nil {
            kind = .userconf
        } else {
            kind = .none
        }
        let network: NetworkStack
        if try root.lookup("usr/sbin/NetworkManager") != nil {
            network = .networkManager
        } else if try root.lookup("etc/systemd/system/multi-user.target.wants/systemd-networkd.service") != nil {
            network = .networkd
        } else {
            network = .none
        }
        return FirstBoot(kind: kind, network: network, passwd: try root.readFile("etc/passwd"),
                         userData: userData, metaData: metaData, networkConfig: networkConfig,
                         networkManagerState: try root.readFile(FirstBoot.networkManagerStatePath))
    }
}
