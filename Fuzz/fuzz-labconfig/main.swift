import FuzzSupport
import LabConfig

/// Fuzz target: the lab config decoder behind `fpga-lab check`, `render` and `build-image`:
/// YAML text -> Lab, with every diagnostic anchored at a line and column of the file.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: FuzzDriver.bytes(data, size), as: UTF8.self)
    let (lab, diagnostics) = Lab.parse(text, file: "fuzz.yaml")
    let errors = diagnostics.filter { $0.severity == .error }
    FuzzDriver.check((lab == nil) == !errors.isEmpty, "lab \(lab == nil ? "missing" : "returned") with \(errors.count) errors")
    FuzzDriver.check(lab != nil || !diagnostics.isEmpty, "no lab and no diagnostic")
    for diagnostic in diagnostics {
        FuzzDriver.check(diagnostic.line >= 1 && diagnostic.column >= 1, "diagnostic at \(diagnostic.line):\(diagnostic.column)")
        _ = diagnostic.description
    }
    if let lab {
        FuzzDriver.check(!lab.devices.isEmpty, "a lab without devices")
        FuzzDriver.check(Capacity.check(lab).allSatisfy { $0.severity == .warning }, "capacity errors on a valid lab")
        _ = lab.hostname
        _ = lab.server.allow.map(\.description)
    }
    return 0
}

FuzzDriver.run(fuzz)
