/// The command line, parsed. Options may come before or after the command.
///
/// ```
/// usbip-binder [--sysfs-root DIR] [--config FILE] bind BUSID | unbind BUSID | status
/// usbip-binder [--sysfs-root DIR] [--config FILE] serve [--port P] [--allow CIDR]... [--timeout S]
///              [--dead-peer-timeout S] [--uevents SOCKET]
/// usbip-binder --version | --help
/// ```
struct Invocation {
    enum Command: Equatable {
        case bind(String), unbind(String), status, serve, version, help
    }

    static let usage = """
        usage: usbip-binder [OPTIONS] COMMAND
        Export USB devices over USB/IP through the kernel's usbip-host driver.

        commands:
          bind BUSID      hand device BUSID (e.g. 1-1.3) from its driver to usbip-host
          unbind BUSID    give device BUSID back to its own driver
          status          list USB devices, their driver and export state, and who holds
                          each board in use (asked of serve on loopback, when it answers)
          serve           USB/IP server: device list and import on TCP (IPv6 and IPv4);
                          binds binder.conf's boards as the kernel announces them
          --version       print the version
          --help          print this text

        options:
          --config FILE       binder.conf (default /etc/fpga-lab/binder.conf)
          --sysfs-root DIR    stands in for /sys (tests)
          --port P            serve: TCP port, overrides binder.conf (default 3240); 0: a
                              free one the kernel picks, named in the log and in STATUS=
          --allow CIDR        serve: allowed clients, repeatable, overrides binder.conf;
                              none anywhere: loopback clients only
          --timeout S         serve: seconds a client has to send its request (default 10)
          --dead-peer-timeout S  serve: seconds after which a vanished client's board is
                              freed (keepalive, TCP_USER_TIMEOUT); overrides binder.conf
                              (default 30)
          --uevents SOCKET    serve: read uevents from this AF_UNIX datagram socket, not
                              the kernel (tests; with --sysfs-root and no --uevents, serve
                              binds nothing itself)

        exit codes: 0 ok (also already bound/unbound), 1 system or kernel error,
          2 usage, 3 bad binder.conf, 4 no such device or it vanished,
          5 refused (hub or vhci device), 6 usbip-host driver not loaded
        """

    var command: Command = .help
    var sysfsRoot = "/sys"
    var configPath = BinderConfig.defaultPath
    var configExplicit = false
    var port: UInt16?
    var allow: [CIDR] = []
    var timeoutSeconds: Int64 = 10
    var deadPeerSeconds: Int32?
    var ueventSocket: String?

    init(_ args: [String]) throws(BinderError) {
        var command: Command?
        var i = 0
        func value(_ flag: String) throws(BinderError) -> String {
            i += 1
            guard i < args.count else { throw .usage("\(flag) needs a value") }
            return args[i]
        }
        while i < args.count {
            let a = args[i]
            switch a {
            case "--sysfs-root": sysfsRoot = try value(a)
            case "--config":
                configPath = try value(a)
                configExplicit = true
            case "--port":
                let v = try value(a)
                guard let p = v == "0" ? 0 : BinderConfig.port(parsing: v) else {
                    throw .usage("bad --port '\(v)' (1-65535, or 0 for a free one)")
                }
                port = p
            case "--allow":
                let v = try value(a)
                guard let c = try? CIDR(parsing: v) else { throw .usage("bad --allow '\(v)' (CIDR, e.g. 192.168.10.0/24)") }
                allow.append(c)
            case "--timeout":
                let v = try value(a)
                guard v.utf8.count <= 5, v.utf8.first != 0x20, let t = parseNumber(v, radix: 10), t >= 1 else {
                    throw .usage("bad --timeout '\(v)' (seconds, 1-99999)")
                }
                timeoutSeconds = Int64(t)
            case "--dead-peer-timeout":
                let v = try value(a)
                guard let t = BinderConfig.deadPeerTimeout(parsing: v) else { throw .usage("bad --dead-peer-timeout '\(v)' (seconds, \(BinderConfig.deadPeerTimeoutRangeText))") }
                deadPeerSeconds = t
            case "--uevents": ueventSocket = try value(a)
            case "--version", "-V": try set(&command, .version)
            case "--help", "-h": try set(&command, .help)
            case "bind", "unbind":
                let busID = try value(a)
                try set(&command, a == "bind" ? .bind(busID) : .unbind(busID))
            case "status": try set(&command, .status)
            case "serve": try set(&command, .serve)
            default:
                throw .usage(a.startsWith("-") ? "unknown option '\(a)'" : "unknown command '\(a)'")
            }
            i += 1
        }
        guard let command else { throw .usage("no command given") }
        if command != .serve && (port != nil || !allow.isEmpty || ueventSocket != nil || deadPeerSeconds != nil) {
            throw .usage("--port, --allow, --dead-peer-timeout and --uevents apply to serve only")
        }
        self.command = command
    }

    private func set(_ slot: inout Command?, _ c: Command) throws(BinderError) {
        guard slot == nil else { throw .usage("one command at a time") }
        slot = c
    }
}
