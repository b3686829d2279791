import FleetProtocol
import Foundation
import XCTest

@testable import Coordinator

final class StoreDeviceTests: StoreTestCase {
    func testStateReportCreatesDeviceAndStaleReportsAreIgnored() throws {
        let store = try open()
        let rollback = RollbackRecord(
            releaseSequence: 3, artifactDigest: "d3",
            reason: FailureReason(code: .watchdogRegression, detail: "slow", metric: "latencyP99Us", measured: 900, threshold: 500),
            atMs: 77)
        XCTAssertTrue(
            try store.applyStateReport(
                report("dev-1", sequence: 5, running: running(2), desiredSequence: 4, rollback: rollback), receivedAtMs: 10_000))
        var device = try XCTUnwrap(try store.device("dev-1"))
        XCTAssertEqual(device.running, running(2))
        XCTAssertEqual(device.lastStateSequence, 5)
        XCTAssertEqual(device.acceptedDesiredSequence, 4)
        XCTAssertEqual(device.lastRollback, rollback)
        XCTAssertEqual(device.agentVersion, "1.0.5")
        XCTAssertEqual(device.firstSeenMs, 10_000)
        XCTAssertEqual(device.lastSeenMs, 10_000)
        XCTAssertFalse(device.online)

        // Older and equal sequences change nothing.
        XCTAssertFalse(try store.applyStateReport(report("dev-1", sequence: 4, running: running(1)), receivedAtMs: 20_000))
        XCTAssertFalse(try store.applyStateReport(report("dev-1", sequence: 5, running: nil), receivedAtMs: 20_000))
        XCTAssertEqual(try store.device("dev-1"), device)

        XCTAssertTrue(
            try store.applyStateReport(
                report("dev-1", sequence: 6, hardwareClass: "arm-dot", running: nil, phase: "downloading"), receivedAtMs: 15_000))
        device = try XCTUnwrap(try store.device("dev-1"))
        XCTAssertNil(device.running)
        XCTAssertNil(device.lastRollback)
        XCTAssertEqual(device.phase, "downloading")
        XCTAssertEqual(device.hardwareClass, "arm-dot")
        XCTAssertEqual(device.lastSeenMs, 15_000)
        XCTAssertEqual(device.firstSeenMs, 10_000)
    }

    func testReportNeverOverwritesLabelsAndLastSeenNeverGoesBack() throws {
        let store = try open()
        XCTAssertTrue(try store.applyStateReport(report("dev-1", sequence: 1), receivedAtMs: 10_000))
        try store.setLabels(["site": "lab", "example.com/tier": "canary"], deviceID: "dev-1")
        XCTAssertTrue(try store.applyStateReport(report("dev-1", sequence: 2), receivedAtMs: 9_000))
        let device = try XCTUnwrap(try store.device("dev-1"))
        XCTAssertEqual(device.labels, ["site": "lab", "example.com/tier": "canary"])
        XCTAssertEqual(device.lastSeenMs, 10_000)
        XCTAssertTrue(try store.touchDevice("dev-1", seenAtMs: 12_000))
        XCTAssertTrue(try store.touchDevice("dev-1", seenAtMs: 11_000))
        XCTAssertEqual(try store.device("dev-1")?.lastSeenMs, 12_000)
        XCTAssertFalse(try store.touchDevice("nobody", seenAtMs: 1))
    }

    func testOnlineStatusSupersession() throws {
        let store = try open()
        func status(_ online: Bool, _ connection: UInt64) -> OnlineStatus {
            OnlineStatus(deviceID: "dev-1", online: online, connectionSequence: connection, hardwareClass: "x86-avx2", atMs: 0)
        }
        XCTAssertTrue(try store.applyOnlineStatus(status(true, 2), receivedAtMs: 100))
        XCTAssertEqual(try store.device("dev-1")?.online, true)
        XCTAssertEqual(try store.device("dev-1")?.hardwareClass, "x86-avx2")
        // A late will of the previous connection does not mark the device offline.
        XCTAssertFalse(try store.applyOnlineStatus(status(false, 1), receivedAtMs: 200))
        XCTAssertEqual(try store.device("dev-1")?.online, true)
        // A duplicate online of the same connection changes nothing.
        XCTAssertFalse(try store.applyOnlineStatus(status(true, 2), receivedAtMs: 300))
        XCTAssertEqual(try store.device("dev-1")?.lastSeenMs, 100)
        // The will of the current connection does; it is the broker speaking, not the device.
        XCTAssertTrue(try store.applyOnlineStatus(status(false, 2), receivedAtMs: 400))
        var device = try XCTUnwrap(try store.device("dev-1"))
        XCTAssertFalse(device.online)
        XCTAssertEqual(device.lastSeenMs, 100)
        // A replayed online after its own will stays ignored; the next connection wins.
        XCTAssertFalse(try store.applyOnlineStatus(status(true, 2), receivedAtMs: 500))
        XCTAssertTrue(try store.applyOnlineStatus(status(true, 3), receivedAtMs: 600))
        device = try XCTUnwrap(try store.device("dev-1"))
        XCTAssertTrue(device.online)
        XCTAssertEqual(device.connectionSequence, 3)
        XCTAssertEqual(device.lastSeenMs, 600)
        XCTAssertNil(device.agentVersion)

        // A state report of a device known only from its online status keeps the liveness.
        XCTAssertTrue(try store.applyStateReport(report("dev-1", sequence: 1), receivedAtMs: 700))
        XCTAssertEqual(try store.device("dev-1")?.online, true)
        XCTAssertEqual(try store.device("dev-1")?.connectionSequence, 3)
    }

    func testLabelsSetRemoveAndValidation() throws {
        let store = try open()
        XCTAssertTrue(try store.applyStateReport(report("dev-1", sequence: 1), receivedAtMs: 1))
        try store.setLabels(["site": "lab", "ring": "0"], deviceID: "dev-1")
        try store.setLabels(["site": "field"], deviceID: "dev-1")
        XCTAssertEqual(try store.device("dev-1")?.labels, ["site": "field", "ring": "0"])
        try store.removeLabels(["ring", "absent"], deviceID: "dev-1")
        XCTAssertEqual(try store.device("dev-1")?.labels, ["site": "field"])

        guard case .notFound(let kind, let key) = storeError({ try store.setLabels(["a": "b"], deviceID: "ghost") }) else {
            return XCTFail()
        }
        XCTAssertEqual([kind, key], ["device", "ghost"])
        for bad in [["class": "x"], ["id": "y"], ["bad key": "v"], ["k": "has space"], ["-k": "v"], ["Upper.Case/k": "v"]] {
            guard case .invalid(let field, let detail) = storeError({ try store.setLabels(bad, deviceID: "dev-1") }) else {
                return XCTFail("\(bad) accepted")
            }
            XCTAssertEqual(field, "label")
            XCTAssertTrue(detail.contains(bad.keys.first!) || detail.contains(bad.values.first!), detail)
        }
        XCTAssertEqual(try store.device("dev-1")?.labels, ["site": "field"])
    }

    func testListAndSelect() throws {
        let store = try open()
        for (i, cls) in ["x86-avx2", "arm-dot", "x86-avx2", "x86-vnni"].enumerated() {
            XCTAssertTrue(try store.applyStateReport(report("dev-\(i)", sequence: 1, hardwareClass: cls), receivedAtMs: 1))
        }
        try store.setLabels(["site": "lab"], deviceID: "dev-0")
        try store.setLabels(["site": "field", "canary": ""], deviceID: "dev-1")
        try store.setLabels(["site": "field"], deviceID: "dev-2")
        func ids(_ selector: String) throws -> [String] {
            try store.devices(matching: LabelSelector(parsing: selector)).map(\.id)
        }
        XCTAssertEqual(try store.devices().map(\.id), ["dev-0", "dev-1", "dev-2", "dev-3"])
        XCTAssertEqual(try ids(""), ["dev-0", "dev-1", "dev-2", "dev-3"])
        XCTAssertEqual(try ids("class=x86-avx2"), ["dev-0", "dev-2"])
        XCTAssertEqual(try ids("site=field,class!=arm-dot"), ["dev-2"])
        XCTAssertEqual(try ids("site notin (lab)"), ["dev-1", "dev-2", "dev-3"])
        XCTAssertEqual(try ids("site in (lab, field), !canary"), ["dev-0", "dev-2"])
        XCTAssertEqual(try ids("canary"), ["dev-1"])
        XCTAssertEqual(try ids("id in (dev-3,dev-0)"), ["dev-0", "dev-3"])
        XCTAssertEqual(try ids("!site"), ["dev-3"])
    }

    func testRefusesUnrepresentableSequenceWithoutCrashing() throws {
        let store = try open()
        guard case .invalid(let field, _) = storeError({ try store.applyStateReport(report("d", sequence: .max), receivedAtMs: 1) }) else {
            return XCTFail()
        }
        XCTAssertEqual(field, "state report sequence")
        XCTAssertNil(try store.device("d"))
    }

    func testDevicesSurviveReopen() throws {
        var store = try open()
        XCTAssertTrue(try store.applyStateReport(report("dev-1", sequence: 9, running: running(4, status: .trial)), receivedAtMs: 5))
        XCTAssertTrue(
            try store.applyOnlineStatus(
                OnlineStatus(deviceID: "dev-1", online: true, connectionSequence: 3, hardwareClass: "x86-avx2", atMs: 0), receivedAtMs: 6))
        try store.setLabels(["site": "lab"], deviceID: "dev-1")
        let before = try store.device("dev-1")
        try store.close()
        store = try open()
        XCTAssertEqual(try store.device("dev-1"), before)
        XCTAssertFalse(try store.applyStateReport(report("dev-1", sequence: 8), receivedAtMs: 7))
        XCTAssertFalse(
            try store.applyOnlineStatus(
                OnlineStatus(deviceID: "dev-1", online: false, connectionSequence: 2, hardwareClass: "x86-avx2", atMs: 0), receivedAtMs: 8))
        try store.close()
    }
}
