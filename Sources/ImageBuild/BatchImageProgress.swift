import DiskFormats
import Foundation
import Progress

/// Progress of one image of a batch, whose phases run on two threads (ImageBatch): calls are
/// serialised on a lock shared by the batch, and each phase is named with the image's file.
final class BatchImageProgress: ProgressReporter, @unchecked Sendable {
    private let inner: ProgressReporter
    private let lock: NSLock
    private let label: String

    init(_ inner: ProgressReporter, lock: NSLock, label: String) {
        self.inner = inner
        self.lock = lock
        self.label = label
    }

    func phase(_ name: String, total: UInt64?) { lock.withLock { inner.phase("\(name) \(label)", total: total) } }
    func advance(to done: UInt64) { lock.withLock { inner.advance(to: done) } }
    func finish() { lock.withLock { inner.finish() } }
}
