#if canImport(Glibc)
import Glibc
#endif

/// lseek whences for sparse files (Linux values; Glibc's module map hides them behind _GNU_SOURCE).
let seekData: Int32 = 3
let seekHole: Int32 = 4

/// The data extents of an open file, in order: the byte ranges between its holes, as
/// lseek(SEEK_DATA) and lseek(SEEK_HOLE) report them.
///
///     0                                                            size
///     |   hole   |###### data ######|    hole    |### data ###| hole |
///                ^ SEEK_DATA        ^ SEEK_HOLE
///                 \_ first extent _/              \_ second _/
///
/// Walked lazily; each step moves the file offset of `fd` (so read with pread). A failing
/// SEEK_DATA (ENXIO: no data at or after the offset) ends the walk, so a trailing hole yields no
/// extent; a failing SEEK_HOLE makes the extent run to `size`. A file system that keeps no holes
/// reports the whole file as one extent (Linux's generic lseek), an empty file none.
public struct DataExtents: Sequence {
    public let fd: Int32
    public let size: Int64

    public init(fd: Int32, size: Int64) {
        self.fd = fd
        self.size = size
    }

    public func makeIterator() -> Iterator { Iterator(fd: fd, size: size) }

    public struct Iterator: IteratorProtocol {
        let fd: Int32
        let size: Int64
        private var position: Int64 = 0

        init(fd: Int32, size: Int64) {
            self.fd = fd
            self.size = size
        }

        public mutating func next() -> Range<Int64>? {
            guard position < size else { return nil }
            let data = Int64(lseek(fd, off_t(position), seekData))
            guard data >= 0 else {
                position = size
                return nil
            }
            var hole = Int64(lseek(fd, off_t(data), seekHole))
            if hole < 0 { hole = size }
            position = hole
            return data..<hole
        }
    }
}
