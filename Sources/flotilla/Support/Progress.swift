import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An "n/N" progress line on stderr for long loops, shown only when both stdout and stderr are
/// terminals: piped or redirected output (tests, scripts, `--json`) stays free of carriage
/// returns. Redraws at most every 100 ms so the loop being measured is not slowed by writes.
final class Progress {
    private let label: String
    private let total: Int
    private let enabled: Bool
    private var lastDraw: UInt64 = 0
    private var drawn = false

    init(_ label: String, total: Int, enabled: Bool = Progress.terminalAttached) {
        self.label = label
        self.total = total
        self.enabled = enabled
    }

    static var terminalAttached: Bool { isatty(STDOUT_FILENO) != 0 && isatty(STDERR_FILENO) != 0 }

    /// Call with the number of finished items; cheap when nothing is drawn.
    func update(_ done: Int) {
        guard enabled else { return }
        let now = MonotonicClock.nanoseconds()
        guard done == total || now &- lastDraw >= 100_000_000 else { return }
        lastDraw = now
        drawn = true
        Self.write("\r\u{1B}[K\(label) \(done)/\(total)")
    }

    /// A one-off status ("importing…") on the same line.
    func status(_ text: String) {
        guard enabled else { return }
        drawn = true
        Self.write("\r\u{1B}[K\(text)")
    }

    /// Erases the line so the command's own output starts clean.
    func finish() {
        guard enabled, drawn else { return }
        drawn = false
        Self.write("\r\u{1B}[K")
    }

    private static func write(_ s: String) {
        FileHandle.standardError.write(Data(s.utf8))
    }
}

/// Monotonic time for latency measurements (CLOCK_MONOTONIC: unaffected by clock changes).
enum MonotonicClock {
    static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}

/// Writes a line to stderr (notes and warnings that must not mix with machine-readable stdout).
func printNote(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
