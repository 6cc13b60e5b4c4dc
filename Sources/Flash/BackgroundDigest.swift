import Digests
import Foundation

/// SHA-256 of a stream, hashed on a thread of its own so that the thread streaming the image
/// (which also hashes each mapped range and writes it) does not hash every byte twice.
///
/// `update` copies the bytes into one of a few 4 MiB slots and hands each full slot over; the
/// hashing thread takes them in order and gives them back:
///
///     update ──copy──► [slot 0][slot 1][slot 2][slot 3] ──in order──► SHA-256 (thread)
///                         ▲                                   │
///                         └──────────── free slots ◄──────────┘
///
/// With every slot waiting to be hashed, `update` waits: memory stays at 16 MiB.
final class BackgroundDigest: @unchecked Sendable {
    static let slotSize = 4 << 20
    static let slotCount = 4

    private let slots: [UnsafeMutableRawBufferPointer]
    private let condition = NSCondition()
    /// Slots handed to the thread, in order, with their byte counts; nil ends the stream.
    private var queue: [(slot: Int, count: Int)?] = []
    private var free: [Int]
    private var hash = SHA256()
    private let finished = DispatchSemaphore(value: 0)
    private var ended = false
    // The producer's side: the slot being filled.
    private var current: Int?
    private var filled = 0
    private(set) var count: UInt64 = 0

    init() {
        slots = (0..<Self.slotCount).map { _ in .allocate(byteCount: Self.slotSize, alignment: 64) }
        free = Array(0..<Self.slotCount)
        let thread = Thread { [self] in hashSlots() }
        thread.stackSize = 1 << 20
        thread.start()
    }

    deinit {
        end()
        for slot in slots { slot.deallocate() }
    }

    func update(_ bytes: UnsafeRawBufferPointer) {
        count += UInt64(bytes.count)
        var done = 0
        while done < bytes.count {
            let slot = current ?? takeFreeSlot()
            current = slot
            let chunk = min(bytes.count - done, Self.slotSize - filled)
            UnsafeMutableRawBufferPointer(rebasing: slots[slot][filled..<(filled + chunk)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[done..<(done + chunk)]))
            filled += chunk
            done += chunk
            if filled == Self.slotSize { submitCurrent() }
        }
    }

    /// The digest of everything given to `update`; no update may follow.
    func hex() -> String {
        end()
        return Checksums.hex(hash.finalize())
    }

    /// Hands over the partly filled slot and the end of the stream, then waits for the thread.
    private func end() {
        guard !ended else { return }
        ended = true
        submitCurrent()
        condition.withLock {
            queue.append(nil)
            condition.signal()
        }
        finished.wait()
    }

    private func takeFreeSlot() -> Int {
        condition.lock()
        defer { condition.unlock() }
        while free.isEmpty { condition.wait() }
        filled = 0
        return free.removeFirst()
    }

    private func submitCurrent() {
        guard let slot = current else { return }
        current = nil
        condition.withLock {
            queue.append((slot, filled))
            condition.broadcast()
        }
        filled = 0
    }

    /// The thread: hashes slots in the order they came until the end marker.
    private func hashSlots() {
        while true {
            condition.lock()
            while queue.isEmpty { condition.wait() }
            let next = queue.removeFirst()
            condition.unlock()
            guard let (slot, count) = next else { break }
            hash.update(bufferPointer: UnsafeRawBufferPointer(rebasing: slots[slot][..<count]))
            condition.withLock {
                free.append(slot)
                condition.broadcast()
            }
        }
        finished.signal()
    }
}
