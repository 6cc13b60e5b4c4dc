import Foundation
import Testing
import TestSupport

/// build-image on a small stand-in made to look like Raspberry Pi OS trixie's first boot
/// (cloud-init with the NoCloud seed on bootfs, pi with shell nologin, NetworkManager), checked
/// with the real tools; the boot itself is the e2e first-boot lane's.
@Suite(.serialized) struct FirstBootIntegrationTests {
    static let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICRlMl7iI5RghZjxhdn5zYS67vaIEDw/75msWGUZOuWb admin@host"
    static let adminUserData = "#cloud-config\n# the admin's own settings\nhostname: bench-pi\nruncmd:\n  - [touch, /var/lib/admin-was-here]\n"
    static let lab = """
    lab: fb-lab
    server:
      board: pi4
      allow: [10.0.0.0/8]
      ssh:
        user: pi
        authorized_keys: ["\(key)"]
      network:
        addresses: [10.1.2.3/16]
        gateway: 10.1.0.1
        dns: [10.1.0.1]
    devices:
      - {name: a, vendor: "0403", product: "6010"}

    """

    /// The small stand-in with trixie's first-boot files written into it (debugfs, mtools).
    static func trixieShaped(in dir: URL) throws -> String {
        let base = try BuildImageIntegrationTests.makeBase(in: dir)
        let layout = try BuildImageIntegrationTests.layout(base)
        let root = dir.appendingPathComponent("root.fs").path
        try BuildImageIntegrationTests.extract(base, offset: layout.rootOffset, size: nil, to: root)
        let files = try dir.appendingPathComponent("files").creatingDirectory()
        let passwd = "root:x:0:0:root:/root:/bin/bash\npi:x:1000:1000:,,,:/home/pi:/usr/sbin/nologin\n"
        let contents = ["passwd": passwd, "cfg": "datasource_list: [ NoCloud, None ]\ndatasource:\n  NoCloud:\n    seedfrom: file:///boot/firmware\n",
                        "exe": "#!/bin/sh\n", "user-data": adminUserData, "meta-data": "dsmode: local\ninstance_id: rpios-image\n",
                        "network-config": "# network:\n#   version: 2\n"]
        for (name, text) in contents { try Data(text.utf8).write(to: files.appendingPathComponent(name)) }
        let f = files.path
        let commands = ["rm /etc/passwd", "write \(f)/passwd /etc/passwd", "mkdir /etc/cloud", "mkdir /etc/cloud/cloud.cfg.d",
                        "write \(f)/cfg /etc/cloud/cloud.cfg.d/99_raspberry-pi.cfg", "write \(f)/exe /usr/bin/cloud-init",
                        "mkdir /usr/sbin", "write \(f)/exe /usr/sbin/NetworkManager"]
        try Data(commands.joined(separator: "\n").utf8).write(to: files.appendingPathComponent("cmds"))
        try ProcessRunner.check("debugfs", ["-w", "-f", files.appendingPathComponent("cmds").path, root])
        try ProcessRunner.check("dd", ["if=\(root)", "of=\(base)", "bs=512", "seek=\(layout.rootOffset / 512)", "conv=notrunc", "status=none"])
        for name in ["user-data", "meta-data", "network-config"] {
            try ProcessRunner.check("mcopy", ["-i", "\(base)@@\(layout.bootOffset)", "\(f)/\(name)", "::\(name)"], environment: ["MTOOLS_SKIP_CHECK": "1"])
        }
        return base
    }

    static func bootFile(_ image: String, _ name: String) throws -> String {
        let layout = try BuildImageIntegrationTests.layout(image)
        return try ProcessRunner.check("mtype", ["-i", "\(image)@@\(layout.bootOffset)", "::\(name)"], environment: ["MTOOLS_SKIP_CHECK": "1"]).stdout
    }

    @Test func trixieSeedPasswdAndNetwork() throws {
        let dir = try Project.scratch("firstboot")
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = try Self.trixieShaped(in: dir)
        try Data(Self.lab.utf8).write(to: dir.appendingPathComponent("lab.yaml"))
        let before = try Project.fpgaLab(["inspect", "--json", base], in: dir)
        #expect(before.status == 0, "\(before.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(before.stdout.utf8)) as! [String: Any]
        let firstBoot = json["firstBoot"] as! [String: Any]
        #expect(firstBoot["kind"] as? String == "cloud-init" && firstBoot["network"] as? String == "NetworkManager")
        #expect(firstBoot["firstUser"] as? String == "pi" && firstBoot["firstUserShell"] as? String == "/usr/sbin/nologin")

        let result = try Project.fpgaLab(["build-image", "--config", "lab.yaml", "--base", base, "--output", "out/pi.img"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("first boot: cloud-init (NoCloud seed on bootfs); network NetworkManager; uid 1000 pi, shell /usr/sbin/nologin"))
        let image = dir.appendingPathComponent("out/pi.img").path
        let root = try BuildImageIntegrationTests.expectClean(image, in: dir)

        let userData = try Self.bootFile(image, "user-data")
        #expect(userData.hasPrefix(Self.adminUserData), "the admin's user-data is kept byte for byte")
        #expect(userData.contains("user:\n  name: pi\n  shell: /bin/bash\n  lock_passwd: true\n  ssh_authorized_keys:\n    - \"\(Self.key)\"\nssh_pwauth: false\n"))
        let metaData = try Self.bootFile(image, "meta-data")
        let id = try #require(metaData.split(separator: "\n").first.map { String($0.dropFirst("instance-id: ".count)) })
        #expect(metaData == "instance-id: \(id)\ndsmode: local\n" && id.hasPrefix("fpga-lab-"))
        let cmdline = try Self.bootFile(image, "cmdline.txt")
        #expect(cmdline.hasSuffix(" ds=nocloud;i=\(id)\n") && cmdline.split(separator: "\n").count == 1)
        #expect(try Self.bootFile(image, "network-config").contains("addresses:\n        - \"10.1.2.3/16\"\n"))
        #expect(try ProcessRunner.run("mtype", ["-i", "\(image)@@\(try BuildImageIntegrationTests.layout(image).bootOffset)", "::userconf.txt"],
                                environment: ["MTOOLS_SKIP_CHECK": "1"]).status != 0, "no userconf.txt on a cloud-init image")
        #expect(try Ext4Tools.debugfs(root, "cat /etc/passwd") == "root:x:0:0:root:/root:/bin/bash\npi:x:1000:1000:,,,:/home/pi:/bin/bash\n")
        #expect(try Ext4Tools.debugfs(root, "cat /etc/fpga-lab/manifest").contains("\nfirst-boot cloud-init instance-id \(id) ssh-user pi network cloud-init\n"))
        let sshd = try Ext4Tools.debugfs(root, "cat /etc/ssh/sshd_config.d/fpga-lab.conf")
        #expect(sshd.contains("\nPasswordAuthentication no\n"))

        // The same inputs give the same image.
        let again = try Project.fpgaLab(["build-image", "--config", "lab.yaml", "--base", base, "--output", "again/pi.img"], in: dir)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Project.sha256(image) == Project.sha256(dir.appendingPathComponent("again/pi.img").path))
    }

    /// An admin's  and an image without a network stack: clear errors, no output.
    @Test func conflictsAreRefusedAndWriteNothing() throws {
        let dir = try Project.scratch("firstboot-refused")
        defer { try? FileManager.default.removeItem(at: dir) }
        let plain = try BuildImageIntegrationTests.makeBase(in: dir)
        try Data(Self.lab.utf8).write(to: dir.appendingPathComponent("lab.yaml"))
        let noStack = try Project.fpgaLab(["build-image", "--config", "lab.yaml", "--base", plain, "--output", "out/pi.img"], in: dir)
        #expect(noStack.status == 1)
        #expect(noStack.stderr.contains("server.network: the image has neither NetworkManager nor systemd-networkd (nor cloud-init) to apply the address with"), "\(noStack.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/pi.img").path))

        let base = try Self.trixieShaped(in: dir)
        let layout = try BuildImageIntegrationTests.layout(base)
        let userData = dir.appendingPathComponent("files/user-data").path
        try Data("#cloud-config\nuser: {name: bob}\n".utf8).write(to: URL(fileURLWithPath: userData))
        try ProcessRunner.check("mcopy", ["-o", "-i", "\(base)@@\(layout.bootOffset)", userData, "::user-data"], environment: ["MTOOLS_SKIP_CHECK": "1"])
        let conflict = try Project.fpgaLab(["build-image", "--config", "lab.yaml", "--base", base, "--output", "out/pi.img"], in: dir)
        #expect(conflict.status == 1)
        #expect(conflict.stderr.contains("user-data on the boot partition: already sets `user:` (bob); server.ssh would set it to pi: keep one of them"), "\(conflict.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/pi.img").path))
    }
}
