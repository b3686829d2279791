import Foundation
import Glibc
import MQTTTestSupport
import Synchronization

/// The real mosquitto_pub and mosquitto_sub, run as child processes against a test broker.
///
/// Every run is bounded: mosquitto_sub gets `-W`, and every process is terminated if it is
/// still running after `limit`, so a broken broker fails a test instead of hanging it.
struct MosquittoClient {
    struct Result: CustomStringConvertible {
        let status: Int32
        let output: String
        let errors: String
        var description: String { "status \(status), stdout \(output.debugDescription), stderr \(errors.debugDescription)" }
    }

    let broker: MosquittoBroker
    /// Connection arguments added to every command (credentials, TLS files).
    var connection: [String] = []

    init(_ broker: MosquittoBroker, connection: [String] = []) {
        self.broker = broker
        self.connection = connection
    }

    func publish(_ topic: String, _ message: String, retain: Bool = false, qos: Int = 1) async throws -> Result {
        try await Self.run(
            "mosquitto_pub",
            ["-h", broker.host, "-p", String(broker.port), "-t", topic, "-m", message, "-q", String(qos)]
                + (retain ? ["-r"] : []) + connection)
    }

    /// Subscribes, prints each message as "topic payload", exits after `count` messages or
    /// after `seconds` without enough of them (mosquitto_sub's status 27).
    func subscribe(_ topic: String, count: Int = 1, seconds: Int = 5) async throws -> Result {
        try await Self.run(
            "mosquitto_sub",
            ["-h", broker.host, "-p", String(broker.port), "-t", topic, "-C", String(count), "-W", String(seconds), "-v", "-q", "1"]
                + connection,
            limit: .seconds(seconds + 10))
    }

    /// Subscribes to `topic` while publishing `message` to it every 100 ms until the
    /// subscriber has it: no need to know when the subscription became active.
    func roundTrip(_ topic: String, _ message: String, seconds: Int = 5) async throws -> (subscriber: Result, lastPublish: Result?) {
        async let subscriber = subscribe(topic, seconds: seconds)
        let done = Flag()
        async let publisher: Result? = {
            var last: Result?
            let deadline = ContinuousClock.now + .seconds(seconds)
            while !done.isSet, ContinuousClock.now < deadline {
                last = try await publish(topic, message, qos: 0)
                try await Task.sleep(for: .milliseconds(100))
            }
            return last
        }()
        let received = try await subscriber
        done.set()
        return (received, try await publisher)
    }

    /// Runs `tool` to completion, with output captured in temporary files (no pipe to fill up).
    static func run(_ tool: String, _ arguments: [String], limit: Duration = .seconds(15)) async throws -> Result {
        let fm = FileManager.default
        let stem = fm.temporaryDirectory.appendingPathComponent("flotilla-client-\(UUID().uuidString)")
        let outURL = stem.appendingPathExtension("out")
        let errURL = stem.appendingPathExtension("err")
        _ = fm.createFile(atPath: outURL.path, contents: nil)
        _ = fm.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? fm.removeItem(at: outURL)
            try? fm.removeItem(at: errURL)
        }
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool.hasPrefix("/") ? tool : "/usr/bin/\(tool)")
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try ChildProcess.launch(process)
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
                return
            }
            // SIGTERM at the limit, SIGKILL two seconds later if that was not enough.
            let pid = process.processIdentifier
            DispatchQueue.global().asyncAfter(deadline: .now() + Self.seconds(limit)) {
                guard process.isRunning else { return }
                process.terminate()
                DispatchQueue.global().asyncAfter(deadline: .now() + 2) {
                    if process.isRunning { Glibc.kill(pid, SIGKILL) }
                }
            }
        }
        try? out.close()
        try? err.close()
        return Result(
            status: status,
            output: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
            errors: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// A flag set once by one task and read by another.
final class Flag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}
