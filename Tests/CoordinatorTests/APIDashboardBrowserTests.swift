import Coordinator
import Foundation
import MQTTTestSupport
import XCTest

/// The dashboard in a real browser: headless Chromium (Debian's `chromium`) loads `/` with the
/// token in the fragment, runs the page's script against the API and dumps the DOM.
final class APIDashboardBrowserTests: XCTestCase {
    static let chromiumPaths = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]

    func testDashboardShowsTheRolloutItsWavesAndPlotsPerClass() async throws {
        guard let chromium = Self.chromiumPaths.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip(
                "chromium is not installed (apt-get install -y chromium; scripts/lib/setup.sh installs it): the dashboard is not tested in a browser"
            )
        }
        let api = try await APITestServer.start()
        defer { Task { await api.stop() } }
        let token = try XCTUnwrap(APITestServer.tokens["alice"])
        let dom = try Self.dumpDOM(chromium: chromium, url: "\(api.baseURL.absoluteString)/#token=\(token)", profile: api.directory)

        XCTAssertTrue(dom.contains(#"<div id="error"></div>"#), "the page shows an error (token not taken from the fragment?)")
        XCTAssertTrue(dom.contains(#"data-rollout="r-7""#), "the rollout is not shown:\n\(dom.prefix(3000))")
        XCTAssertTrue(dom.contains("r-7 — digits 2.0 — running (wave 2 of 4)"))
        for wave in 1...4 { XCTAssertTrue(dom.contains("<td>wave \(wave)</td>"), "wave \(wave) missing") }
        XCTAssertTrue(dom.contains("deploying"))
        XCTAssertTrue(dom.contains(#"<span class="fail">FAIL</span>"#), "the failed gate check is not shown")
        // Devices per class and release: 2 x86 on 2.0, 2 x86 on 1.0, 1 arm on each.
        XCTAssertTrue(dom.contains("<td>x86-avx2</td><td>digits 2.0</td><td class=\"num\">2</td>"), "device table wrong")

        // One p95 and one accuracy plot per class, each with a polyline per release of 8 points.
        for cls in ["x86-avx2", "arm64-dot"] {
            for metric in ["p95", "accuracy"] {
                let svg = try XCTUnwrap(Self.svg(in: dom, cls: cls, metric: metric), "no \(metric) plot for \(cls)")
                let polylines = Self.matches(#"<polyline [^>]*>"#, in: svg)
                XCTAssertEqual(polylines.count, 2, "\(cls) \(metric): \(svg)")
                for (line, release) in zip(polylines, ["digits 1.0", "digits 2.0"]) {
                    XCTAssertTrue(line.contains(#"data-release="\#(release)""#), line)
                    let points = Self.matches(#"points="[^"]*""#, in: line).first ?? ""
                    XCTAssertEqual(points.split(separator: " ").count, 8, line)
                }
            }
        }
        let calls = await api.operations.calls
        XCTAssertTrue(Set(calls.map(\.operation)).isSuperset(of: ["listDevices", "listRollouts", "telemetry"]))
        XCTAssertTrue(calls.allSatisfy { $0.actor == "alice" })
    }

    static func dumpDOM(chromium: String, url: String, profile: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--user-data-dir=\(profile.appendingPathComponent("chromium").path)", "--virtual-time-budget=5000", "--dump-dom", url,
        ]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Read before waiting: the DOM can exceed the pipe buffer.
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitForExit()
        XCTAssertEqual(process.terminationStatus, 0, "chromium exited with \(process.terminationStatus)")
        return String(decoding: data, as: UTF8.self)
    }

    static func svg(in dom: String, cls: String, metric: String) -> String? {
        matches(#"<svg [^>]*>.*?</svg>"#, in: dom).first { open in
            let tag = open.prefix { $0 != ">" }
            return tag.contains(#"data-class="\#(cls)""#) && tag.contains(#"data-metric="\#(metric)""#)
        }
    }

    static func matches(_ pattern: String, in text: String) -> [String] {
        guard let regex = try? NSRegularExpression(pattern: pattern, options: [.dotMatchesLineSeparators]) else { return [] }
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
            Range($0.range, in: text).map { String(text[$0]) }
        }
    }
}
