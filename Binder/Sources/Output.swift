import CBinder

/// Unbuffered writes to stdout and stderr (one `write(2)` per line, so lines
/// from concurrent processes do not interleave in the journal).
enum Output {
    static func out(_ line: String) { put(1, line + "\n") }

    /// One event line on stderr: `usbip-binder: <text>`.
    static func log(_ line: String) { put(2, "usbip-binder: " + line + "\n") }

    private static func put(_ fd: Int32, _ text: String) {
        var s = text
        s.withUTF8 { buf in
            var done = 0
            while done < buf.count {
                let n = write(fd, buf.baseAddress! + done, buf.count - done)
                if n <= 0 {
                    if n < 0 && binder_errno() == EINTR { continue }
                    return
                }
                done += n
            }
        }
    }
}
