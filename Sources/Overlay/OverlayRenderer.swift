import BinderConf
import BootFiles
import LabConfig

/// Turns a lab config into the overlay of DESIGN.md section 4.
public struct OverlayRenderer {
    /// A file of the boot partition to edit, read as bytes: edits keep every byte they do not
    /// change, whatever the encoding.
    public struct BootFile: Sendable {
        /// The name used in messages (`config.txt in base.img`).
        public var name: String
        /// The file's bytes; nil when the boot partition was read and holds no such file.
        public var bytes: [UInt8]?

        public init(name: String, bytes: [UInt8]?) {
            self.name = name
            self.bytes = bytes
        }
    }

    /// Inputs besides the lab config itself.
    public struct Inputs {
        /// The stock `config.txt` to edit (nil: not known, as for render without --boot-config).
        public var bootConfig: BootFile?
        /// The stock `cmdline.txt` to edit (nil: not known).
        public var bootCmdline: BootFile?
        /// The usbip-binder executable for the image's architecture (daemon: binder).
        public var binderExecutable: [UInt8]?
        /// Bytes of lab.yaml, hashed into the manifest.
        public var configBytes: [UInt8]
        /// Whether the target image holds Debian's usbip tools (nil: not known, as for render).
        public var imageHasUsbip: Bool?
        /// How the target image boots the first time, with its /etc/passwd and seed files (nil:
        /// not known, as for render: `userconf.txt` and a NetworkManager keyfile, which every
        /// Raspberry Pi OS release reads).
        public var firstBoot: FirstBoot?
        /// The version the manifest's `tool` line names: this build's (tests pin one).
        public var toolVersion = FPGALabVersion.current

        public init(configBytes: [UInt8], bootConfig: BootFile? = nil,
                    bootCmdline: BootFile? = nil, binderExecutable: [UInt8]? = nil) {
            self.configBytes = configBytes
            self.bootConfig = bootConfig
            self.bootCmdline = bootCmdline
            self.binderExecutable = binderExecutable
        }
    }

    public struct Result {
        public var overlay: Overlay
        /// Things the user must know but that do not stop the build (printed on stderr).
        public var warnings: [String]
    }

    public static let binderPath = "usr/local/sbin/usbip-binder"

    let store: TemplateStore

    public init(store: TemplateStore) { self.store = store }

    public func render(_ lab: Lab, _ inputs: Inputs) throws -> Result {
        var overlay = Overlay()
        var warnings: [String] = []
        let context = Self.context(for: lab)
        let systemd = "etc/systemd/system"

        try overlay.addFile("etc/udev/rules.d/90-fpga-lab.rules", try store.render("udev/90-fpga-lab.rules", context))
        try overlay.addFile("etc/modules-load.d/fpga-lab.conf", try store.render("modules-load/fpga-lab.conf", context))
        if !lab.server.blacklist.isEmpty {
            try overlay.addFile("etc/modprobe.d/fpga-lab-blacklist.conf", try store.render("modprobe/fpga-lab-blacklist.conf", context))
        }
        try overlay.addFile("etc/hostname", lab.hostname + "\n")

        let server: String
        switch lab.server.daemon {
        case .usbipd:
            server = "usbipd.service"
            try overlay.addFile("\(systemd)/usbipd.service", try store.render("systemd/usbipd/usbipd.service", context))
            try overlay.addFile("\(systemd)/usbip-bind@.service", try store.render("systemd/usbipd/usbip-bind@.service", context))
            switch inputs.imageHasUsbip {
            case true?: break
            case false?:
                warnings.append("daemon usbipd: the image lacks /usr/sbin/usbipd and /usr/sbin/usbip that the units run; install Debian's usbip package on the Pi (apt install usbip) or use `daemon: binder`")
            case nil:
                warnings.append("daemon usbipd: the units run /usr/sbin/usbipd and /usr/sbin/usbip from Debian's usbip package, which stock Raspberry Pi OS does not include; install it on the Pi (apt install usbip) or use `daemon: binder`")
            }
        case .binder:
            server = "usbip-binder.service"
            try overlay.addFile("\(systemd)/usbip-binder.service", try store.render("systemd/binder/usbip-binder.service", context))
            try overlay.addFile("\(systemd)/usbip-bind@.service", try store.render("systemd/binder/usbip-bind@.service", context))
            try overlay.addFile("etc/fpga-lab/binder.conf", BinderConfig.text(for: lab))
            if let binary = inputs.binderExecutable {
                try overlay.add(OverlayEntry(path: Self.binderPath, content: .file(binary), mode: 0o755))
            } else {
                warnings.append("daemon binder: no usbip-binder executable was given, so the overlay lacks /\(Self.binderPath) that its units run; build it with `make binder` and pass --binder, or use `daemon: usbipd`")
            }
        }
        try overlay.add(OverlayEntry(symlink: "\(systemd)/multi-user.target.wants/\(server)", target: "/\(systemd)/\(server)"))

        var seed = Seed()
        if let ssh = lab.server.ssh {
            try overlay.addFile("etc/ssh/sshd_config.d/fpga-lab.conf", try store.render("ssh/fpga-lab.conf", context))
            try overlay.addFile("etc/ssh/authorized_keys/\(ssh.user)", try store.render("ssh/authorized_keys", ["keys": ssh.authorizedKeys]))
            // Enabled offline, not with bootfs `ssh`: sshswitch's `systemctl enable --now` reloads
            // systemd while ssh.service starts, which aborted systemd 257 (trixie) in the stand-in.
            try overlay.add(OverlayEntry(symlink: "\(systemd)/multi-user.target.wants/ssh.service", target: "/lib/systemd/system/ssh.service"))
            if inputs.firstBoot?.kind == .cloudInit {
                seed.userData = try CloudInitSeed.userData(merging: inputs.firstBoot?.userData, ssh: ssh, lab: lab.name)
            } else {
                try overlay.addFile("\(Overlay.bootPrefix)/userconf.txt", "\(ssh.user):*\n")
            }
            try loginShell(for: ssh, inputs.firstBoot, into: &overlay)
        }
        if let network = lab.server.network {
            let wired = !network.addresses.isEmpty
            switch (inputs.firstBoot?.kind, inputs.firstBoot?.network) {
            case (.cloudInit?, _):
                seed.networkConfig = try CloudInitSeed.networkConfig(network, lab: lab.name, existing: inputs.firstBoot?.networkConfig)
            case (_, .networkd?):
                if network.wifi != nil { throw FirstBootError.wifiNeedsNetworkManager }
                try overlay.addFile(WiredNetworkFiles.networkdPath, WiredNetworkFiles.networkdUnit(network, lab: lab.name))
            case (_, .networkManager?), (nil, nil):
                if wired {
                    try overlay.add(OverlayEntry(path: WiredNetworkFiles.keyfilePath, content: .file(Array(WiredNetworkFiles.keyfile(network, lab: lab.name).utf8)), mode: 0o600))
                }
                if let wifi = network.wifi {
                    try overlay.add(OverlayEntry(path: WiredNetworkFiles.wifiKeyfilePath, content: .file(Array(WiredNetworkFiles.wifiKeyfile(wifi, lab: lab.name).utf8)), mode: 0o600))
                }
            default:
                throw FirstBootError.noNetworkStack
            }
            if network.wifi != nil, let state = WiredNetworkFiles.enablingWireless(inputs.firstBoot?.networkManagerState) {
                try overlay.add(OverlayEntry(path: FirstBoot.networkManagerStatePath, content: .file(state), mode: 0o644))
            }
        }
        if seed.userData != nil || seed.networkConfig != nil {
            let boot = Overlay.bootPrefix
            if let userData = seed.userData { try overlay.add(OverlayEntry(path: "\(boot)/user-data", content: .file(userData), mode: 0o644)) }
            if let networkConfig = seed.networkConfig {
                try overlay.add(OverlayEntry(path: "\(boot)/network-config", content: .file(networkConfig), mode: 0o644))
            }
            seed.instanceID = CloudInitSeed.instanceID(userData: seed.userData, networkConfig: seed.networkConfig)
            try overlay.add(OverlayEntry(path: "\(boot)/meta-data", content: .file(CloudInitSeed.metaData(inputs.firstBoot?.metaData, instanceID: seed.instanceID!)), mode: 0o644))
        }
        for file in store.staticFiles { try overlay.addFile(file.path, file.text) }
        try editBootFiles(lab, inputs, seed: seed, into: &overlay, warnings: &warnings)
        var firstBootLine: String?
        if let firstBoot = inputs.firstBoot {
            var words = [firstBoot.kind.rawValue]
            if let id = seed.instanceID { words += ["instance-id", id] }
            if let ssh = lab.server.ssh { words += ["ssh-user", ssh.user] }
            if lab.server.network != nil { words += ["network", firstBoot.kind == .cloudInit ? "cloud-init" : firstBoot.network.rawValue] }
            firstBootLine = words.joined(separator: " ")
        }
        try overlay.addFile(Manifest.path, Manifest.text(for: overlay, lab: lab.name, configBytes: inputs.configBytes, toolVersion: inputs.toolVersion, firstBoot: firstBootLine))
        return Result(overlay: overlay, warnings: warnings)
    }

    /// Puts the edited boot files into the overlay: for dwc_otg targets, config.txt with dwc2 in
    /// host mode (created when the boot partition has none; a dwc2 line in another mode is
    /// overridden, and said so) and cmdline.txt with `modules-load=dwc2` (a boot partition
    /// without one is an error: the change cannot be made).
    private func editBootFiles(_ lab: Lab, _ inputs: Inputs, seed: Seed, into overlay: inout Overlay, warnings: inout [String]) throws {
        let targets = lab.server.board.dwc2Targets
        let boot = Overlay.bootPrefix
        if let config = inputs.bootConfig {
            if let bytes = config.bytes {
                let original = ConfigTxt(bytes: bytes)
                let edited = original.addingDWC2(for: targets)
                warnings += original.dwc2ModeNotes(for: targets, file: config.name, edited: edited)
                try overlay.add(OverlayEntry(path: "\(boot)/config.txt", content: .file(edited.bytes), mode: 0o644))
            } else if !targets.isEmpty {
                let created = ConfigTxt(bytes: []).addingDWC2(for: targets)
                warnings.append("\(config.name) does not exist; created it with `\(ConfigTxt.dwc2Line)` for \(Self.names(targets)), whose dwc_otg driver crashes under USB/IP")
                try overlay.add(OverlayEntry(path: "\(boot)/config.txt", content: .file(created.bytes), mode: 0o644))
            }
        }
        if let cmdline = inputs.bootCmdline {
            guard var bytes = cmdline.bytes else {
                var needed: [String] = []
                if !targets.isEmpty { needed.append("`modules-load=dwc2` (for \(Self.names(targets)))") }
                if seed.instanceID != nil { needed.append("cloud-init's `ds=nocloud;i=` (for the new seed)") }
                if lab.server.network?.wifi != nil { needed.append("`cfg80211.ieee80211_regdom=` (for Wi-Fi)") }
                if needed.isEmpty { return }
                throw RenderError.bootFile(cmdline.name, "does not exist, so \(needed.joined(separator: " and ")) cannot be added; put the kernel command line there (one line) and run again")
            }
            if !targets.isEmpty {
                do { bytes = try CmdlineTxt.addingModule("dwc2", to: bytes) } catch {
                    throw RenderError.bootFile(cmdline.name, error.description)
                }
            }
            // Raspberry Pi Imager's way: the command line's instance-id wins over meta-data's, and
            // the Wi-Fi country is the kernel's regulatory domain from the start.
            var parameters: [(String, String)] = []
            if let id = seed.instanceID { parameters.append(("ds", "nocloud;i=\(id)")) }
            if let country = lab.server.network?.wifi?.country { parameters.append(("cfg80211.ieee80211_regdom", country)) }
            for (name, value) in parameters {
                do { bytes = try CmdlineTxt.settingParameter(name, to: value, in: bytes) } catch {
                    throw RenderError.bootFile(cmdline.name, error.description)
                }
            }
            try overlay.add(OverlayEntry(path: "\(boot)/cmdline.txt", content: .file(bytes), mode: 0o644))
        }
    }

    /// The cloud-init seed files being written, and the instance-id that makes them run.
    struct Seed {
        var userData: [UInt8]?
        var networkConfig: [UInt8]?
        var instanceID: String?
    }

    /// A key-only login needs a shell: trixie's pi-gen gives uid 1000 /usr/sbin/nologin
    /// (`adduser --disabled-login`), and neither userconf-pi nor cloud-init (for a user that
    /// exists) changes it. The user is `server.ssh.user` when the image has it, else uid 1000,
    /// which userconf-pi (and Raspberry Pi OS's cloud-init) rename to it.
    private func loginShell(for ssh: SSH, _ firstBoot: FirstBoot?, into overlay: inout Overlay) throws {
        guard let passwd = firstBoot?.passwd else { return }
        let entries = Passwd.entries(passwd)
        guard let entry = entries.first(where: { $0.name == ssh.user }) ?? entries.first(where: { $0.uid == 1000 }),
              Passwd.noLoginShells.contains(entry.shell) else { return }
        try overlay.add(OverlayEntry(path: "etc/passwd", content: .file(Passwd.settingShell(of: entry, to: Passwd.loginShell, in: passwd)), mode: 0o644))
    }

    static func names(_ boards: [Board]) -> String { boards.map(\.rawValue).joined(separator: ", ") }

    /// The values the templates see.
    static func context(for lab: Lab) -> [String: Any] {
        var rules: [[String: Any]] = []
        for device in lab.devices {
            for (index, id) in device.ids.enumerated() {
                var rule: [String: Any] = ["name": device.name, "vendor": id.vendor, "product": id.product]
                if index > 0 { rule["note"] = "also: \(id)" }
                if let serial = device.serial { rule["serial"] = serial }
                if let port = device.port { rule["kernelName"] = port }
                rules.append(rule)
            }
        }
        let allow = lab.server.allow.map(\.description)
        return [
            "lab": lab.name,
            "port": lab.server.port,
            "ipAddressAllow": (["localhost"] + allow).joined(separator: " "),
            "blacklist": lab.server.blacklist,
            "rules": rules,
        ]
    }
}
