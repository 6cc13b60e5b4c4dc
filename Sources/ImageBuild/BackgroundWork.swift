import DiskFormats
import Foundation

/// Work running on a thread of its own; `wait` hands over its value or its error, and may be
/// called again (it then returns at once). The semaphore is the handover: the thread writes
/// `result` before it signals, `wait` reads it after.
final class BackgroundWork<Value>: @unchecked Sendable {
    private var result: Result<Value, Error>?
    private let done = DispatchSemaphore(value: 0)
    /// Run once, on the thread.
    private let work: () throws -> Value

    init(stackSize: Int, _ work: @escaping () throws -> Value) {
        self.work = work
        let thread = Thread { [self] in
            result = Result { try self.work() }
            done.signal()
        }
        thread.stackSize = stackSize
        thread.start()
    }

    func wait() throws -> Value {
        done.wait()
        done.signal()
        return try result!.get()
    }
}
