import Foundation
import ProcessSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// The sd_notify framing and the watchdog's reading of systemd's environment.
final class SystemdNotifierTests: XCTestCase {
    func testMessageIsOneAssignmentPerLine() {
        XCTAssertEqual(SystemdNotifier.message([.ready, .status("serving release 3")]), "READY=1\nSTATUS=serving release 3\n")
        XCTAssertEqual(SystemdNotifier.message([.watchdog]), "WATCHDOG=1\n")
        XCTAssertEqual(SystemdNotifier.message([.stopping]), "STOPPING=1\n")
        XCTAssertEqual(SystemdNotifier.message([]), "")
    }

    func testNewlinesInAStatusCannotInjectAnAssignment() {
        XCTAssertEqual(SystemdNotifier.message([.status("ok\nREADY=1\r\nx")]), "STATUS=ok READY=1 x\n")
    }

    func testWithoutNotifySocketEverySendIsANoOp() throws {
        let notifier = SystemdNotifier(environment: [:])
        XCTAssertFalse(notifier.isEnabled)
        try notifier.send([.ready])
        XCTAssertFalse(SystemdNotifier(environment: ["NOTIFY_SOCKET": ""]).isEnabled)
    }

    func testDatagramReachesAPathSocketByteForByte() throws {
        let path = "/tmp/fl-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        let receiver = try NotifySocketReceiver(address: path)
        try SystemdNotifier(environment: ["NOTIFY_SOCKET": path]).send([.ready, .status("a b")])
        XCTAssertEqual(receiver.receive(until: Date().addingTimeInterval(10)), "READY=1\nSTATUS=a b\n")
    }

    func testDatagramReachesAnAbstractSocket() throws {
        let name = "@flotilla-notify-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let receiver = try NotifySocketReceiver(address: name)
        try SystemdNotifier(environment: ["NOTIFY_SOCKET": name]).send([.watchdog])
        XCTAssertEqual(receiver.receive(until: Date().addingTimeInterval(10)), "WATCHDOG=1\n")
    }

    func testBadAddressesAreNamedErrors() {
        for address in ["relative/path", "@", "/" + String(repeating: "x", count: 200)] {
            XCTAssertThrowsError(try SystemdNotifier(environment: ["NOTIFY_SOCKET": address]).send([.ready])) { error in
                guard case .badAddress(let named, _) = error as? SystemdNotifyError else { return XCTFail("\(error)") }
                XCTAssertEqual(named, address)
            }
        }
        let missing = "/tmp/fl-notify-missing-\(getpid()).sock"
        XCTAssertThrowsError(try SystemdNotifier(environment: ["NOTIFY_SOCKET": missing]).send([.ready])) { error in
            XCTAssertTrue("\(error)".contains(missing), "\(error)")
        }
    }

    func testWatchdogReadsItsDeadlineAndHalvesIt() throws {
        let pid = getpid()
        let watchdog = try XCTUnwrap(SystemdWatchdog(environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "\(pid)"], pid: pid))
        XCTAssertEqual(watchdog.deadline, .seconds(30))
        XCTAssertEqual(watchdog.keepAliveInterval, .seconds(15))
        XCTAssertNotNil(SystemdWatchdog(environment: ["WATCHDOG_USEC": "1000"], pid: pid))
    }

    func testNoWatchdogWhenUnsetZeroGarbageOrForAnotherProcess() {
        XCTAssertNil(SystemdWatchdog(environment: [:], pid: 10))
        XCTAssertNil(SystemdWatchdog(environment: ["WATCHDOG_USEC": "0"], pid: 10))
        XCTAssertNil(SystemdWatchdog(environment: ["WATCHDOG_USEC": "-5"], pid: 10))
        XCTAssertNil(SystemdWatchdog(environment: ["WATCHDOG_USEC": "30s"], pid: 10))
        XCTAssertNil(SystemdWatchdog(environment: ["WATCHDOG_USEC": "1000", "WATCHDOG_PID": "11"], pid: 10))
    }

    /// A probe that never returns (a hung actor) sends no keep-alive at all.
    func testAHungProbeStopsTheKeepAlives() async throws {
        let name = "@flotilla-notify-hung-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let receiver = try NotifySocketReceiver(address: name)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": name])
        let answered = SystemdWatchdog.start(notifier: notifier, environment: ["WATCHDOG_USEC": "20000"]) { "fine" }
        let first = receiver.receive(until: Date().addingTimeInterval(10))
        answered?.cancel()
        XCTAssertEqual(first, "WATCHDOG=1\nSTATUS=fine\n")
        _ = await answered?.value
        while receiver.receive(until: Date().addingTimeInterval(0.3)) != nil {}

        let hung = SystemdWatchdog.start(notifier: notifier, environment: ["WATCHDOG_USEC": "20000"]) {
            // Sleeps until cancelled: the stand-in for an actor that never answers.
            try? await Task.sleep(for: .seconds(3600))
            return nil
        }
        XCTAssertNotNil(hung)
        XCTAssertNil(receiver.receive(until: Date().addingTimeInterval(1)), "a hung probe must not be covered by keep-alives")
        hung?.cancel()
        _ = await hung?.value
    }
}
