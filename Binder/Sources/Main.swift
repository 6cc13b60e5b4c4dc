import CBinder

/// Version printed by `--version`; mk/binder.mk passes the git description in
/// `Version.generated.swift` (`binderBuildVersion`).
let binderVersion = "usbip-binder " + binderBuildVersion

@_cdecl("main")
func main(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    var args: [String] = []
    for i in 1..<Int(argc) {
        if let a = argv[i] { args.append(String(cString: a)) }
    }
    do {
        return try run(Invocation(args))
    } catch {
        Output.log(error.message)
        if case .usage = error { Output.log("try 'usbip-binder --help'") }
        return error.exitCode
    }
}

private func run(_ inv: Invocation) throws(BinderError) -> Int32 {
    let sysfs = Sysfs(root: inv.sysfsRoot)
    switch inv.command {
    case .help:
        Output.out(Invocation.usage)
    case .version:
        Output.out(binderVersion)
    case .bind(let busID):
        Output.log(try Binding(sysfs: sysfs).bind(busID))
    case .unbind(let busID):
        Output.log(try Binding(sysfs: sysfs).unbind(busID))
    case .status:
        let config = try BinderConfig.load(path: inv.configPath, explicit: inv.configExplicit)
        let holders = HolderQuery.ask(port: config.port)
        for line in Status(sysfs: sysfs, config: config, holders: holders).lines() { Output.out(line) }
    case .serve:
        let config = try BinderConfig.load(path: inv.configPath, explicit: inv.configExplicit)
        let options = Server.Options(
            port: inv.port ?? config.port,
            allow: inv.allow.isEmpty ? config.allow : inv.allow,
            timeoutMilliseconds: inv.timeoutSeconds * 1000,
            deadPeerSeconds: inv.deadPeerSeconds ?? config.deadPeerTimeout)
        try Server(sysfs: sysfs, options: options, hotplug: try hotplug(inv, sysfs, config)).run()
    }
    return 0
}

/// Hot-plug binding for `serve`: on the real sysfs from the kernel's uevents, on a fake tree
/// only from the test's `--uevents` socket, and never for a binder.conf naming no board.
private func hotplug(_ inv: Invocation, _ sysfs: Sysfs, _ config: BinderConfig) throws(BinderError) -> Hotplug? {
    guard !config.devices.isEmpty else { return nil }
    if let path = inv.ueventSocket { return try Hotplug(source: .socket(path: path), sysfs: sysfs, config: config) }
    guard sysfs.root == "/sys" else { return nil }
    return try Hotplug(source: .kernel, sysfs: sysfs, config: config)
}
