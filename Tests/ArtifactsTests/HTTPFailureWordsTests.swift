@testable import Artifacts
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// URLSession's NSURLErrorDomain codes become words naming the URL, what failed and how much
/// had arrived (issue 18, item 15: "NSURLErrorDomain error -1001").
@Suite struct HTTPFailureWordsTests {
    let url = URL(string: "http://images.example:8080/pi.img.xz")!

    func words(_ code: Int, received: Int64 = 1_000_000, total: Int64? = 3_000_000) -> String {
        let error = NSError(domain: NSURLErrorDomain, code: code, userInfo: [NSLocalizedDescriptionKey: "curl said so"])
        return HTTPByteSource.describe(error, url: url, timeout: 7, received: received, total: total).description
    }

    @Test func aStallSaysHowLongAndHowMuchArrived() {
        let error = NSError(domain: NSURLErrorDomain, code: NSURLErrorTimedOut)
        #expect(HTTPByteSource.describe(error, url: url, timeout: 7, received: 10, total: 100)
            == .timedOut(url.absoluteString, seconds: 7, received: 10, total: 100))
        let text = words(NSURLErrorTimedOut)
        #expect(text.hasPrefix("http://images.example:8080/pi.img.xz: download timed out: "), "\(text)")
        #expect(text.contains("nothing received for 7 s, after 1000000 of 3000000 bytes"), "\(text)")
        #expect(text.contains("--timeout"), "\(text)")
        #expect(words(NSURLErrorTimedOut, received: 0, total: nil).contains("no reply for 7 s"))
        #expect(words(NSURLErrorTimedOut, received: 5, total: nil).contains("after 5 of an unknown number of bytes"))
    }

    @Test func commonFailuresAreSaidInWords() {
        #expect(words(NSURLErrorCannotConnectToHost).contains("cannot connect to images.example:8080"))
        #expect(words(NSURLErrorCannotFindHost).contains("host images.example not found"))
        #expect(words(NSURLErrorDNSLookupFailed).contains("host images.example not found"))
        #expect(words(NSURLErrorNetworkConnectionLost).contains("connection to images.example:8080 was lost after 1000000 of 3000000 bytes"))
        #expect(words(NSURLErrorNotConnectedToInternet).contains("no network connection"))
        #expect(words(NSURLErrorBadServerResponse).contains("without a valid reply"))
        let other = words(NSURLErrorUnknown)
        #expect(other.contains("curl said so (after 1000000 of 3000000 bytes)"), "\(other)")
        for code in [NSURLErrorTimedOut, NSURLErrorCannotConnectToHost, NSURLErrorCannotFindHost, NSURLErrorNetworkConnectionLost, NSURLErrorUnknown] {
            #expect(!words(code).contains("NSURLErrorDomain"))
            #expect(words(code).hasPrefix(url.absoluteString + ": "))
        }
    }

    @Test func anEncodingNotDecodedIsNamed() {
        let text = DownloadError.contentEncoding(url.absoluteString, "br").description
        #expect(text.hasPrefix(url.absoluteString + ": "))
        #expect(text.contains("Content-Encoding: br"))
    }
}
