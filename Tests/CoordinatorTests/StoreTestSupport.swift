import FleetProtocol
import Foundation
import XCTest

@testable import Coordinator

/// A fresh data directory per test, removed afterwards; `open()` opens (or reopens) the store
/// in it, so a test can close and reopen to play a coordinator restart.
class StoreTestCase: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-store-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    func open() throws -> SQLiteStore {
        try SQLiteStore(dataDirectory: directory)
    }

    func report(
        _ id: String, sequence: UInt64, hardwareClass: String = "x86-avx2", running: RunningModel? = nil, phase: String = "idle",
        desiredSequence: UInt64? = nil, rollback: RollbackRecord? = nil
    ) -> DeviceStateReport {
        DeviceStateReport(
            deviceID: id, hardwareClass: hardwareClass, agentVersion: "1.0.\(sequence)", sequence: sequence,
            reportedAtMs: 1_000 + Int64(truncatingIfNeeded: sequence % 1_000_000), running: running, phase: phase,
            pendingReleaseSequence: nil,
            desiredSequence: desiredSequence, lastRollback: rollback)
    }

    func running(_ sequence: UInt64, digest: String = "d1", status: RunningModel.Status = .committed) -> RunningModel {
        RunningModel(
            modelName: "resnet", modelVersion: "1.\(sequence)", releaseSequence: sequence, artifactDigest: digest, slot: .b, status: status)
    }

    func newRelease(_ version: String, name: String = "resnet") -> NewRelease {
        NewRelease(
            name: name, version: version, createdBy: "alice", createdAtMs: 5_000, sourceSHA256: String(repeating: "ab", count: 32),
            optionsJSON: #"{"budget":0.01}"#)
    }

    /// The error a throwing call threw, as a StoreError (fails the test if it did not throw one).
    func storeError<T>(_ body: () throws -> T, file: StaticString = #filePath, line: UInt = #line) -> StoreError? {
        do {
            _ = try body()
            XCTFail("expected a StoreError", file: file, line: line)
        } catch let error as StoreError {
            return error
        } catch {
            XCTFail("expected a StoreError, got \(error)", file: file, line: line)
        }
        return nil
    }
}
