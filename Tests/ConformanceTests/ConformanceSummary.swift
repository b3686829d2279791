import Foundation

/// One test's result with what the summary and the results file need.
struct NodeTestResult {
    var name: String
    var op: String
    var outcome: NodeTestOutcome
    var seconds: Double
}

/// The printed summary and the machine-readable results file scripts/conformance-report.sh
/// turns into the table in docs/onnx-support.md.
struct ConformanceSummary {
    let results: [NodeTestResult]

    var passed: Int { results.filter { if case .pass = $0.outcome { return true } else { return false } }.count }
    var failures: [NodeTestResult] { results.filter { if case .fail = $0.outcome { return true } else { return false } } }
    var skipped: [(NodeTestResult, SkipReason)] {
        results.compactMap { r in if case .skip(let s) = r.outcome { return (r, s) } else { return nil } }
    }

    /// The summary line. Worded so it cannot be mistaken for a test runner's closing
    /// "N passed, M failed" line: known failures are expected here and do not fail the suite.
    var headline: String {
        "ONNX node tests: pass \(passed), fail \(failures.count), skip \(skipped.count) (of \(passed + failures.count + skipped.count))"
    }

    var text: String {
        var lines = [headline]
        let bound = results.filter { if case .pass(let note?) = $0.outcome { return !note.isEmpty } else { return false } }.count
        if bound > 0 { lines.append("  \(bound) of the passes bound graph inputs the runtime needs at plan time (shapes, axes, k)") }
        lines.append("skipped, by reason:")
        for (category, n) in counts(skipped.map(\.1.category)) { lines.append("  \(n)\t\(category)") }
        let missingOps = skipped.flatMap { _, s -> [String] in if case .unsupportedOps(let ops) = s { return ops } else { return [] } }
        if !missingOps.isEmpty {
            lines.append("ops the runtime lacks (tests needing each):")
            lines.append("  " + counts(missingOps).map { "\($0.0) \($0.1)" }.joined(separator: ", "))
        }
        if !failures.isEmpty {
            lines.append("failures:")
            for r in failures.sorted(by: { ($0.op, $0.name) < ($1.op, $1.name) }) {
                if case .fail(let f) = r.outcome { lines.append("  \(r.name) [\(r.op)] \(f.description)") }
            }
        }
        let total = results.reduce(0) { $0 + $1.seconds }
        let slowest = results.sorted { $0.seconds > $1.seconds }.prefix(5)
        lines.append(
            String(format: "time: %.1f s over %d tests; slowest: ", total, results.count)
                + slowest.map { String(format: "%@ %.2f s", $0.name, $0.seconds) }.joined(separator: ", "))
        return lines.joined(separator: "\n")
    }

    /// (key, count) sorted by count, then key.
    private func counts(_ keys: [String]) -> [(String, Int)] {
        Dictionary(keys.map { ($0, 1) }, uniquingKeysWith: +).sorted { ($1.1, $0.0) < ($0.1, $1.0) }
    }

    // MARK: results file

    private struct Entry: Encodable {
        var name: String
        var op: String
        var outcome: String
        var category: String?
        var detail: String?
    }

    private struct File: Encodable {
        var onnxVersion: String
        var passed: Int
        var failed: Int
        var skipped: Int
        var tests: [Entry]
    }

    func write(to url: URL, onnxVersion: String) throws {
        let entries = results.map { r -> Entry in
            switch r.outcome {
            case .pass(let note): return Entry(name: r.name, op: r.op, outcome: "pass", category: nil, detail: note)
            case .fail(let f): return Entry(name: r.name, op: r.op, outcome: "fail", category: f.stage.rawValue, detail: f.detail)
            case .skip(let s): return Entry(name: r.name, op: r.op, outcome: "skip", category: s.category, detail: s.description)
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let file = File(onnxVersion: onnxVersion, passed: passed, failed: failures.count, skipped: skipped.count, tests: entries)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try encoder.encode(file).write(to: url, options: .atomic)
    }
}
