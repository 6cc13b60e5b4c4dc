import Testing
@testable import Flash

@Suite struct ProgressBarTests {
    @Test func lineWithTotal() {
        let line = ProgressBar.line(label: "writing", done: 50 << 20, total: 200 << 20, elapsed: 2)
        #expect(line == "writing    [#####...............]   25%  50.0 MiB / 200.0 MiB  25.0 MiB/s  ETA 0:06")
    }

    @Test func lineWithoutTotal() {
        #expect(ProgressBar.line(label: "writing", done: 3 << 20, total: nil, elapsed: 3) == "writing    3.0 MiB  1.0 MiB/s")
    }

    @Test func doneBeyondTotalStaysAtFull() {
        let line = ProgressBar.line(label: "verifying", done: 300, total: 100, elapsed: 1)
        #expect(line.hasPrefix("verifying  [####################]  100%"))
        #expect(line.hasSuffix("ETA 0:00"))
    }
}
