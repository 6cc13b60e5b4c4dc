import Archives
@testable import Artifacts
import Glibc
import SystemIO
import Testing

/// A file's name leads an error message once: errors that already start with it (FileNamingError)
/// are not prefixed again, others are; decided by the error's `file` field, not its text.
struct ErrorTextTests {
    @Test func namesTheFileOnce() {
        let path = "/srv/base.img.xz"
        #expect(ErrorText.about(path, ImageSourceError.read(path, Errno(EIO))) == "\(path): cannot read: Input/output error")
        #expect(ErrorText.about(path, ArchiveError.system(path, Errno(ENOENT))) == "\(path): No such file or directory")
        #expect(ErrorText.about(path, ArtifactError.nestedZip(path)) == "\(path): a zip inside a zip is not read; unpack it first")
        #expect(ErrorText.about("https://x/a.img", DownloadError.httpStatus("https://x/a.img", 404)) == "https://x/a.img: HTTP status 404")
    }

    /// About another file, or an error that names no file: the path goes in front, even when the
    /// message happens to start with the same text.
    @Test func prefixesOtherErrors() {
        let path = "/srv/base.img"
        #expect(ErrorText.about(path, ImageSourceError.empty("/srv/base.img.raw")) == "\(path): /srv/base.img.raw: holds no image data")
        #expect(ErrorText.about(path, Errno(EIO)) == "\(path): Input/output error")
    }
}
