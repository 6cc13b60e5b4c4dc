import BootFiles
import Digests
import Foundation
import LabConfig
import Testing
import TestSupport
@testable import Overlay

/// First boot: the cloud-init seed, /etc/passwd, the wired port's fixed address.
@Suite struct FirstBootTests {
    static let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICRlMl7iI5RghZjxhdn5zYS67vaIEDw/75msWGUZOuWb admin@host"
    static let ssh = SSH(user: "pi", authorizedKeys: [key])
    /// pi-gen's commented user-data and meta-data (stage2/04-cloud-init/files), shortened.
    static let piGenUserData = "#cloud-config\n\n# This is the user-data configuration file for cloud-init.\n#hostname: raspberrypi\n#ssh_pwauth: false\n"
    static let piGenMetaData = "# comment\ndsmode: local\n\n# Warning: changing this...\ninstance_id: rpios-image\n"
    static let trixiePasswd = "root:x:0:0:root:/root:/bin/bash\nsshd:x:100:65534::/run/sshd:/usr/sbin/nologin\npi:x:1000:1000:,,,:/home/pi:/usr/sbin/nologin\n"
    static let network = Network(addresses: [try! InterfaceAddress(parsing: "192.168.1.50/24", prefixed: true),
                                             try! InterfaceAddress(parsing: "fd00::50/64", prefixed: true)],
                                 gateway: try! InterfaceAddress(parsing: "192.168.1.1", prefixed: false),
                                 dns: [try! InterfaceAddress(parsing: "192.168.1.1", prefixed: false)])

    @Test func userDataIntoPiGensCommentedFileKeepsItsBytes() throws {
        let merged = String(decoding: try CloudInitSeed.userData(merging: Array(Self.piGenUserData.utf8), ssh: Self.ssh, lab: "lab1"), as: UTF8.self)
        #expect(merged.hasPrefix(Self.piGenUserData))
        #expect(merged.dropFirst(Self.piGenUserData.count) == """
        # fpga-lab lab1: key-only ssh login for pi (server.ssh)
        user:
          name: pi
          shell: /bin/bash
          lock_passwd: true
          ssh_authorized_keys:
            - "\(Self.key)"
        ssh_pwauth: false

        """)
    }

    @Test func userDataKeepsTheAdminsKeysAndTheirPasswordChoice() throws {
        let admin = "#cloud-config\nhostname: bench\nruncmd:\n  - [touch, /x]\nssh_pwauth: true\nwrite_files:\n  - path: /etc/y\n    content: |\n      line\n"
        let merged = String(decoding: try CloudInitSeed.userData(merging: Array(admin.utf8), ssh: Self.ssh, lab: "lab1"), as: UTF8.self)
        #expect(merged.hasPrefix(admin))
        #expect(!merged.contains("ssh_pwauth: false"))
        #expect(merged.hasSuffix("    - \"\(Self.key)\"\n"))
    }

    @Test func userDataAbsentIsWrittenWhole() throws {
        let text = String(decoding: try CloudInitSeed.userData(merging: nil, ssh: Self.ssh, lab: "l"), as: UTF8.self)
        #expect(text.hasPrefix("#cloud-config\n# fpga-lab l: key-only ssh login for pi"))
    }

    @Test(arguments: [
        ("#cloud-config\nuser: {name: bob}\n", "user-data on the boot partition: already sets `user:` (bob); server.ssh would set it to pi: keep one of them"),
        ("#!/bin/sh\necho hi\n", "user-data on the boot partition: does not start with #cloud-config"),
        ("\n#cloud-config\nhostname: x\n", "user-data on the boot partition: does not start with #cloud-config"),
        ("#cloud-config\n{hostname: x}\n", "user-data on the boot partition: its YAML does not end where fpga-lab can append"),
        ("#cloud-config\nhostname: [\n", "user-data on the boot partition: is not valid YAML"),
        ("#cloud-config\n- a\n", "user-data on the boot partition: is not a mapping of cloud-config keys"),
    ])
    func userDataThatCannotTakeTheKeyIsRefused(admin: String, message: String) {
        #expect {
            _ = try CloudInitSeed.userData(merging: Array(admin.utf8), ssh: Self.ssh, lab: "l")
        } throws: { error in
            "\(error)".hasPrefix(message)
        }
    }

    @Test func metaDataGetsTheNewInstanceIDAndKeepsTheRest() {
        let text = String(decoding: CloudInitSeed.metaData(Array(Self.piGenMetaData.utf8), instanceID: "fpga-lab-0011"), as: UTF8.self)
        #expect(text == "instance-id: fpga-lab-0011\n# comment\ndsmode: local\n\n# Warning: changing this...\n")
        #expect(String(decoding: CloudInitSeed.metaData(nil, instanceID: "x"), as: UTF8.self) == "instance-id: x\ndsmode: local\n")
    }

    @Test func instanceIDFollowsTheSeed() {
        let a = CloudInitSeed.instanceID(userData: [1], networkConfig: nil)
        #expect(a == CloudInitSeed.instanceID(userData: [1], networkConfig: nil))
        #expect(a != CloudInitSeed.instanceID(userData: [1], networkConfig: [2]))
        #expect(a.hasPrefix("fpga-lab-") && a.count == 25)
    }

    @Test func networkConfigGolden() throws {
        let text = String(decoding: try CloudInitSeed.networkConfig(Self.network, lab: "l", existing: Array("# only\n# comments\n".utf8)), as: UTF8.self)
        #expect(text == """
        # fpga-lab l: server.network
        network:
          version: 2
          ethernets:
            eth0:
              dhcp4: false
              dhcp6: false
              addresses:
                - "192.168.1.50/24"
                - "fd00::50/64"
              routes:
                - to: "0.0.0.0/0"
                  via: "192.168.1.1"
              nameservers:
                addresses:
                  - "192.168.1.1"

        """)
        #expect(throws: FirstBootError.networkConfig("already configures the network; fpga-lab does not merge server.network into it: remove one of them")) {
            _ = try CloudInitSeed.networkConfig(Self.network, lab: "l", existing: Array("network: {version: 2}\n".utf8))
        }
    }

    @Test func keyfileAndNetworkdGolden() {
        let keyfile = WiredNetworkFiles.keyfile(Self.network, lab: "l")
        #expect(keyfile.contains("[connection]\nid=fpga-lab-eth0\nuuid="))
        #expect(keyfile.hasSuffix("type=ethernet\ninterface-name=eth0\nautoconnect=true\nautoconnect-priority=100\n\n[ethernet]\n\n[ipv4]\nmethod=manual\naddress1=192.168.1.50/24\ngateway=192.168.1.1\ndns=192.168.1.1;\n\n[ipv6]\nmethod=manual\naddress1=fd00::50/64\n"))
        #expect(WiredNetworkFiles.networkdUnit(Self.network, lab: "l") == "# fpga-lab l: server.network\n[Match]\nName=eth0\n\n[Network]\nAddress=192.168.1.50/24\nAddress=fd00::50/64\nGateway=192.168.1.1\nDNS=192.168.1.1\n")
    }

    @Test func passwdShellEditKeepsEveryOtherByte() throws {
        let bytes = Array(Self.trixiePasswd.utf8)
        let pi = try #require(Passwd.entries(bytes).first { $0.uid == 1000 })
        #expect(pi.name == "pi" && pi.shell == "/usr/sbin/nologin")
        let edited = String(decoding: Passwd.settingShell(of: pi, to: "/bin/bash", in: bytes), as: UTF8.self)
        #expect(edited == Self.trixiePasswd.replacingOccurrences(of: "/home/pi:/usr/sbin/nologin", with: "/home/pi:/bin/bash"))
    }

    @Test func cmdlineGetsOneDsParameter() throws {
        let stock = "console=serial0,115200 console=tty1 root=PARTUUID=7c1e0a13-02 rootfstype=ext4 fsck.repair=yes rootwait resize\n"
        let once = try CmdlineTxt.settingParameter("ds", to: "nocloud;i=a", in: Array(stock.utf8))
        #expect(String(decoding: once, as: UTF8.self) == stock.dropLast() + " ds=nocloud;i=a\n")
        let twice = try CmdlineTxt.settingParameter("ds", to: "nocloud;i=b", in: once)
        #expect(String(decoding: twice, as: UTF8.self) == stock.dropLast() + " ds=nocloud;i=b\n")
        #expect(throws: CmdlineTxt.EditError.multipleLines) { _ = try CmdlineTxt.settingParameter("ds", to: "x", in: Array("a\nb\n".utf8)) }
    }

    /// The whole overlay for a trixie image (cloud-init, pi with nologin) and for a bookworm one
    /// (userconf-pi, systemd-networkd).
    @Test(arguments: [
        ("firstboot-trixie", FirstBoot(kind: .cloudInit, network: .networkManager, passwd: Array(trixiePasswd.utf8),
                                       userData: Array(piGenUserData.utf8), metaData: Array(piGenMetaData.utf8), networkConfig: Array("# none\n".utf8))),
        ("firstboot-bookworm", FirstBoot(kind: .userconf, network: .networkd,
                                         passwd: Array(trixiePasswd.replacingOccurrences(of: "pi:/usr/sbin/nologin", with: "pi:/bin/bash").utf8))),
        ("firstboot-networkmanager", FirstBoot(kind: .none, network: .networkManager, passwd: Array(trixiePasswd.utf8))),
    ])
    func overlayMatchesGolden(name: String, firstBoot: FirstBoot) throws {
        var lab = Labs.lab(daemon: .binder, board: .pi4)
        lab.server.ssh = Self.ssh
        lab.server.network = Self.network
        var inputs = OverlayRenderer.Inputs(configBytes: Array("lab: x\n".utf8),
                                            bootCmdline: .init(name: "cmdline.txt", bytes: Array(CmdlineTxtTests.stock.utf8)),
                                            binderExecutable: [0x7f, 0x45, 0x4c, 0x46])
        inputs.firstBoot = firstBoot
        let result = try Labs.render(lab, inputs)
        try golden.check(result.overlay, case: name)
        let paths = Set(result.overlay.entries.map(\.path))
        #expect(paths.contains("boot/firmware/userconf.txt") == (firstBoot.kind != .cloudInit))
        #expect(paths.contains("boot/firmware/user-data") == (firstBoot.kind == .cloudInit))
        #expect(paths.contains("etc/passwd") == (firstBoot.kind != .userconf))
        let keyfile = result.overlay.entries.first { $0.path == WiredNetworkFiles.keyfilePath }
        #expect(keyfile == nil || keyfile?.mode == 0o600)
    }

    static let wifi = WiFi(ssid: "IEEE", psk: "password", country: "DE")

    /// IEEE 802.11i-2004 H.4.3's first test vector: "password", SSID "IEEE".
    @Test func wpaPreSharedKeyVector() {
        #expect(WPAPassphrase.psk(passphrase: "password", ssid: Array("IEEE".utf8)) == "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e")
        let hex = String(repeating: "ab", count: 32)
        #expect(WiredNetworkFiles.psk(WiFi(ssid: "x", psk: hex.uppercased(), country: "DE")) == hex, "a 64-hex key is used as it is")
    }

    @Test func wifiInNetworkConfigAndKeyfile() throws {
        var network = Self.network
        network.wifi = Self.wifi
        let config = String(decoding: try CloudInitSeed.networkConfig(network, lab: "l", existing: nil), as: UTF8.self)
        #expect(config.hasPrefix("""
        # fpga-lab l: server.network
        network:
          version: 2
          wifis:
            wlan0:
              dhcp4: true
              optional: true
              regulatory-domain: "DE"
              access-points:
                "IEEE":
                  password: "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e"
          ethernets:

        """))
        #expect(!config.contains("password\n") && !config.contains(": \"password\""), "the passphrase itself is not written")
        let keyfile = WiredNetworkFiles.wifiKeyfile(Self.wifi, lab: "l")
        #expect(keyfile.contains("\n[wifi]\nmode=infrastructure\nssid=IEEE\n\n[wifi-security]\nkey-mgmt=wpa-psk\npsk=f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e\n"))
        let odd = WiredNetworkFiles.wifiKeyfile(WiFi(ssid: "a;b", psk: "password", country: "DE"), lab: "l")
        #expect(odd.contains("\nssid=97;59;98;\n"), "an SSID with ; is written as its bytes")
    }

    @Test func wifiTurnsTheRadioOnAndSetsTheRegulatoryDomain() throws {
        var lab = Labs.lab(daemon: .binder, board: .pi4)
        lab.server.network = Network(addresses: [], wifi: Self.wifi)
        var inputs = OverlayRenderer.Inputs(configBytes: [], bootCmdline: .init(name: "cmdline.txt", bytes: Array("root=x rootwait\n".utf8)))
        inputs.firstBoot = FirstBoot(kind: .userconf, network: .networkManager,
                                     networkManagerState: Array("[main]\nNetworkingEnabled=true\nWirelessEnabled=false\n".utf8))
        let overlay = try Labs.render(lab, inputs).overlay
        #expect(overlay["boot/firmware/cmdline.txt"]?.bytes == Array("root=x rootwait cfg80211.ieee80211_regdom=DE\n".utf8))
        #expect(overlay[FirstBoot.networkManagerStatePath]?.bytes == Array("[main]\nNetworkingEnabled=true\nWirelessEnabled=true\n".utf8))
        #expect(overlay.entries.first { $0.path == WiredNetworkFiles.wifiKeyfilePath }?.mode == 0o600)
        #expect(overlay[WiredNetworkFiles.keyfilePath] == nil, "no eth0 keyfile without addresses")
        inputs.firstBoot = FirstBoot(kind: .userconf, network: .networkd)
        #expect(throws: FirstBootError.wifiNeedsNetworkManager) { _ = try Labs.render(lab, inputs) }
    }

    @Test func noNetworkStackIsAnError() {
        var lab = Labs.lab(daemon: .binder, board: .pi4)
        lab.server.network = Self.network
        var inputs = OverlayRenderer.Inputs(configBytes: [])
        inputs.firstBoot = FirstBoot(kind: .userconf, network: .none)
        #expect(throws: FirstBootError.noNetworkStack) { _ = try Labs.render(lab, inputs) }
    }
}
