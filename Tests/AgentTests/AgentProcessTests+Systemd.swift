import Foundation
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// The real `flotilla-agent` as a `Type=notify` unit with `WatchdogSec=`: the test plays
/// systemd's notify socket.
extension AgentProcessTests {
    func testAgentNotifiesReadyThenKeepsTheWatchdogAliveThenStopping() async throws {
        let broker = try XCTUnwrap(broker)
        let dir = try AgentFixtures.temporaryDirectory("notify")
        let config = try writeConfig(in: dir, port: broker.port)
        let log = dir.appendingPathComponent("agent.log")
        let address = "@flotilla-agent-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let receiver = try NotifySocketReceiver(address: address)

        // 400 ms deadline: keep-alives every 200 ms.
        let agent = try launch(config: config, log: log, environment: ["NOTIFY_SOCKET": address, "WATCHDOG_USEC": "400000"])
        let deadline = Date().addingTimeInterval(60)
        let received = receiver.collect(until: deadline) { got in got.filter { $0.hasPrefix("WATCHDOG=1\n") }.count >= 3 }
        let ready = try XCTUnwrap(received.first, "no notification; log: \(Self.text(log))")
        XCTAssertTrue(ready.hasPrefix("READY=1\nSTATUS="), ready)
        XCTAssertTrue(ready.contains("idle, serving no model"), ready)
        let pings = received.dropFirst()
        XCTAssertGreaterThanOrEqual(pings.count, 3, "received: \(received); log: \(Self.text(log))")
        for ping in pings {
            XCTAssertTrue(ping.hasPrefix("WATCHDOG=1\nSTATUS="), ping)
            XCTAssertFalse(ping.contains("READY=1"), "READY is sent once: \(ping)")
        }

        kill(agent.processIdentifier, SIGTERM)
        let rest = receiver.collect(until: Date().addingTimeInterval(30)) { $0.contains("STOPPING=1\n") }
        agent.waitForExit()
        XCTAssertEqual(agent.terminationStatus, 0, "log: \(Self.text(log))")
        XCTAssertTrue(rest.contains("STOPPING=1\n"), "after SIGTERM: \(rest)")
        // Nothing pings after STOPPING=1 (the keep-alive task is cancelled first).
        let after = rest.drop(while: { $0 != "STOPPING=1\n" }).dropFirst()
        XCTAssertTrue(after.allSatisfy { !$0.contains("WATCHDOG=1") }, "\(rest)")
    }
}
