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
        for line in Status(sysfs: sysfs, config: config).lines() { Output.out(line) }
    case .serve:
        let config = try BinderConfig.load(path: inv.configPath, explicit: inv.configExplicit)
        let options = Server.Options(
            port: inv.port ?? config.port,
            allow: inv.allow.isEmpty ? config.allow : inv.allow,
            timeoutMilliseconds: inv.timeoutSeconds * 1000)
        try Server(sysfs: sysfs, options: options).run()
    }
    return 0
}
