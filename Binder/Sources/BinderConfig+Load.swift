import CBinder

/// `/etc/fpga-lab/binder.conf`, written by fpga-lab's renderer. The format (`BinderConfig`,
/// its `parse` and `encode`) lives in Sources/BinderConf, compiled into this binary (mk/binder.mk);
/// here: where the file is, reading it, and what its `device` lines name.
extension BinderConfig {
    static let defaultPath = "/etc/fpga-lab/binder.conf"

    /// Reads and parses `path`. A missing file at the default path gives the
    /// defaults; a missing file named with `--config` is an error.
    static func load(path: String, explicit: Bool) throws(BinderError) -> BinderConfig {
        let bytes: [UInt8]
        do {
            bytes = try readFile(path)
        } catch {
            if case .system(_, _, let e) = error {
                if e == ENOENT && !explicit { return BinderConfig() }
                throw .configUnreadable(path: path, errno: e)
            }
            throw error
        }
        do {
            return try parse(bytes)
        } catch {
            throw .config(path: path, line: error.line, message: error.message)
        }
    }

    /// Name of the first `device` line matching (vid, pid, serial, port), if any.
    func name(vendor: UInt16, product: UInt16, serial: String, busID: String) -> String? {
        for d in devices where d.vendor == vendor && d.product == product {
            if let s = d.serial, s != serial { continue }
            if let p = d.port, p != busID { continue }
            return d.name
        }
        return nil
    }
}
