import Coordinator
import Foundation
import XCTest

/// `CoordinatorBackup` against a running coordinator with real agents: the backup taken while
/// it works restores to the same devices, releases, rollouts, keys and artifacts.
final class ServiceBackupTests: XCTestCase {
    var harness: ServiceHarness?

    override func tearDown() async throws {
        await harness?.shutdown()
    }

    static let gate = APIGateOptions(minDevices: 1, minSuccessRate: 1, maxP95Ratio: 3, maxAccuracyDrop: 0.05, gateTimeoutSeconds: 60)

    /// A fleet of two that completed a rollout of v1, and v2 built (not rolled out).
    func runningFleet() async throws -> ServiceHarness {
        let h = try await ServiceHarness()
        harness = h
        let service = try await h.startCoordinator()
        try await h.startAgent("x86-0", hardwareClass: "x86_64-avx2")
        try await h.startAgent("arm-0", hardwareClass: "arm64-dotprod")
        let registered = try await h.eventually(30) { try h.store().devices().count == 2 }
        XCTAssertTrue(registered, h.snapshot())
        _ = try h.addRelease(version: "1")
        let request = APIRolloutRequest(modelName: "digits", version: "1", target: "", waves: [1], soakSeconds: 1, gate: Self.gate)
        let started = try await service.startRollout(request, actor: "alice")
        let done = try await h.eventually(90) { try await service.rollout(id: started.id, actor: "tests").status == "completed" }
        XCTAssertTrue(done, h.snapshot())
        _ = try h.addRelease(version: "2", seed: 2)
        return h
    }

    func testBackupWhileRunningRestoresTheSameFleet() async throws {
        let h = try await runningFleet()
        let live = try h.store()
        let archive = h.root.appendingPathComponent("backup.tar")

        // Writes keep landing during the backup (telemetry every second from both agents, and
        // this writer): the snapshot must hold a prefix of them, never a torn state.
        let writer = Task.detached { () -> Int in
            var written = 0
            while !Task.isCancelled {
                _ = try? live.appendAudit(AuditEntry(atMs: Int64(written), actor: "tests", action: "test.write", target: "n/\(written)"))
                written += 1
            }
            return written
        }
        let source = try SQLiteStore.openForBackup(dataDirectory: h.coordinatorData)
        let manifest = try CoordinatorBackup.create(store: source, dataDirectory: h.coordinatorData, to: archive)
        try source.close()
        writer.cancel()
        let written = await writer.value
        XCTAssertGreaterThan(written, 0)

        let attributes = try FileManager.default.attributesOfItem(atPath: archive.path)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600, "the archive holds the private signing keys")
        XCTAssertEqual(manifest.devices, 2)
        XCTAssertEqual(manifest.releases, 2)
        XCTAssertEqual(manifest.rollouts, 1)
        XCTAssertTrue(manifest.files.contains { $0.path.hasPrefix("keys/") && $0.path.hasSuffix(".key") }, "\(manifest.files.map(\.path))")

        let restoredDirectory = h.root.appendingPathComponent("restored")
        let restoredManifest = try CoordinatorBackup.restore(from: archive, to: restoredDirectory, replace: false)
        XCTAssertEqual(restoredManifest, manifest)
        let keysMode = try FileManager.default.attributesOfItem(atPath: restoredDirectory.appendingPathComponent("keys").path)[
            .posixPermissions]
        XCTAssertEqual((keysMode as? NSNumber)?.intValue, 0o700)
        let restored = try SQLiteStore(dataDirectory: restoredDirectory)
        defer { try? restored.close() }
        XCTAssertEqual(try restored.integrityCheck(), "ok")

        // The rollout completed before the backup, so these no longer change in the live store
        // (only last-seen times and telemetry do).
        XCTAssertEqual(try restored.releases(name: nil), try live.releases(name: nil))
        XCTAssertEqual(try restored.rollouts(limit: 100), try live.rollouts(limit: 100))
        XCTAssertEqual(try restored.devices().map(\.id), try live.devices().map(\.id))
        XCTAssertEqual(try restored.devices().map(\.running), try live.devices().map(\.running))
        for variant in try live.variants(name: "digits", version: "1") + live.variants(name: "digits", version: "2") {
            XCTAssertEqual(try restored.variant(artifactDigest: variant.artifactDigest), variant)
            XCTAssertEqual(
                try Data(contentsOf: restoredDirectory.appendingPathComponent(variant.artifactPath)),
                try Data(contentsOf: h.coordinatorData.appendingPathComponent(variant.artifactPath)), variant.artifactPath)
        }
        XCTAssertEqual(
            try SigningKeyring.open(dataDirectory: restoredDirectory).activeKeyID,
            try SigningKeyring.open(dataDirectory: h.coordinatorData).activeKeyID)

        // The test writes in the copy are exactly the first ones, without a gap.
        let copied = try restored.auditLog(limit: 1_000_000, sinceMs: nil).filter { $0.action == "test.write" }.map(\.target)
        XCTAssertEqual(Set(copied), Set((0..<copied.count).map { "n/\($0)" }))
        XCTAssertLessThanOrEqual(copied.count, written)
    }

    func testRestoreRefusesADamagedArchiveAndAnOccupiedDirectory() async throws {
        let h = try await runningFleet()
        let archive = h.root.appendingPathComponent("backup.tar")
        let source = try SQLiteStore.openForBackup(dataDirectory: h.coordinatorData)
        try CoordinatorBackup.create(store: source, dataDirectory: h.coordinatorData, to: archive)
        try source.close()
        XCTAssertThrowsError(try CoordinatorBackup.create(store: try h.store(), dataDirectory: h.coordinatorData, to: archive)) { error in
            XCTAssertTrue("\(error)".contains("exists already"), "\(error)")
        }

        // Into the live data directory: refused without replace.
        XCTAssertThrowsError(try CoordinatorBackup.restore(from: archive, to: h.coordinatorData, replace: false)) { error in
            XCTAssertEqual(error as? BackupError, .dataDirectoryInUse(path: h.coordinatorData.standardizedFileURL.path))
        }

        // One artifact byte changed and the archive rebuilt: the checksum names the file.
        let unpacked = h.root.appendingPathComponent("unpacked")
        try FileManager.default.createDirectory(at: unpacked, withIntermediateDirectories: true)
        XCTAssertEqual(try Self.tar(["-xf", archive.path, "-C", unpacked.path]), 0)
        let variant = try XCTUnwrap(try h.store().variants(name: "digits", version: "1").first)
        let artifact = unpacked.appendingPathComponent(variant.artifactPath)
        var bytes = try Data(contentsOf: artifact)
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: artifact)
        let damaged = h.root.appendingPathComponent("damaged.tar")
        let members = try FileManager.default.contentsOfDirectory(atPath: unpacked.path)
        XCTAssertEqual(try Self.tar(["-cf", damaged.path, "-C", unpacked.path] + members), 0)
        let target = h.root.appendingPathComponent("restore-damaged")
        XCTAssertThrowsError(try CoordinatorBackup.restore(from: damaged, to: target, replace: false)) { error in
            XCTAssertTrue("\(error)".contains(variant.artifactPath), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: target.appendingPathComponent("coordinator.sqlite").path))

        // Not a tar archive at all.
        let garbage = h.root.appendingPathComponent("garbage.tar")
        try Data(repeating: 7, count: 1000).write(to: garbage)
        XCTAssertThrowsError(try CoordinatorBackup.restore(from: garbage, to: target, replace: false)) { error in
            guard case .invalidArchive = error as? BackupError else { return XCTFail("\(error)") }
        }

        // With replace, over a directory that has something in it: the old one is kept aside.
        let occupied = h.root.appendingPathComponent("occupied")
        try FileManager.default.createDirectory(at: occupied, withIntermediateDirectories: true)
        try Data("old".utf8).write(to: occupied.appendingPathComponent("marker"))
        try CoordinatorBackup.restore(from: archive, to: occupied, replace: true)
        XCTAssertTrue(FileManager.default.fileExists(atPath: occupied.appendingPathComponent("coordinator.sqlite").path))
        let aside = try FileManager.default.contentsOfDirectory(atPath: h.root.path).filter { $0.hasPrefix("occupied.before-restore-") }
        XCTAssertEqual(aside.count, 1)
        XCTAssertEqual(
            try Data(contentsOf: h.root.appendingPathComponent(aside[0]).appendingPathComponent("marker")), Data("old".utf8))
    }

    static func tar(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["tar"] + arguments
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
