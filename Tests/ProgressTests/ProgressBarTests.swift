import Testing
@testable import Progress

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

    /// The line drawn when a phase starts: no rate or ETA to show yet.
    @Test func startOfAPhase() {
        #expect(ProgressBar.line(label: "extract", done: 0, total: 100 << 20, elapsed: 0)
            == "extract    [....................]    0%  0.0 MiB / 100.0 MiB")
        #expect(ProgressBar.line(label: "patch", done: 0, total: nil, elapsed: 0) == "patch      0.0 MiB")
    }

    /// A batch's labels name the image; they are padded, never cut, and the phase stays the first word.
    @Test func longLabelsAreKept() {
        #expect(ProgressBar.line(label: "checksum pi-a.img", done: 0, total: nil, elapsed: 0) == "checksum pi-a.img  0.0 MiB")
    }
}

@Suite struct PhaseTimerTests {
    final class Recorder: ProgressReporter {
        var calls: [String] = []
        func phase(_ name: String, total: UInt64?) { calls.append("phase \(name)") }
        func advance(to done: UInt64) { calls.append("advance \(done)") }
        func finish() { calls.append("finish") }
    }

    @Test func timesEachPhaseAndPassesEverythingOn() {
        let recorder = Recorder()
        let timer = PhaseTimer(recorder)
        timer.phase("extract", total: 10)
        timer.advance(to: 5)
        timer.phase("patch", total: nil)
        timer.endPhase()
        timer.finish()
        #expect(timer.seconds.map(\.phase) == ["extract", "patch"])
        #expect(timer.seconds.allSatisfy { $0.seconds >= 0 })
        #expect(recorder.calls == ["phase extract", "advance 5", "phase patch", "finish"])
    }
}
