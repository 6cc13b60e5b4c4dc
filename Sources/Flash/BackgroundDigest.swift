import Digests
import Foundation

/// SHA-256 of a stream, hashed on a thread of its own so that the thread streaming the image
/// (which reads and writes it) does not also spend its time hashing: the whole file for its
/// SHA256SUMS line, or the mapped ranges one after the other for the bmap (`cut` ends one).
///
/// `update` copies the bytes into one of a few 4 MiB slots and hands each full slot over; the
/// hashing thread takes them in order and gives them back:
///
///     update ──copy──► [slot 0][slot 1][slot 2][slot 3] ──in order──► SHA-256 (thread)
///     cut ───────────► (marker)                           segments ◄──┤ at each marker
///                         ▲                                   │
///                         └──────────── free slots ◄──────────┘
///
/// With every slot waiting to be hashed, `update` waits: memory stays at 16 MiB.
final class BackgroundDigest: @unchecked Sendable {
    static let slotSize = 4 << 20
    static let slotCount = 4

    private let slots: [UnsafeMutableRawBufferPointer]
    private let condition = NSCondition()
    /// What the thread is handed, in order.
    private enum Item {
        /// A slot and its byte count.
        case bytes(slot: Int, count: Int)
        /// The end of a segment: its digest goes to `segments`, the next starts empty.
        case cut
        case end
    }

    private var queue: [Item] = []
    /// Hex digests of the segments ended by `cut` and hashed so far, in order.
    private var segments: [String] = []
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

    /// The digest of everything given to `update` since the last `cut`; no update may follow.
    func hex() -> String {
        end()
        return Hex.encode(hash.finalize())
    }

    /// Ends a segment: what `update` got since the previous cut is hashed into its own digest.
    func cut() {
        submitCurrent()
        condition.withLock {
            queue.append(.cut)
            condition.broadcast()
        }
    }

    /// The digests of the segments hashed so far, from the `from`th on (without waiting).
    func segments(from index: Int) -> [String] {
        condition.withLock { index < segments.count ? Array(segments[index...]) : [] }
    }

    /// Waits for every segment cut so far and returns their digests from the `from`th on; no
    /// update may follow.
    func allSegments(from index: Int) -> [String] {
        end()
        return segments(from: index)
    }

    /// Hands over the partly filled slot and the end of the stream, then waits for the thread.
    private func end() {
        guard !ended else { return }
        ended = true
        submitCurrent()
        condition.withLock {
            queue.append(.end)
            condition.broadcast()
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
            queue.append(.bytes(slot: slot, count: filled))
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
            switch next {
            case .end:
                finished.signal()
                return
            case .cut:
                let digest = Hex.encode(hash.finalize())
                hash = SHA256()
                condition.withLock { segments.append(digest) }
            case .bytes(let slot, let count):
                hash.update(bufferPointer: UnsafeRawBufferPointer(rebasing: slots[slot][..<count]))
                condition.withLock {
                    free.append(slot)
                    condition.broadcast()
                }
            }
        }
    }
}
