import CFuzzSupport

#if canImport(Glibc)
import Glibc
#endif

/// Runs libFuzzer with `callback` as `LLVMFuzzerTestOneInput` and exits with its status.
///
/// Each fuzz target's `main.swift` ends in `FuzzDriver.run(fuzz)`: SwiftPM renames an
/// executable's `main` (so test targets can link it) and points the linker's `main` at that
/// renamed symbol, so libFuzzer's own `main` never runs; this starts its driver instead.
public enum FuzzDriver {
    public typealias Callback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

    public static func run(_ callback: Callback) -> Never {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, callback))
    }

    /// The input as an array (libFuzzer passes a null pointer for the empty input).
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        guard let data, size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// Stops the run with a message when a property of the code under test does not hold;
    /// libFuzzer reports it as a crash and saves the input.
    public static func check(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { fatalError("fuzz property violated: \(message())") }
    }
}
