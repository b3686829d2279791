import Foundation

/// Tests/ConformanceTests/known-failures.txt: the node tests that fail today, one per line as
/// `<test name> <reason>`, `#` comments. The test fails on a failure not listed and on a listed
/// test that no longer fails, so the list can only shrink. A reason that starts with
/// `importer:` or `runtime:` also pins where the test fails, so fixing the importer cannot hide
/// a runtime failure behind the old line.
struct KnownFailures {
    static let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("known-failures.txt")

    var reasons: [String: String] = [:]

    static func load(_ url: URL = url) throws -> KnownFailures {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw ConformanceError.data(path: url.path, detail: "cannot read the known-failures list: \(error.localizedDescription)")
        }
        var list = KnownFailures()
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(maxSplits: 1, whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count == 2, !parts[1].trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ConformanceError.data(
                    path: url.path, detail: "line \(n + 1): '\(line)' has no reason; write '<test name> <why it fails>'")
            }
            let name = String(parts[0])
            guard list.reasons[name] == nil else {
                throw ConformanceError.data(path: url.path, detail: "line \(n + 1): \(name) is listed twice")
            }
            list.reasons[name] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        return list
    }

    /// What disagrees with the list, among the tests that ran (`results`) out of `allNames`.
    struct Drift {
        var newFailures: [NodeTestResult] = []
        /// Listed tests that passed or were skipped this time.
        var noLongerFailing: [NodeTestResult] = []
        /// Listed tests that still fail, but in another layer than their reason says.
        var movedFailures: [(result: NodeTestResult, reason: String)] = []
        /// Listed names that are not ONNX node tests at all.
        var unknown: [String] = []

        var isEmpty: Bool { newFailures.isEmpty && noLongerFailing.isEmpty && movedFailures.isEmpty && unknown.isEmpty }
    }

    func drift(_ results: [NodeTestResult], allNames: Set<String>) -> Drift {
        var d = Drift()
        for r in results {
            let listed = reasons[r.name] != nil
            if case .fail(let f) = r.outcome {
                if let reason = reasons[r.name] {
                    if !Self.layer(of: reason, matches: f.stage) { d.movedFailures.append((r, reason)) }
                } else {
                    d.newFailures.append(r)
                }
            } else if listed {
                d.noLongerFailing.append(r)
            }
        }
        d.unknown = reasons.keys.filter { !allNames.contains($0) }.sorted()
        return d
    }

    static func layer(of reason: String, matches stage: NodeTestFailure.Stage) -> Bool {
        if reason.hasPrefix("importer:") { return stage == .importer }
        if reason.hasPrefix("runtime:") { return [.plan, .run, .compare].contains(stage) }
        return true
    }
}
