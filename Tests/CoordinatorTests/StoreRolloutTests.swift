import FleetProtocol
import Foundation
import XCTest

@testable import Coordinator

final class StoreRolloutTests: StoreTestCase {
    func rollout(_ id: String, createdAtMs: Int64, status: String = "running") -> RolloutRecord {
        RolloutRecord(
            id: id, modelName: "resnet", modelVersion: "1.0", releaseSequence: 1, specJSON: #"{"waves":[1,10,100]}"#,
            stateJSON: #"{"wave":0}"#, status: status, createdBy: "alice", createdAtMs: createdAtMs, updatedAtMs: createdAtMs, revision: 7)
    }

    func testInsertGetListAndActive() throws {
        let store = try open()
        _ = try store.createRelease(newRelease("1.0"))
        try store.insertRollout(rollout("r1", createdAtMs: 100))
        try store.insertRollout(rollout("r2", createdAtMs: 300, status: "completed"))
        try store.insertRollout(rollout("r3", createdAtMs: 200, status: "paused"))
        var expected = rollout("r1", createdAtMs: 100)
        expected.revision = 1
        XCTAssertEqual(try store.rollout(id: "r1"), expected)
        XCTAssertNil(try store.rollout(id: "nope"))
        XCTAssertEqual(try store.rollouts(limit: 10).map(\.id), ["r2", "r3", "r1"])
        XCTAssertEqual(try store.rollouts(limit: 2).map(\.id), ["r2", "r3"])
        XCTAssertEqual(try store.activeRollouts(statuses: ["running", "paused"]).map(\.id), ["r1", "r3"])
        XCTAssertEqual(try store.activeRollouts(statuses: []).map(\.id), [])

        guard case .conflict = storeError({ try store.insertRollout(self.rollout("r1", createdAtMs: 1)) }) else { return XCTFail() }
        var orphan = rollout("r9", createdAtMs: 1)
        orphan.modelVersion = "7.7"
        guard case .notFound(let kind, _) = storeError({ try store.insertRollout(orphan) }) else { return XCTFail() }
        XCTAssertEqual(kind, "release")
        var bad = rollout("r8", createdAtMs: 1)
        bad.stateJSON = "{"
        guard case .invalid = storeError({ try store.insertRollout(bad) }) else { return XCTFail() }
        guard case .invalid = storeError({ try store.rollouts(limit: 0) }) else { return XCTFail() }
    }

    func testOptimisticRevision() throws {
        let store = try open()
        _ = try store.createRelease(newRelease("1.0"))
        try store.insertRollout(rollout("r1", createdAtMs: 100))
        // Two coordinators read revision 1; the first write wins, the second must re-read.
        var a = try XCTUnwrap(try store.rollout(id: "r1"))
        var b = a
        a.stateJSON = #"{"wave":1}"#
        a.updatedAtMs = 150
        b.status = "halted"
        XCTAssertTrue(try store.updateRollout(a, expectedRevision: 1))
        XCTAssertFalse(try store.updateRollout(b, expectedRevision: 1))
        var stored = try XCTUnwrap(try store.rollout(id: "r1"))
        XCTAssertEqual(stored.revision, 2)
        XCTAssertEqual(stored.stateJSON, #"{"wave":1}"#)
        XCTAssertEqual(stored.status, "running")
        XCTAssertEqual(stored.updatedAtMs, 150)
        b = stored
        b.status = "halted"
        XCTAssertTrue(try store.updateRollout(b, expectedRevision: 2))
        stored = try XCTUnwrap(try store.rollout(id: "r1"))
        XCTAssertEqual(stored.revision, 3)
        XCTAssertEqual(stored.status, "halted")
        XCTAssertEqual(stored.createdAtMs, 100)
        guard case .notFound = storeError({ try store.updateRollout(self.rollout("ghost", createdAtMs: 0), expectedRevision: 1) }) else {
            return XCTFail()
        }
    }

    func testDesiredSequencesStrictlyIncreaseAcrossReopen() throws {
        var store = try open()
        XCTAssertEqual(try store.allocateDesiredSequence(deviceID: "dev-1"), 1)
        XCTAssertEqual(try store.allocateDesiredSequence(deviceID: "dev-1"), 2)
        XCTAssertEqual(try store.allocateDesiredSequence(deviceID: "dev-2"), 1)
        try store.close()
        store = try open()
        XCTAssertEqual(try store.allocateDesiredSequence(deviceID: "dev-1"), 3)
        // A device that accepted a higher sequence (database restored from an old backup)
        // gets one above it.
        XCTAssertTrue(try store.applyStateReport(report("dev-2", sequence: 1, desiredSequence: 40), receivedAtMs: 1))
        XCTAssertEqual(try store.allocateDesiredSequence(deviceID: "dev-2"), 41)
        XCTAssertEqual(try store.allocateDesiredSequence(deviceID: "dev-2"), 42)
        try store.close()
    }

    func testSaveGetAndListDesiredStates() throws {
        var store = try open()
        let payload = Data((0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let s1 = try store.allocateDesiredSequence(deviceID: "dev-1")
        let s2 = try store.allocateDesiredSequence(deviceID: "dev-1")
        let later = DesiredStateRecord(
            deviceID: "dev-1", sequence: s2, payload: payload, rolloutID: "r1", releaseSequence: 2, issuedAtMs: 500)
        let earlier = DesiredStateRecord(
            deviceID: "dev-1", sequence: s1, payload: Data([1]), rolloutID: "r1", releaseSequence: 1, issuedAtMs: 400)
        XCTAssertTrue(try store.saveDesiredState(later))
        // Saved out of order (two writers): the later one stays.
        XCTAssertFalse(try store.saveDesiredState(earlier))
        XCTAssertFalse(try store.saveDesiredState(later))
        XCTAssertEqual(try store.desiredState(deviceID: "dev-1"), later)

        let s3 = try store.allocateDesiredSequence(deviceID: "dev-0")
        let other = DesiredStateRecord(
            deviceID: "dev-0", sequence: s3, payload: Data([9, 9]), rolloutID: "r1", releaseSequence: nil, issuedAtMs: 600)
        XCTAssertTrue(try store.saveDesiredState(other))
        // Allocated but never saved: not listed.
        _ = try store.allocateDesiredSequence(deviceID: "dev-5")
        XCTAssertNil(try store.desiredState(deviceID: "dev-5"))
        XCTAssertEqual(try store.desiredStates(rolloutID: "r1"), [other, later])
        XCTAssertEqual(try store.desiredStates(rolloutID: "r2"), [])

        guard
            case .invalid = storeError({
                try store.saveDesiredState(
                    DesiredStateRecord(deviceID: "dev-1", sequence: 3, payload: Data(), rolloutID: nil, releaseSequence: nil, issuedAtMs: 0)
                )
            })
        else { return XCTFail("saved a sequence never allocated") }
        guard
            case .invalid = storeError({
                try store.saveDesiredState(
                    DesiredStateRecord(deviceID: "dev-9", sequence: 1, payload: Data(), rolloutID: nil, releaseSequence: nil, issuedAtMs: 0)
                )
            })
        else { return XCTFail("saved for a device without allocation") }

        try store.close()
        store = try open()
        XCTAssertEqual(try store.desiredState(deviceID: "dev-1"), later)
        XCTAssertEqual(try store.desiredStates(rolloutID: "r1"), [other, later])
        try store.close()
    }

    func testRolloutSurvivesReopen() throws {
        var store = try open()
        _ = try store.createRelease(newRelease("1.0"))
        try store.insertRollout(rollout("r1", createdAtMs: 100))
        var r = try XCTUnwrap(try store.rollout(id: "r1"))
        r.stateJSON = #"{"wave":2,"soakStartedAtMs":900}"#
        XCTAssertTrue(try store.updateRollout(r, expectedRevision: r.revision))
        try store.close()
        store = try open()
        let reopened = try XCTUnwrap(try store.rollout(id: "r1"))
        XCTAssertEqual(reopened.stateJSON, #"{"wave":2,"soakStartedAtMs":900}"#)
        XCTAssertEqual(reopened.revision, 2)
        XCTAssertEqual(try store.activeRollouts(statuses: ["running"]).map(\.id), ["r1"])
        try store.close()
    }
}
