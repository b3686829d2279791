import Foundation
import Runtime
import XCTest

/// ONNX's own backend node tests (onnx 1.23.2, 1 884 cases) run through the importer and the
/// fp32 runtime. Prints an `ONNX node tests: pass N, fail M, skip K` summary with skip reasons and the
/// failure list, writes `.build/conformance-results.json`, and holds the failures to
/// known-failures.txt: a new failure fails the test, and so does a listed test that passes.
///
/// Environment: FLOTILLA_ONNX_NODE_TESTS (data directory), FLOTILLA_CONFORMANCE_FILTER (run only
/// tests whose name contains it), FLOTILLA_CONFORMANCE_RESULTS (results file path).
final class ONNXNodeConformanceTests: XCTestCase {
    func testONNXBackendNodeTests() throws {
        let environment = ProcessInfo.processInfo.environment
        let dir = try NodeTestData.locate()
        let index = try NodeTestIndex.load(dir.appendingPathComponent("index.json"))
        XCTAssertEqual(index.tests.count, index.count, "index.json is inconsistent; regenerate it with --force")
        let filter = environment["FLOTILLA_CONFORMANCE_FILTER"].flatMap { $0.isEmpty ? nil : $0 }
        let cases = index.tests.filter { c in filter.map { c.name.contains($0) } ?? true }

        let runner = NodeTestRunner(root: dir.appendingPathComponent("node"), runtimeOps: Set(RuntimeOps.supported))
        let clock = ContinuousClock()
        var results: [NodeTestResult] = []
        results.reserveCapacity(cases.count)
        for c in cases {
            let start = clock.now
            let outcome = runner.run(c)
            let elapsed = start.duration(to: clock.now).components
            let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
            results.append(NodeTestResult(name: c.name, op: c.op, outcome: outcome, seconds: seconds))
        }

        let summary = ConformanceSummary(results: results)
        print(summary.text)
        let resultsURL =
            environment["FLOTILLA_CONFORMANCE_RESULTS"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? NodeTestData.packageRoot.appendingPathComponent(".build/conformance-results.json")
        if filter == nil { try summary.write(to: resultsURL, onnxVersion: index.onnxVersion) }

        let known = try KnownFailures.load()
        let drift = known.drift(results, allNames: Set(index.tests.map(\.name)))
        for r in drift.newFailures {
            if case .fail(let f) = r.outcome {
                XCTFail(
                    "new conformance failure \(r.name) [\(r.op)] \(f.description) — fix it, or list it in known-failures.txt with the cause"
                )
            }
        }
        for r in drift.noLongerFailing {
            XCTFail(
                "\(r.name) is in known-failures.txt but now \(r.outcome.label)es"
                    + (r.outcome.label == "skip" ? " (\(skipText(r.outcome)))" : "") + "; remove it from the list")
        }
        for (r, reason) in drift.movedFailures {
            if case .fail(let f) = r.outcome {
                XCTFail(
                    "\(r.name) is listed as '\(reason)' but now fails elsewhere: \(f.description) — update its line in known-failures.txt")
            }
        }
        for name in drift.unknown {
            XCTFail("known-failures.txt lists \(name), which is not an ONNX \(index.onnxVersion) node test; remove or correct it")
        }
    }

    private func skipText(_ outcome: NodeTestOutcome) -> String {
        if case .skip(let s) = outcome { return s.description }
        return ""
    }
}
