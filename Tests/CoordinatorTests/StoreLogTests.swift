import FleetProtocol
import Foundation
import XCTest

@testable import Coordinator

final class StoreLogTests: StoreTestCase {
    func testEventsAreStoredOnceAndListedNewestFirst() throws {
        var store = try open()
        let failure = FailureReason(
            code: .validationFailed, detail: "accuracy 0.61 < 0.70", metric: "accuracy", measured: 0.61, threshold: 0.7)
        let events = [
            DeviceEvent(deviceID: "dev-1", sequence: 1, atMs: 100, kind: .desiredStateAccepted, releaseSequence: 2),
            DeviceEvent(
                deviceID: "dev-1", sequence: 2, atMs: 300, kind: .rolledBack, releaseSequence: 2, artifactDigest: "aa", reason: failure),
            DeviceEvent(deviceID: "dev-2", sequence: 1, atMs: 200, kind: .committed, releaseSequence: 2, artifactDigest: "bb"),
        ]
        for e in events { XCTAssertTrue(try store.insertEvent(e)) }
        // An outbox replay with the same (device, sequence) is a duplicate, whatever it says.
        XCTAssertFalse(try store.insertEvent(events[1]))
        XCTAssertFalse(try store.insertEvent(DeviceEvent(deviceID: "dev-1", sequence: 1, atMs: 999, kind: .installed)))
        XCTAssertEqual(try store.events(deviceID: nil, sinceMs: nil, limit: 10), [events[1], events[2], events[0]])
        XCTAssertEqual(try store.events(deviceID: "dev-1", sinceMs: nil, limit: 10), [events[1], events[0]])
        XCTAssertEqual(try store.events(deviceID: nil, sinceMs: 200, limit: 10), [events[1], events[2]])
        XCTAssertEqual(try store.events(deviceID: "dev-1", sinceMs: 200, limit: 10), [events[1]])
        XCTAssertEqual(try store.events(deviceID: nil, sinceMs: nil, limit: 1), [events[1]])
        try store.close()
        store = try open()
        XCTAssertEqual(try store.events(deviceID: nil, sinceMs: nil, limit: 10), [events[1], events[2], events[0]])
        XCTAssertFalse(try store.insertEvent(events[0]))
        try store.close()
    }

    func testAuditLog() throws {
        var store = try open()
        let a = try store.appendAudit(
            AuditEntry(atMs: 100, actor: "alice", action: "rollout.start", target: "rollout/r1", detailJSON: #"{"waves":"1%,100%"}"#))
        let b = try store.appendAudit(
            AuditEntry(atMs: 200, actor: "coordinator", action: "rollout.halt", target: "rollout/r1", detailJSON: #"{"class":"arm-dot"}"#))
        let c = try store.appendAudit(AuditEntry(atMs: 200, actor: "bob", action: "device.labels", target: "device/dev-1"))
        XCTAssertGreaterThan(b.id, a.id)
        XCTAssertGreaterThan(c.id, b.id)
        XCTAssertEqual(try store.auditLog(limit: 10, sinceMs: nil), [c, b, a])
        XCTAssertEqual(try store.auditLog(limit: 2, sinceMs: nil), [c, b])
        XCTAssertEqual(try store.auditLog(limit: 10, sinceMs: 150), [c, b])
        guard
            case .invalid = storeError({
                try store.appendAudit(AuditEntry(atMs: 1, actor: "x", action: "y", target: "z", detailJSON: "not json"))
            })
        else {
            return XCTFail()
        }
        guard case .invalid = storeError({ try store.appendAudit(AuditEntry(atMs: 1, actor: "", action: "y", target: "z")) }) else {
            return XCTFail()
        }
        try store.close()
        store = try open()
        XCTAssertEqual(try store.auditLog(limit: 10, sinceMs: nil), [c, b, a])
        try store.close()
    }

    func testLeaseBetweenTwoHolders() throws {
        let store = try open()
        XCTAssertTrue(try store.tryAcquireLease(name: "rollout/r1", holder: "coord-a", ttlMs: 1_000, nowMs: 10_000))
        XCTAssertEqual(try store.lease(name: "rollout/r1"), LeaseRecord(name: "rollout/r1", holder: "coord-a", expiresAtMs: 11_000))
        // Held and unexpired: the other coordinator is refused and changes nothing.
        XCTAssertFalse(try store.tryAcquireLease(name: "rollout/r1", holder: "coord-b", ttlMs: 5_000, nowMs: 10_500))
        XCTAssertEqual(try store.lease(name: "rollout/r1")?.holder, "coord-a")
        // The holder extends it.
        XCTAssertTrue(try store.tryAcquireLease(name: "rollout/r1", holder: "coord-a", ttlMs: 1_000, nowMs: 10_900))
        XCTAssertEqual(try store.lease(name: "rollout/r1")?.expiresAtMs, 11_900)
        XCTAssertFalse(try store.tryAcquireLease(name: "rollout/r1", holder: "coord-b", ttlMs: 1_000, nowMs: 11_899))
        // Expired (expiry is exclusive): the other takes it, and the first has lost it.
        XCTAssertTrue(try store.tryAcquireLease(name: "rollout/r1", holder: "coord-b", ttlMs: 1_000, nowMs: 11_900))
        XCTAssertEqual(try store.lease(name: "rollout/r1"), LeaseRecord(name: "rollout/r1", holder: "coord-b", expiresAtMs: 12_900))
        XCTAssertFalse(try store.tryAcquireLease(name: "rollout/r1", holder: "coord-a", ttlMs: 1_000, nowMs: 12_000))
        // Releasing: only the holder can; then the lease is free at once.
        XCTAssertFalse(try store.releaseLease(name: "rollout/r1", holder: "coord-a"))
        XCTAssertTrue(try store.releaseLease(name: "rollout/r1", holder: "coord-b"))
        XCTAssertNil(try store.lease(name: "rollout/r1"))
        XCTAssertTrue(try store.tryAcquireLease(name: "rollout/r1", holder: "coord-a", ttlMs: 1_000, nowMs: 12_001))
        // Leases are independent by name.
        XCTAssertTrue(try store.tryAcquireLease(name: "rollout/r2", holder: "coord-b", ttlMs: 1_000, nowMs: 12_001))
        guard case .invalid = storeError({ try store.tryAcquireLease(name: "x", holder: "a", ttlMs: 0, nowMs: 0) }) else {
            return XCTFail()
        }
        guard case .invalid = storeError({ try store.tryAcquireLease(name: "x", holder: "a", ttlMs: 10, nowMs: .max) }) else {
            return XCTFail()
        }
    }

    /// Two stores on one file play two coordinator processes sharing the database.
    func testLeaseAcrossTwoConnectionsToOneFile() throws {
        let a = try open()
        let b = try open()
        XCTAssertTrue(try a.tryAcquireLease(name: "engine", holder: "a", ttlMs: 100, nowMs: 0))
        XCTAssertFalse(try b.tryAcquireLease(name: "engine", holder: "b", ttlMs: 100, nowMs: 50))
        XCTAssertTrue(try b.tryAcquireLease(name: "engine", holder: "b", ttlMs: 100, nowMs: 100))
        XCTAssertEqual(try a.lease(name: "engine")?.holder, "b")
        try a.close()
        try b.close()
    }
}
