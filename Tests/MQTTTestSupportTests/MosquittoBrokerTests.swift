import Foundation
import Glibc
import MQTTTestSupport
import XCTest

/// The broker's lifecycle, checked with the real mosquitto_pub/mosquitto_sub clients.
final class MosquittoBrokerTests: XCTestCase {
    func testPlaintextRoundTrip() async throws {
        let broker = try await MosquittoBroker.start()
        XCTAssertEqual(broker.host, "127.0.0.1")
        XCTAssertTrue(broker.isRunning)
        XCTAssertTrue(broker.directory.lastPathComponent.hasPrefix("flotilla-test-broker-"))
        let config = try String(contentsOf: broker.configurationFile, encoding: .utf8)
        XCTAssertTrue(config.contains("listener \(broker.port) 127.0.0.1\n"), config)
        XCTAssertTrue(config.contains("allow_anonymous true\n"), config)

        let client = MosquittoClient(broker)
        let (received, _) = try await client.roundTrip("flotilla/test/hello", "hello-1")
        XCTAssertEqual(received.status, 0, "\(received)\n\(broker.log)")
        XCTAssertEqual(received.output, "flotilla/test/hello hello-1\n")
        XCTAssertTrue(broker.log.contains("New client connected from 127.0.0.1"), broker.log)
    }

    func testRestartKeepsThePortAndAcceptsAgain() async throws {
        let broker = try await MosquittoBroker.start()
        let port = broker.port
        let firstPID = try XCTUnwrap(broker.processIdentifier)
        try await broker.restart()
        XCTAssertEqual(broker.port, port)
        XCTAssertTrue(broker.isRunning)
        XCTAssertNotEqual(broker.processIdentifier, firstPID)
        XCTAssertFalse(Self.processExists(firstPID), "the first broker process survived restart()")

        let (received, _) = try await MosquittoClient(broker).roundTrip("after/restart", "again")
        XCTAssertEqual(received.output, "after/restart again\n", "\(received)\n\(broker.log)")
        let runningLines = broker.log.split(separator: "\n").filter { $0.hasSuffix(" running") }
        XCTAssertEqual(runningLines.count, 2, broker.log)
    }

    func testRetainedMessageSurvivesStopAndRestartWithPersistence() async throws {
        var options = MosquittoBroker.Options()
        options.persistence = true
        let broker = try await MosquittoBroker.start(options)
        let client = MosquittoClient(broker)
        let published = try await client.publish("devices/a/desired", "release-7", retain: true)
        XCTAssertEqual(published.status, 0, "\(published)")

        try await broker.stop()
        XCTAssertFalse(broker.isRunning)
        let database = broker.directory.appendingPathComponent("persistence/mosquitto.db")
        XCTAssertTrue(FileManager.default.fileExists(atPath: database.path), "stop() left no database:\n\(broker.log)")

        try await broker.restart()
        let received = try await client.subscribe("devices/+/desired")
        XCTAssertEqual(received.status, 0, "\(received)\n\(broker.log)")
        XCTAssertEqual(received.output, "devices/a/desired release-7\n")
    }

    /// The counterpart of the test above: without persistence the retained message is gone, so
    /// that test really measures persistence.
    func testRetainedMessageIsLostOnRestartWithoutPersistence() async throws {
        let broker = try await MosquittoBroker.start()
        let client = MosquittoClient(broker)
        _ = try await client.publish("devices/a/desired", "release-7", retain: true)
        let before = try await client.subscribe("devices/a/desired")
        XCTAssertEqual(before.output, "devices/a/desired release-7\n", "\(before)")

        try await broker.restart()
        let after = try await client.subscribe("devices/a/desired", seconds: 1)
        XCTAssertEqual(after.status, 27, "mosquitto_sub should time out with nothing retained: \(after)")
        XCTAssertEqual(after.output, "")
    }

    func testKillThenRestartWorksAndSkipsTheSave() async throws {
        var options = MosquittoBroker.Options()
        options.persistence = true
        let broker = try await MosquittoBroker.start(options)
        let client = MosquittoClient(broker)
        _ = try await client.publish("crash/retained", "unsaved", retain: true)
        let pid = try XCTUnwrap(broker.processIdentifier)

        broker.kill()
        XCTAssertFalse(broker.isRunning)
        XCTAssertFalse(Self.processExists(pid))
        XCTAssertFalse(broker.log.contains("Saving in-memory database"), broker.log)

        try await broker.restart()
        XCTAssertTrue(broker.isRunning)
        let (received, _) = try await client.roundTrip("crash/after", "alive")
        XCTAssertEqual(received.output, "crash/after alive\n", "\(received)\n\(broker.log)")
        // A crash loses what was never saved (autosave runs every 30 minutes by default).
        let lost = try await client.subscribe("crash/retained", seconds: 1)
        XCTAssertEqual(lost.status, 27, "\(lost)")
    }

    func testStopLeavesNoProcess() async throws {
        let broker = try await MosquittoBroker.start()
        let pid = try XCTUnwrap(broker.processIdentifier)
        XCTAssertTrue(Self.processExists(pid))
        let commandLine = try Self.commandLine(of: pid)
        XCTAssertTrue(commandLine.contains("flotilla-test-broker-"), "cannot be found by pkill -f: \(commandLine)")

        try await broker.stop()
        XCTAssertFalse(broker.isRunning)
        XCTAssertNil(broker.processIdentifier)
        XCTAssertFalse(Self.processExists(pid), "pid \(pid) still exists after stop()")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/proc/\(pid)"))
        XCTAssertTrue(broker.log.contains("terminating"), broker.log)
        try await broker.stop()  // a second stop is a no-op
    }

    func testReleasingTheBrokerKillsItAndRemovesItsDirectory() async throws {
        var broker: MosquittoBroker? = try await MosquittoBroker.start()
        let pid = try XCTUnwrap(broker?.processIdentifier)
        let directory = try XCTUnwrap(broker?.directory)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.path))
        broker = nil
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.path))
        // SIGKILL was sent by deinit; the exit and reaping happen right after.
        var exists = Self.processExists(pid)
        for _ in 0..<200 where exists {
            try await Task.sleep(for: .milliseconds(10))
            exists = Self.processExists(pid)
        }
        XCTAssertFalse(exists, "pid \(pid) survived the release of its broker")
    }

    func testConcurrentStartsGetDistinctPorts() async throws {
        let brokers = try await withThrowingTaskGroup(of: MosquittoBroker.self) { group in
            for _ in 0..<4 { group.addTask { try await MosquittoBroker.start() } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(Set(brokers.map(\.port)).count, 4)
        for broker in brokers {
            XCTAssertTrue(broker.isRunning)
            let (received, _) = try await MosquittoClient(broker).roundTrip("port/\(broker.port)", "ok")
            XCTAssertEqual(received.output, "port/\(broker.port) ok\n", "\(received)")
        }
    }

    func testStartRaisesTheOpenFileLimitForTestsAndBroker() async throws {
        let broker = try await MosquittoBroker.start()
        var limit = rlimit()
        XCTAssertEqual(getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit), 0)
        if limit.rlim_max != rlim_t.max {
            XCTAssertEqual(limit.rlim_cur, limit.rlim_max, "soft open-file limit was not raised to the hard limit")
        }
        XCTAssertGreaterThan(limit.rlim_cur, 3000, "1000 clients need more than 3000 descriptors")
        let pid = try XCTUnwrap(broker.processIdentifier)
        let limits = try String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)
        let line = try XCTUnwrap(limits.split(separator: "\n").first { $0.hasPrefix("Max open files") })
        let soft = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst(3).first
        XCTAssertEqual(soft.map(String.init), String(limit.rlim_cur), "the broker did not inherit the raised limit: \(line)")
    }

    func testBadConfigFailsWithTheLogAndConfigPath() async throws {
        var options = MosquittoBroker.Options()
        options.extraConfig = ["no_such_option 1"]
        do {
            let broker = try await MosquittoBroker.start(options)
            XCTFail("a broker started with an unknown option on port \(broker.port)")
        } catch let error as MosquittoBrokerError {
            XCTAssertEqual(error.code, .brokerExited)
            let configPath = try XCTUnwrap(error.configPath)
            XCTAssertTrue(configPath.contains("flotilla-test-broker-"), configPath)
            XCTAssertTrue(error.description.contains("Unknown configuration variable \"no_such_option\""), error.description)
            XCTAssertTrue(error.description.contains(configPath))
            // The directory is kept so the config can be read; this test cleans up after itself.
            XCTAssertTrue(FileManager.default.fileExists(atPath: configPath))
            try FileManager.default.removeItem(atPath: (configPath as NSString).deletingLastPathComponent)
        }
    }

    func testInvalidUsernameIsRejectedBeforeStarting() async throws {
        var options = MosquittoBroker.Options()
        options.users = ["a:b": "pw"]
        do {
            _ = try await MosquittoBroker.start(options)
            XCTFail("a username with ':' was accepted")
        } catch let error as MosquittoBrokerError {
            XCTAssertEqual(error.code, .invalidOptions)
            XCTAssertTrue(error.message.contains("\"a:b\""), error.message)
        }
    }

    static func processExists(_ pid: Int32) -> Bool {
        Glibc.kill(pid, 0) == 0 || errno != ESRCH
    }

    static func commandLine(of pid: Int32) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))
        return String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
    }
}

/// Children must be able to receive SIGTERM and SIGALRM whichever thread launched them.
final class ChildProcessTests: XCTestCase {
    func testChildStartsWithNoBlockedSignals() async throws {
        let result = try await MosquittoClient.run("grep", ["SigBlk", "/proc/self/status"])
        XCTAssertEqual(result.status, 0, "\(result)")
        XCTAssertEqual(result.output.split(separator: "\t").last.map(String.init), "0000000000000000\n", "\(result)")
    }
}

/// restart() keeps its port, so a port taken meanwhile must be reported, not silently changed.
final class MosquittoBrokerPortTests: XCTestCase {
    func testRestartReportsAPortTakenWhileStoppedAndRecoversOnceFree() async throws {
        let broker = try await MosquittoBroker.start()
        let port = broker.port
        try await broker.stop()
        let squatter = try Self.listen(on: port)
        do {
            try await broker.restart()
            close(squatter)
            XCTFail("restart() succeeded on port \(port) although another socket listens there")
        } catch let error as MosquittoBrokerError {
            close(squatter)
            XCTAssertEqual(error.code, .portInUse, error.description)
            XCTAssertTrue(error.description.contains("port \(port)"), error.description)
            XCTAssertTrue(error.description.contains("Address already in use"), error.description)
            XCTAssertEqual(error.configPath, broker.configurationFile.path)
        }
        XCTAssertFalse(broker.isRunning)
        try await broker.restart()
        XCTAssertEqual(broker.port, port)
        let (received, _) = try await MosquittoClient(broker).roundTrip("port/back", "ok")
        XCTAssertEqual(received.output, "port/back ok\n", "\(received)\n\(broker.log)")
    }

    /// A listening socket on 127.0.0.1:`port`, without SO_REUSEADDR so mosquitto cannot share it.
    static func listen(on port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, bound == 0, Glibc.listen(fd, 1) == 0 else {
            if fd >= 0 { close(fd) }
            throw XCTSkip("could not occupy port \(port) for the test (errno \(errno))")
        }
        return fd
    }
}
