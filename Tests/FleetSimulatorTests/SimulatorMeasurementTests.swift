import FleetProtocol
import FleetSimulator
import Foundation
import MQTTTestSupport
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// The figures of docs/simulator.md, taken on a built `flotilla` binary (a release build) run as
/// a child process, with this test as the coordinator: skipped unless FLOTILLA_MEASURE_BIN
/// names the binary. The simulated devices commit a digits-sized release, then run their
/// workload; the test reports process memory and whether every device stayed online.
///
///     swift build -c release --product flotilla
///     FLOTILLA_MEASURE_BIN=.build/release/flotilla FLOTILLA_MEASURE_DEVICES=1000 \
///     FLOTILLA_MEASURE_RATE=1 swift test --filter SimulatorMeasurementTests
///
/// FLOTILLA_MEASURE_HOLD (seconds, default 60): how long the loaded fleet is watched.
final class SimulatorMeasurementTests: XCTestCase {
    func testMemoryAndLivenessOfAFleetWithACommittedModel() async throws {
        let env = ProcessInfo.processInfo.environment
        guard let binary = env["FLOTILLA_MEASURE_BIN"] else { throw XCTSkip("set FLOTILLA_MEASURE_BIN to a built flotilla binary") }
        let devices = Int(env["FLOTILLA_MEASURE_DEVICES"] ?? "") ?? 100
        let rate = env["FLOTILLA_MEASURE_RATE"] ?? "0"
        let hold = Double(env["FLOTILLA_MEASURE_HOLD"] ?? "") ?? 60
        // The broker inherits this process's limit: a thousand connections need more than 1024.
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)

        let broker = try await MosquittoBroker.start()
        let coordinator = try await CoordinatorStandIn(port: broker.port)
        let dir = try SimulatorFixtures.temporaryDirectory("measure")
        let key = dir.appendingPathComponent("pub.pem"), status = dir.appendingPathComponent("status.json")
        try SimulatorFixtures.signingKey.publicKey.pemRepresentation.write(to: key, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "simulate", "--broker", "mqtt://127.0.0.1:\(broker.port)", "--devices", "\(devices)", "--classes",
            "x86_64-avx2:1,arm64-dotprod:1", "--rate", rate, "--telemetry-interval", "10s", "--data-dir",
            dir.appendingPathComponent("fleet").path, "--pinned-key", key.path, "--json-status", status.path,
        ]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        let log = dir.appendingPathComponent("stderr.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        defer {
            if process.isRunning { process.terminate() }
        }
        func summary() -> FleetSummary? {
            (try? Data(contentsOf: status)).flatMap { try? JSONDecoder().decode(FleetSummary.self, from: $0) }
        }
        let pid = process.processIdentifier

        let up = await eventually(300) { summary().map { $0.started == devices && $0.online == devices } ?? false }
        XCTAssertTrue(up, "not all online: \(String(describing: summary()?.line))")
        try await Task.sleep(for: .seconds(10))
        let idle = Self.processFigures(pid)

        // One release per class, digits-sized, to every device.
        let ids = (0..<devices).map { i in "sim-\(String(repeating: "0", count: max(0, 4 - String(i + 1).count)))\(i + 1)" }
        let classes = try ClassMix.parse("x86_64-avx2:1,arm64-dotprod:1").assign(count: devices)
        var releases: [String: SimulatorFixtures.Release] = [:]
        for c in Set(classes) { releases[c] = try SimulatorFixtures.release(sequence: 1, hardwareClass: c, shape: .digits) }
        let rolloutStart = ContinuousClock.now
        for (id, c) in zip(ids, classes) {
            try await coordinator.publishDesired(deviceID: id, sequence: 1, release: try XCTUnwrap(releases[c]))
        }
        // Committed, or past the (empty) watch window: idle on release 1.
        let committed = await eventually(900) {
            summary().map { s in
                s.cells.filter { $0.release == "1" && ["committed", "idle"].contains($0.phase) }.reduce(0) { $0 + $1.devices } == devices
            }
                ?? false
        }
        let rolloutSeconds = (ContinuousClock.now - rolloutStart).components.seconds
        XCTAssertTrue(committed, "not all committed: \(String(describing: summary()?.line))")
        try await Task.sleep(for: .seconds(10))
        let loaded = Self.processFigures(pid)

        // Watch the loaded fleet: every device must stay online while its workload runs.
        var minOnline = devices
        let telemetryBefore = coordinator.recorded.withLock { $0.telemetry.count }
        let watchStart = ContinuousClock.now
        while ContinuousClock.now - watchStart < .seconds(hold) {
            if let s = summary() { minOnline = min(minOnline, s.online) }
            try await Task.sleep(for: .seconds(1))
        }
        let after = Self.processFigures(pid)
        let window = coordinator.recorded.withLock { Array($0.telemetry.dropFirst(telemetryBefore)) }
        let inferences = window.reduce(UInt64(0)) { $0 + $1.inferences }
        let span = Double((window.map(\.windowEndMs).max() ?? 0) - (window.map(\.windowStartMs).min() ?? 0)) / 1000
        let p95 = window.compactMap { $0.latencyUs.percentile(0.95) }.sorted()
        let wills = coordinator.recorded.withLock { r in r.onlineLog.values.reduce(0) { $0 + $1.filter { !$0.online }.count } }

        process.interrupt()
        let exited = await eventually(120) { !process.isRunning }
        XCTAssertTrue(exited)
        await coordinator.close()
        try await broker.stop()

        print(
            """
            MEASURE devices=\(devices) rate=\(rate)/s: idle rss=\(idle.rssMB) MB threads=\(idle.threads) fds=\(idle.fds); \
            committed in \(rolloutSeconds) s; loaded rss=\(loaded.rssMB) MB threads=\(loaded.threads); \
            after \(Int(hold)) s rss=\(after.rssMB) MB cpu=\(after.cpuSeconds - loaded.cpuSeconds) s; \
            min online \(minOnline)/\(devices), offline statuses seen \(wills); \
            telemetry \(window.count) windows, \(inferences) inferences (\(span > 0 ? Double(inferences) / span : 0)/s over the windows), \
            median device p95 \(p95.isEmpty ? 0 : p95[p95.count / 2]) us
            """)
        XCTAssertEqual(minOnline, devices, "devices went offline under load")
    }

    /// RSS (MB), threads and open descriptors of `pid`, and its CPU time (user + system, s).
    static func processFigures(_ pid: Int32) -> (rssMB: Double, threads: Int, fds: Int, cpuSeconds: Double) {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Double {
            for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
                return Double(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") ?? 0
            }
            return 0
        }
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        // Fields after the command's closing parenthesis: utime is the 12th, stime the 13th.
        let rest = stat.split(separator: ")").last.map { $0.split(separator: " ") } ?? []
        let ticks = (rest.count > 12 ? (Double(rest[11]) ?? 0) + (Double(rest[12]) ?? 0) : 0)
        return ((field("VmRSS") / 1024 * 10).rounded() / 10, Int(field("Threads")), fds, ticks / Double(sysconf(Int32(_SC_CLK_TCK))))
    }
}
