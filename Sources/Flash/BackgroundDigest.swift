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

    /// What the hashing thread holds: the queue and the hash, never the digest itself, so a
    /// digest its owner drops (a flash that failed midway) is freed, and its `deinit` ends the
    /// thread and frees the slots.
    private let queue: SlotQueue
    private let slots: [UnsafeMutableRawBufferPointer]
    private var ended = false
    // The producer's side: the slot being filled.
    private var current: Int?
    private var filled = 0
    private(set) var count: UInt64 = 0

    init() {
        slots = (0..<Self.slotCount).map { _ in .allocate(byteCount: Self.slotSize, alignment: 64) }
        queue = SlotQueue(slots: slots)
        let thread = Thread { [queue] in queue.hashSlots() }
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
        return Hex.encode(queue.hash.finalize())
    }

    /// Ends a segment: what `update` got since the previous cut is hashed into its own digest.
    func cut() {
        submitCurrent()
        queue.submit(.cut)
    }

    /// The digests of the segments hashed so far, from the `from`th on (without waiting).
    func segments(from index: Int) -> [String] { queue.segments(from: index) }

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
        queue.submit(.end)
        queue.finished.wait()
    }

    private func takeFreeSlot() -> Int {
        filled = 0
        return queue.takeFreeSlot()
    }

    private func submitCurrent() {
        guard let slot = current else { return }
        current = nil
        queue.submit(.bytes(slot: slot, count: filled))
        filled = 0
    }
}

/// The hashing thread's side of a ``BackgroundDigest``: slots handed over in order, the free
/// ones handed back, the running hash and the digests of the segments cut so far.
private final class SlotQueue: @unchecked Sendable {
    /// What the thread is handed, in order.
    enum Item {
        /// A slot and its byte count.
        case bytes(slot: Int, count: Int)
        /// The end of a segment: its digest goes to `segments`, the next starts empty.
        case cut
        case end
    }

    private let slots: [UnsafeMutableRawBufferPointer]
    private let condition = NSCondition()
    private var items: [Item] = []
    /// Hex digests of the segments ended by `cut` and hashed so far, in order.
    private var done: [String] = []
    private var free: [Int]
    /// Read by the producer only after `finished` (the thread no longer touches it).
    var hash = SHA256()
    let finished = DispatchSemaphore(value: 0)

    init(slots: [UnsafeMutableRawBufferPointer]) {
        self.slots = slots
        free = Array(slots.indices)
    }

    func submit(_ item: Item) {
        condition.withLock {
            items.append(item)
            condition.broadcast()
        }
    }

    func takeFreeSlot() -> Int {
        condition.lock()
        defer { condition.unlock() }
        while free.isEmpty { condition.wait() }
        return free.removeFirst()
    }

    func segments(from index: Int) -> [String] {
        condition.withLock { index < done.count ? Array(done[index...]) : [] }
    }

    /// The thread: hashes slots in the order they came until the end marker.
    func hashSlots() {
        while true {
            condition.lock()
            while items.isEmpty { condition.wait() }
            let next = items.removeFirst()
            condition.unlock()
            switch next {
            case .end:
                finished.signal()
                return
            case .cut:
                let digest = Hex.encode(hash.finalize())
                hash = SHA256()
                condition.withLock { done.append(digest) }
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
