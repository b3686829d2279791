import FleetSimulator
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Prints the fleet summary every second: redrawn in place on a terminal, one plain line per
/// second otherwise; and writes it as JSON to `jsonPath` (replaced atomically, so a reader
/// never sees half a file).
struct SummaryReporter: Sendable {
    let simulator: Simulator
    let jsonPath: String?

    var isTerminal: Bool { isatty(STDOUT_FILENO) != 0 }

    func run() async {
        var told: Set<String> = []
        while !Task.isCancelled {
            await report(final: false, told: &told)
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// - Parameter told: kill lines already printed (plain output prints each change of a
    ///   killed device's story once: killed, resumed, committed).
    func report(final: Bool, told: inout Set<String>) async {
        let summary = await simulator.summary()
        if isTerminal {
            // Home and clear, then the table: a live view without scrolling.
            let text = (final ? "" : "\u{1B}[H\u{1B}[2J") + summary.table
            FileHandle.standardOutput.write(Data(text.utf8))
        } else {
            var text = summary.line + "\n"
            for k in summary.killedDownloads where told.insert(k.line).inserted { text += "  \(k.line)\n" }
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        guard let jsonPath else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(summary) else { return }
        try? data.write(to: URL(fileURLWithPath: jsonPath), options: .atomic)
    }
}

/// SIGINT/SIGTERM as an awaitable event (the default handlers are replaced, so a signal starts
/// the ordered shutdown instead of killing the process).
///
/// Proof of Sendable: every stored property is immutable after init; the dispatch sources are
/// only kept alive here, never touched again.
final class SignalWaiter: @unchecked Sendable {
    private let stream: AsyncStream<Int32>
    private let sources: [any DispatchSourceSignal]

    init(_ signals: [Int32]) {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        self.stream = stream
        var sources: [any DispatchSourceSignal] = []
        for s in signals {
            signal(s, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: s, queue: .global())
            source.setEventHandler { continuation.yield(s) }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    func wait() async {
        for await _ in stream { return }
    }
}
